import { DEFAULT_MAX_MESSAGE_SIZE, InvalidOptionsError, isPeerId, type PeerId } from '@peerkit/core'

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

const KNOWN = new Set([
  'iceServers',
  'bindAddress',
  'maxMessageSize',
  'fragmentSize',
  'highWaterMark',
  'connectTimeout',
  'closeTimeout',
  'relays',
])

function integer(field: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `between ${min} and ${max}`
    throw new InvalidOptionsError(
      `webrtc.${field} must be an integer ${range} (got ${JSON.stringify(value)})`,
    )
  }
  return value
}

function strings(field: string, value: unknown, check: (s: string) => boolean, what: string): string[] {
  if (!Array.isArray(value) || !value.every((s) => typeof s === 'string' && check(s))) {
    throw new InvalidOptionsError(
      `webrtc.${field} must be an array of ${what} (got ${JSON.stringify(value)})`,
    )
  }
  return [...value]
}

/** Validates `webrtc` options, fills in defaults and freezes them; throws `InvalidOptionsError` naming the field. */
export function parseWebRtcTransportOptions(input: unknown = {}): ParsedWebRtcTransportOptions {
  if (input === undefined || input === null) input = {}
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new InvalidOptionsError(`webrtc options must be an object (got ${JSON.stringify(input)})`)
  }
  const o = input as Record<string, unknown>
  for (const key of Object.keys(o)) {
    if (!KNOWN.has(key)) {
      throw new InvalidOptionsError(`webrtc.${key} is not an option; known: ${[...KNOWN].join(', ')}`)
    }
  }
  const bindAddress = o.bindAddress ?? ''
  if (typeof bindAddress !== 'string') {
    throw new InvalidOptionsError(`webrtc.bindAddress must be a string (got ${JSON.stringify(bindAddress)})`)
  }
  const maxMessageSize = integer(
    'maxMessageSize',
    o.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE,
    1,
    2 ** 32 - 1,
  )
  const fragmentSize = integer(
    'fragmentSize',
    o.fragmentSize ?? DEFAULT_FRAGMENT_SIZE,
    MIN_FRAGMENT_SIZE,
    MAX_FRAGMENT_SIZE - 1,
  )
  return Object.freeze({
    iceServers: Object.freeze(
      strings('iceServers', o.iceServers ?? [], (s) => /^(stun|turns?):\S+$/.test(s), 'stun: or turn: URLs'),
    ),
    bindAddress,
    maxMessageSize,
    fragmentSize,
    highWaterMark: integer('highWaterMark', o.highWaterMark ?? DEFAULT_HIGH_WATER_MARK, fragmentSize + 1),
    connectTimeout: integer('connectTimeout', o.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT, 1),
    closeTimeout: integer('closeTimeout', o.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT, 0),
    relays: Object.freeze(strings('relays', o.relays ?? [], isPeerId, 'PeerIds')),
  })
}
