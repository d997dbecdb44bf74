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
 */
import { type Registration, TRANSPORT, transports } from '@peerkit/core'
import { Lifecycle } from 'tsyringe'
import { parseTcpTransportOptions } from './options.js'
import { TcpTransport } from './tcp-transport.js'
import { TCP_TRANSPORT_OPTIONS } from './tokens.js'

export {
  formatTcpAddress,
  isTcpAddress,
  parseTcpAddress,
  reachableAddresses,
  type TcpAddress,
} from './address.js'
export { type HandshakeOptions, type HandshakeResult, handshake, PROTOCOL, type Role } from './handshake.js'
export {
  CIPHERS,
  DEFAULT_CIPHER,
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_HANDSHAKE_TIMEOUT,
  DEFAULT_HIGH_WATER_MARK,
  DEFAULT_MAX_HANDSHAKES,
  DEFAULT_RECORD_SIZE,
  MAX_RECORD_SIZE,
  type ParsedTcpTransportOptions,
  parseTcpTransportOptions,
  type TcpCipher,
  type TcpTransportOptions,
} from './options.js'
export { OFFLOAD_THRESHOLD, RecordCipher, recordNonce, TAG_SIZE } from './record-cipher.js'
export { COALESCE_BELOW, MAX_IN_FLIGHT } from './record-writer.js'
export { SourceLimits, sourceAddress, sourceSubnet } from './source-limits.js'
export { TcpConnection, type TcpConnectionInit } from './tcp-connection.js'
export { TcpListener } from './tcp-listener.js'
export { TcpTransport } from './tcp-transport.js'
export { TCP_TRANSPORT_OPTIONS } from './tokens.js'

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
