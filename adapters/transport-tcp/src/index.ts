/**
 * @packageDocumentation
 * The `tcp` transport: node:net sockets, every connection authenticated (both
 * PeerIds proven with Ed25519 over an X25519 handshake) and encrypted
 * (AES-256-GCM or ChaCha20-Poly1305 records), carrying length-prefixed
 * messages with backpressure. Importing the package registers `tcp`.
 *
 * ```ts
 * import '@peerkit/transport-tcp'
 * import '@peerkit/index-memory'
 * import '@peerkit/transfer'
 * import '@peerkit/overlay-flooding'
 * import { createPeer } from '@peerkit/core'
 *
 * const peer = await createPeer({
 *   overlay: 'flooding',
 *   transport: 'tcp',
 *   listen: ['tcp://0.0.0.0:0'],
 *   options: { tcp: { maxMessageSize: 8 * 1024 * 1024, handshakeTimeout: 5000 } },
 * })
 * await peer.start()
 * ```
 *
 * The handshake and records without TCP (browser-safe) are `@peerkit/transport-tcp/secure`;
 * the Node building blocks other transports use (connection, listener, source limits) are
 * `@peerkit/transport-tcp/parts`.
 */
import { type Registration, TRANSPORT, transports } from '@peerkit/core'
import { Lifecycle } from 'tsyringe'
import { parseTcpTransportOptions } from './options.js'
import { TcpTransport } from './tcp-transport.js'
import { TCP_TRANSPORT_OPTIONS } from './tokens.js'

export { formatTcpAddress, isTcpAddress, parseTcpAddress, type TcpAddress } from './address.js'
export {
  type ParsedTcpTransportOptions,
  parseTcpTransportOptions,
  type TcpCipher,
  type TcpTransportOptions,
  tcpTransportOptionsSchema,
} from './options.js'
export { TcpTransport } from './tcp-transport.js'

/**
 * The `tcp` transport's registration: validates `options` (throwing
 * `InvalidOptionsError` naming the field), then registers `TcpTransport`
 * under core's `TRANSPORT` token, one per container.
 */
export function tcpTransport(options?: unknown): Registration {
  const opts = parseTcpTransportOptions(options)
  return (c) => {
    c.register(TCP_TRANSPORT_OPTIONS, { useValue: opts })
    c.register(TRANSPORT, { useClass: TcpTransport }, { lifecycle: Lifecycle.ContainerScoped })
  }
}

transports.register('tcp', tcpTransport)
