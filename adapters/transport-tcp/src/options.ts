import { DEFAULT_MAX_MESSAGE_SIZE, InvalidOptionsError } from '@peerkit/core'

/** The AEADs a connection can be encrypted with. */
export type TcpCipher = 'aes-256-gcm' | 'chacha20-poly1305'

export const CIPHERS: readonly TcpCipher[] = ['aes-256-gcm', 'chacha20-poly1305']

/** The largest record plaintext the wire allows (1 MiB); a larger record is a protocol error. */
export const MAX_RECORD_SIZE = 1024 * 1024

export const DEFAULT_HANDSHAKE_TIMEOUT = 10_000
export const DEFAULT_HIGH_WATER_MARK = 4 * 1024 * 1024
export const DEFAULT_RECORD_SIZE = MAX_RECORD_SIZE
export const DEFAULT_CIPHER: TcpCipher = 'aes-256-gcm'
export const DEFAULT_CLOSE_TIMEOUT = 5_000
export const DEFAULT_MAX_HANDSHAKES = 128
export const DEFAULT_MAX_HANDSHAKES_PER_ADDRESS = 32
export const DEFAULT_MAX_HANDSHAKES_PER_SUBNET = 64
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 128
export const DEFAULT_MAX_CONNECTIONS_PER_SUBNET = 512
export const DEFAULT_MESSAGE_TIMEOUT = 60_000

/** Options of the `tcp` transport (`config.options.tcp`). */
export interface TcpTransportOptions {
  /**
   * Largest message, in bytes, that a connection sends or accepts. A frame
   * announcing more closes the connection with `ProtocolError` before any of
   * it is buffered.
   * @default 4194304 (core's DEFAULT_MAX_MESSAGE_SIZE, 4 MiB)
   */
  maxMessageSize?: number
  /**
   * Milliseconds (on the injected Clock) a connection may take from TCP
   * connect to a verified handshake; then it fails with `TimeoutError`.
   * @default 10000
   */
  handshakeTimeout?: number
  /**
   * Inbound handshakes one listener runs at once. A connection accepted
   * beyond it is closed at once and the listener emits `RateLimitError`
   * (connections that never finish their handshake cannot pile up in
   * memory until `handshakeTimeout`).
   * @default 128
   */
  maxHandshakes?: number
  /**
   * Inbound handshakes one source address runs at once on a listener; a
   * connection beyond them is closed at once with `RateLimitError` (one
   * address cannot take every `maxHandshakes` slot).
   * @default 32
   */
  maxHandshakesPerAddress?: number
  /**
   * Inbound handshakes one source network (an IPv4 /24, an IPv6 /64) runs at
   * once on a listener.
   * @default 64
   */
  maxHandshakesPerSubnet?: number
  /**
   * Established inbound connections from one source address on a listener;
   * a connection beyond them is closed after its handshake with `RateLimitError`.
   * @default 128
   */
  maxConnectionsPerAddress?: number
  /**
   * Established inbound connections from one source network (IPv4 /24, IPv6 /64) on a listener.
   * @default 512
   */
  maxConnectionsPerSubnet?: number
  /**
   * Milliseconds (on the injected Clock) a message may take from its first
   * byte to its last; a connection holding part of one for longer is closed
   * with `ProtocolError` (a peer cannot park `maxMessageSize` bytes per
   * connection for ever).
   * @default 60000
   */
  messageTimeout?: number
  /**
   * Bound, in bytes, on what one connection holds for sending (plaintext
   * waiting for encryption, records being encrypted, and the socket's write
   * buffer). `send` waits while the bound is reached; incoming records being
   * decrypted are bounded the same way by pausing the socket.
   * @default 4194304 (4 MiB)
   */
  highWaterMark?: number
  /**
   * Largest plaintext of one encrypted record, in bytes (1 KiB … 1 MiB).
   * Small messages sent together share a record; a message that would
   * straddle two records starts a new one; larger ones span several.
   * @default 1048576 (1 MiB)
   */
  recordSize?: number
  /**
   * AEAD proposed when dialing (the dialer's choice is used; every peer
   * supports both). AES-256-GCM is the faster with AES-NI and can be
   * encrypted on the thread pool; ChaCha20-Poly1305 suits CPUs without AES
   * instructions.
   * @default 'aes-256-gcm'
   */
  cipher?: TcpCipher
  /**
   * Encrypt and decrypt large AES-256-GCM records (>= 16 KiB) on libuv's
   * thread pool (WebCrypto) instead of the main thread. Measured here it
   * costs 2–3 times the CPU of inline node:crypto and is slower (see the
   * README), so it is off; it may pay on a machine with idle cores to spare.
   * @default false
   */
  offload?: boolean
  /**
   * Disable Nagle's algorithm (`socket.setNoDelay`).
   * @default true
   */
  noDelay?: boolean
  /**
   * Milliseconds to wait for queued data to be flushed and the remote to
   * acknowledge a graceful `close()` before the socket is destroyed.
   * @default 5000
   */
  closeTimeout?: number
}

