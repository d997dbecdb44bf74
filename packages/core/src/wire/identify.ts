import { z } from 'zod'
import { defineProtocol } from './protocol.js'
import { addressSchema, LIMITS } from './schemas.js'

/**
 * The version of the multiplexer this peer speaks, told in identify. 2 knows
 * the draining close (`Kind.GoAway`); a peer that tells none speaks 1 and is
 * closed without one (it would close the connection on the unknown kind). A
 * peer whose identify has not been read yet gets one: it is most likely of
 * this version, and an older one only closes the connection.
 */
export const MUX_VERSION = 2

/**
 * Each side tells the other the addresses it listens on, and the version of
 * the multiplexer it speaks (`mux`, absent from peers before version 2: an
 * older peer's schema drops the field), right after connecting. The `Network`
 * speaks it by itself; it is here for code that speaks the wire by hand
 * (attack tests).
 */
export const IDENTIFY = defineProtocol(
  'peerkit/identify/1',
  z.object({
    addresses: z.array(addressSchema).max(LIMITS.addresses),
    mux: z.number().int().min(1).max(65_535).optional(),
  }),
  z.null(),
)
