/**
 * @packageDocumentation
 * The `ws` transport: WebSockets, authenticated and encrypted with tcp's
 * `peerkit-tcp/1` handshake and records. Node peers listen on `ws://` (a
 * site's bootstrap peers); a browser tab dials them with the page's
 * WebSocket, so a tab can join any overlay. Importing the package registers
 * `ws` (and `wss`, to dial through a TLS proxy).
 *
 * ```ts
 * import '@peerkit/transport-websocket'
 * import '@peerkit/index-memory'
 * import '@peerkit/transfer'
 * import '@peerkit/overlay-flooding'
 * import { createPeer } from '@peerkit/core'
 *
 * const peer = await createPeer({
 *   overlay: 'flooding',
 *   transport: 'ws',
 *   listen: ['ws://127.0.0.1:0'],
 *   options: { ws: { maxHandshakesPerAddress: 8 } },
 * })
 * await peer.start()
 * console.log(peer.status().addresses)
 * await peer.stop()
 * ```
 */
import { type Registration, TRANSPORT, transports } from '@peerkit/core'
import { Lifecycle } from 'tsyringe'
import { parseWebSocketTransportOptions } from './options.js'
import { WEBSOCKET_TRANSPORT_OPTIONS } from './tokens.js'
import { WebSocketTransport } from './websocket-transport.js'

export {
  formatWebSocketAddress,
  isWebSocketAddress,
  parseWebSocketAddress,
  type WebSocketAddress,
} from './address.js'
export {
  type ParsedWebSocketTransportOptions,
  parseWebSocketTransportOptions,
  type WebSocketTransportOptions,
  webSocketTransportOptionsSchema,
} from './options.js'
export { WebSocketTransport } from './websocket-transport.js'

/**
 * The `ws` transport's registration: validates `options` (throwing
 * `InvalidOptionsError` naming the field), then registers `WebSocketTransport`
 * under core's `TRANSPORT` token, one per container.
 */
export function webSocketTransport(options?: unknown): Registration {
  const opts = parseWebSocketTransportOptions(options)
  return (c) => {
    c.register(WEBSOCKET_TRANSPORT_OPTIONS, { useValue: opts })
    c.register(TRANSPORT, { useClass: WebSocketTransport }, { lifecycle: Lifecycle.ContainerScoped })
  }
}

transports.register('ws', webSocketTransport)
transports.register('wss', webSocketTransport)