export type ParsedTcpTransportOptions = Readonly<Required<TcpTransportOptions>>

function integer(field: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `between ${min} and ${max}`
    throw new InvalidOptionsError(`tcp.${field} must be an integer ${range} (got ${JSON.stringify(value)})`)
  }
  return value
}

function boolean(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw new InvalidOptionsError(`tcp.${field} must be true or false (got ${JSON.stringify(value)})`)
  }
  return value
}

const KNOWN = new Set([
  'maxMessageSize',
  'handshakeTimeout',
  'maxHandshakes',
  'maxHandshakesPerAddress',
  'maxHandshakesPerSubnet',
  'maxConnectionsPerAddress',
  'maxConnectionsPerSubnet',
  'messageTimeout',
  'highWaterMark',
  'recordSize',
  'cipher',
  'offload',
  'noDelay',
  'closeTimeout',
])

/** Validates `tcp` options, fills in defaults and freezes them; throws `InvalidOptionsError` naming the field. */
export function parseTcpTransportOptions(input: unknown = {}): ParsedTcpTransportOptions {
  if (input === undefined || input === null) input = {}
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new InvalidOptionsError(`tcp options must be an object (got ${JSON.stringify(input)})`)
  }
  const o = input as Record<string, unknown>
  for (const key of Object.keys(o)) {
    if (!KNOWN.has(key)) {
      throw new InvalidOptionsError(`tcp.${key} is not an option; known: ${[...KNOWN].join(', ')}`)
    }
  }
  const cipher = o.cipher ?? DEFAULT_CIPHER
  if (!CIPHERS.includes(cipher as TcpCipher)) {
    throw new InvalidOptionsError(
      `tcp.cipher must be one of ${CIPHERS.map((c) => `'${c}'`).join(', ')} (got ${JSON.stringify(cipher)})`,
    )
  }
  return Object.freeze({
    maxMessageSize: integer('maxMessageSize', o.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE, 1, 2 ** 32 - 1),
    handshakeTimeout: integer('handshakeTimeout', o.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT, 1),
    maxHandshakes: integer('maxHandshakes', o.maxHandshakes ?? DEFAULT_MAX_HANDSHAKES, 1),
    maxHandshakesPerAddress: integer(
      'maxHandshakesPerAddress',
      o.maxHandshakesPerAddress ?? DEFAULT_MAX_HANDSHAKES_PER_ADDRESS,
      1,
    ),
    maxHandshakesPerSubnet: integer(
      'maxHandshakesPerSubnet',
      o.maxHandshakesPerSubnet ?? DEFAULT_MAX_HANDSHAKES_PER_SUBNET,
      1,
    ),
    maxConnectionsPerAddress: integer(
      'maxConnectionsPerAddress',
      o.maxConnectionsPerAddress ?? DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
      1,
    ),
    maxConnectionsPerSubnet: integer(
      'maxConnectionsPerSubnet',
      o.maxConnectionsPerSubnet ?? DEFAULT_MAX_CONNECTIONS_PER_SUBNET,
      1,
    ),
    messageTimeout: integer('messageTimeout', o.messageTimeout ?? DEFAULT_MESSAGE_TIMEOUT, 1),
    highWaterMark: integer('highWaterMark', o.highWaterMark ?? DEFAULT_HIGH_WATER_MARK, 1024),
    recordSize: integer('recordSize', o.recordSize ?? DEFAULT_RECORD_SIZE, 1024, MAX_RECORD_SIZE),
    cipher: cipher as TcpCipher,
    offload: boolean('offload', o.offload ?? false),
    noDelay: boolean('noDelay', o.noDelay ?? true),
    closeTimeout: integer('closeTimeout', o.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT, 0),
  })
}
