import { DEFAULT_MAX_MESSAGE_SIZE, parseOptions } from '@peerkit/core'
import { z } from 'zod'

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

/** An integer option: at least `min` (and at most `max`, when given; zod's `int()` keeps it a safe integer). */
function int(min: number, fallback: number, max?: number) {
  const n = z.number().int().min(min)
  return (max === undefined ? n : n.max(max)).default(fallback)
}

/** The schema of `options.tcp`: every field's bounds and default (documented on `TcpTransportOptions`). */
export const tcpTransportOptionsSchema = z
  .object({
    maxMessageSize: int(1, DEFAULT_MAX_MESSAGE_SIZE, 2 ** 32 - 1),
    handshakeTimeout: int(1, DEFAULT_HANDSHAKE_TIMEOUT),
    maxHandshakes: int(1, DEFAULT_MAX_HANDSHAKES),
    maxHandshakesPerAddress: int(1, DEFAULT_MAX_HANDSHAKES_PER_ADDRESS),
    maxHandshakesPerSubnet: int(1, DEFAULT_MAX_HANDSHAKES_PER_SUBNET),
    maxConnectionsPerAddress: int(1, DEFAULT_MAX_CONNECTIONS_PER_ADDRESS),
    maxConnectionsPerSubnet: int(1, DEFAULT_MAX_CONNECTIONS_PER_SUBNET),
    messageTimeout: int(1, DEFAULT_MESSAGE_TIMEOUT),
    highWaterMark: int(1024, DEFAULT_HIGH_WATER_MARK),
    recordSize: int(1024, DEFAULT_RECORD_SIZE, MAX_RECORD_SIZE),
    cipher: z.enum(CIPHERS as [TcpCipher, ...TcpCipher[]]).default(DEFAULT_CIPHER),
    offload: z.boolean().default(false),
    noDelay: z.boolean().default(true),
    closeTimeout: int(0, DEFAULT_CLOSE_TIMEOUT),
  })
  .strict()

/** Validates `tcp` options, fills in defaults and freezes them; throws `InvalidOptionsError` naming the field. */
export function parseTcpTransportOptions(input: unknown = {}): ParsedTcpTransportOptions {
  return parseOptions(tcpTransportOptionsSchema, input ?? {}, 'tcp')
}
