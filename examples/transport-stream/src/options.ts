// src/options.ts
import { DEFAULT_MAX_MESSAGE_SIZE, parseOptions } from '@peerkit/core'
import {
  CIPHERS,
  DEFAULT_CIPHER,
  DEFAULT_HANDSHAKE_TIMEOUT,
  type TcpCipher,
} from '@peerkit/transport-tcp/secure'
import { z } from 'zod'

/** Options of the `stream` transport (`config.options.stream`). */
export const streamTransportOptionsSchema = z
  .object({
    /** Largest message, in bytes, sent or accepted. @default 4194304 (4 MiB) */
    maxMessageSize: z
      .number()
      .int()
      .min(1)
      .max(256 * 1024 * 1024)
      .default(DEFAULT_MAX_MESSAGE_SIZE),
    /** Milliseconds for the WebSocket upgrade and the handshake together. @default 10000 */
    handshakeTimeout: z.number().int().min(1).max(600_000).default(DEFAULT_HANDSHAKE_TIMEOUT),
    /** Inbound handshakes one listener runs at once; more are refused (`RateLimitError`). @default 64 */
    maxHandshakes: z.number().int().min(1).max(100_000).default(64),
    /** Bytes a connection sends ahead of the socket before `send` waits. @default 1048576 (1 MiB) */
    highWaterMark: z
      .number()
      .int()
      .min(1)
      .max(1024 * 1024 * 1024)
      .default(1024 * 1024),
    /** Milliseconds a closing connection waits for the other side's close frame. @default 2000 */
    closeTimeout: z.number().int().min(0).max(600_000).default(2000),
    /** The AEAD proposed when dialing (the listener uses the dialer's). @default 'aes-256-gcm' */
    cipher: z.enum(CIPHERS as [TcpCipher, ...TcpCipher[]]).default(DEFAULT_CIPHER),
  })
  .strict()

export type StreamTransportOptions = z.input<typeof streamTransportOptionsSchema>
export type ResolvedStreamTransportOptions = Readonly<z.output<typeof streamTransportOptionsSchema>>

/** Fills the defaults, checks, and freezes; throws `InvalidOptionsError` in core's one format, naming the field. */
export function parseStreamTransportOptions(input?: unknown): ResolvedStreamTransportOptions {
  return parseOptions(streamTransportOptionsSchema, input ?? {}, 'stream')
}
