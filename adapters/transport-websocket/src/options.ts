import { DEFAULT_MAX_MESSAGE_SIZE, parseOptions } from '@peerkit/core'
import { CIPHERS, type TcpCipher } from '@peerkit/transport-tcp/secure'
import { z } from 'zod'

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.number().int().min(min).max(max)

/**
 * Options of the `ws` transport (`config.options.ws`). The limits are tcp's,
 * with the same defaults: a browser tab reaches a site's bootstrap peers
 * through them, so they face the open Internet.
 */
export const webSocketTransportOptionsSchema = z
  .object({
    /** Largest message, in bytes, sent or accepted; a WebSocket frame announcing more is refused before it is read (ws's maxPayload). @default 4194304 */
    maxMessageSize: int(1, 2 ** 32 - 1).default(DEFAULT_MAX_MESSAGE_SIZE),
    /** Milliseconds from TCP connect to a verified peerkit handshake (HTTP upgrade included). @default 10000 */
    handshakeTimeout: int(1).default(10_000),
    /** Inbound connections one listener holds before their handshake is done (HTTP upgrade included). @default 128 */
    maxHandshakes: int(1).default(128),
    /** Of those, from one source address. @default 32 */
    maxHandshakesPerAddress: int(1).default(32),
    /** Of those, from one source network (IPv4 /24, IPv6 /64). @default 64 */
    maxHandshakesPerSubnet: int(1).default(64),
    /** Established inbound connections from one source address on a listener. @default 128 */
    maxConnectionsPerAddress: int(1).default(128),
    /** Established inbound connections from one source network on a listener. @default 512 */
    maxConnectionsPerSubnet: int(1).default(512),
    /** Milliseconds a message may take from its first byte to its last (Node sides; a browser cannot see partial messages). @default 60000 */
    messageTimeout: int(1).default(60_000),
    /** Bytes a connection holds for sending (WebSocket buffer and records being sealed) before `send` waits. @default 4194304 */
    highWaterMark: int(1024).default(4 * 1024 * 1024),
    /** AEAD proposed when dialing (tcp's choices). In a tab, AES-256-GCM runs on WebCrypto. @default 'aes-256-gcm' */
    cipher: z.enum(CIPHERS as [TcpCipher, ...TcpCipher[]]).default('aes-256-gcm'),
    /** Milliseconds `close()` waits for the close handshake before dropping the socket. @default 5000 */
    closeTimeout: int(0).default(5_000),
  })
  .strict()

export type WebSocketTransportOptions = z.input<typeof webSocketTransportOptionsSchema>
export type ParsedWebSocketTransportOptions = Readonly<z.output<typeof webSocketTransportOptionsSchema>>

/** Validates `ws` options, fills in the defaults and freezes them; throws `InvalidOptionsError` naming the field. */
export function parseWebSocketTransportOptions(input: unknown = {}): ParsedWebSocketTransportOptions {
  return parseOptions(webSocketTransportOptionsSchema, input ?? {}, 'ws')
}
