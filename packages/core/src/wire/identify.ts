import { z } from 'zod'
import { defineProtocol } from './protocol.js'
import { addressSchema, LIMITS } from './schemas.js'

/**
 * Each side tells the other the addresses it listens on, right after
 * connecting. The `Network` speaks it by itself; it is here for code that
 * speaks the wire by hand (attack tests).
 */
export const IDENTIFY = defineProtocol(
  'peerkit/identify/1',
  z.object({ addresses: z.array(addressSchema).max(LIMITS.addresses) }),
  z.null(),
)
