import { DEFAULT_MAX_MESSAGE_SIZE, isPeerId, type PeerId, parseOptions } from '@peerkit/core'
import { z } from 'zod'

/** Bytes of message carried by one data channel message, at most, by default (64 KiB minus the header). */
export const DEFAULT_FRAGMENT_SIZE = 64 * 1024
/** The smallest data channel message every WebRTC stack accepts is 16 KiB; libdatachannel's limit is 256 KiB. */
export const MIN_FRAGMENT_SIZE = 1024
export const MAX_FRAGMENT_SIZE = 256 * 1024
export const DEFAULT_HIGH_WATER_MARK = 4 * 1024 * 1024
export const DEFAULT_CONNECT_TIMEOUT = 10_000
export const DEFAULT_CLOSE_TIMEOUT = 5_000

/** Options of the `webrtc` transport (`config.options.webrtc`). */
export interface WebRtcTransportOptions {
  /**
   * STUN/TURN servers, as libdatachannel URLs (`stun:stun.example.org:3478`,
   * `turn:user:pass@turn.example.org:3478`). None are needed between peers
   * that reach each other directly (one host, one LAN).
   * @default []
   */
  iceServers?: string[]
  /**
   * Local address ICE binds to and offers as a host candidate (`127.0.0.1`
   * keeps every connection on the loopback interface). Empty: all interfaces.
   * @default ''
   */
  bindAddress?: string
  /**
   * Largest message, in bytes, that a connection sends or accepts. A message
   * whose fragments add up to more closes the connection with `ProtocolError`.
   * @default 4194304 (core's DEFAULT_MAX_MESSAGE_SIZE, 4 MiB)
   */
  maxMessageSize?: number
  /**
   * Bytes of a message carried by one data channel message; larger messages
   * are cut into fragments of this size, each with a 1-byte header.
   * Must fit the SCTP message size limit (libdatachannel: 256 KiB).
   * @default 65536 (64 KiB)
   */
  fragmentSize?: number
  /**
   * Bytes a connection's data channel may hold buffered for sending
   * (`bufferedAmount`). `send` waits, through `onBufferedAmountLow`, while it
   * is reached, so a fast sender never queues unbounded data.
   * @default 4194304 (4 MiB)
   */
  highWaterMark?: number
  /**
   * Milliseconds (on the injected Clock) from a dial's first offer to an
   * open, authenticated data channel; then the attempt fails with `TimeoutError`.
   * @default 10000
   */
  connectTimeout?: number
  /**
   * Milliseconds `close()` waits for buffered data to leave before it resets
   * the channel.
   * @default 5000
   */
  closeTimeout?: number
  /**
   * PeerIds of peers to ask first to relay offers (they must be connected or
   * have known addresses). After them, every connected peer is tried.
   * @default []
   */
  relays?: PeerId[]
}

export type ParsedWebRtcTransportOptions = Readonly<{
  iceServers: readonly string[]
  bindAddress: string
  maxMessageSize: number
  fragmentSize: number
  highWaterMark: number
  connectTimeout: number
  closeTimeout: number
  relays: readonly PeerId[]
}>

/** An integer option: at least `min` (and at most `max`, when given; zod's `int()` keeps it a safe integer). */
function int(min: number, fallback: number, max?: number) {
  const n = z.number().int().min(min)
  return (max === undefined ? n : n.max(max)).default(fallback)
}

/** The schema of `options.webrtc`: every field's bounds and default (documented on `WebRtcTransportOptions`). */
export const webRtcTransportOptionsSchema = z
  .object({
    iceServers: z.array(z.string().regex(/^(stun|turns?):\S+$/, 'a stun: or turn: URL')).default([]),
    bindAddress: z.string().default(''),
    maxMessageSize: int(1, DEFAULT_MAX_MESSAGE_SIZE, 2 ** 32 - 1),
    fragmentSize: int(MIN_FRAGMENT_SIZE, DEFAULT_FRAGMENT_SIZE, MAX_FRAGMENT_SIZE - 1),
    highWaterMark: int(MIN_FRAGMENT_SIZE + 1, DEFAULT_HIGH_WATER_MARK),
    connectTimeout: int(1, DEFAULT_CONNECT_TIMEOUT),
    closeTimeout: int(0, DEFAULT_CLOSE_TIMEOUT),
    relays: z.array(z.string().refine(isPeerId, 'a PeerId')).default([]),
  })
  .strict()
  .check((ctx) => {
    const o = ctx.value
    if (o.highWaterMark <= o.fragmentSize)
      ctx.issues.push({
        code: 'custom',
        path: ['highWaterMark'],
        message: `greater than webrtc.fragmentSize = ${o.fragmentSize}`,
        input: o.highWaterMark,
      })
  })

/** Validates `webrtc` options, fills in defaults and freezes them; throws `InvalidOptionsError` naming the field. */
export function parseWebRtcTransportOptions(input: unknown = {}): ParsedWebRtcTransportOptions {
  return parseOptions(webRtcTransportOptionsSchema, input ?? {}, 'webrtc')
}
