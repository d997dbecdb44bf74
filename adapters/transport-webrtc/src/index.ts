/**
 * @packageDocumentation
 * The `webrtc` transport: WebRTC data channels on node-datachannel, with
 * `webrtc://<PeerId>` addresses. Offers and answers are signed and relayed
 * over `peerkit/signal/1` by any peer both sides already reach (over `tcp`,
 * say); messages are fragmented to fit SCTP and sent with backpressure.
 * Importing the package registers `webrtc`.
 *
 * ```ts
 * import '@peerkit/transport-tcp'
 * import '@peerkit/transport-webrtc'
 * import '@peerkit/index-memory'
 * import '@peerkit/transfer'
 * import '@peerkit/overlay-flooding'
 * import { createPeer } from '@peerkit/core'
 *
 * const peer = await createPeer({
 *   overlay: 'flooding',
 *   transport: ['tcp', 'webrtc'],
 *   // webrtc first: the address others will try first.
 *   listen: ['webrtc://*', 'tcp://0.0.0.0:0'],
 *   bootstrap: ['tcp://10.0.0.5:4001'],
 *   options: { webrtc: { iceServers: ['stun:stun.l.google.com:19302'] } },
 * })
 * await peer.start()
 * ```
 */
import { type Registration, TRANSPORT, transports } from '@peerkit/core'
import { Lifecycle } from 'tsyringe'
import { parseWebRtcTransportOptions } from './options.js'
import { WEBRTC_TRANSPORT_OPTIONS } from './tokens.js'
import { WebRtcTransport } from './webrtc-transport.js'

export { formatWebRtcAddress, isWebRtcAddress, parseWebRtcAddress } from './address.js'
export {
  type ParsedWebRtcTransportOptions,
  parseWebRtcTransportOptions,
  type WebRtcTransportOptions,
  webRtcTransportOptionsSchema,
} from './options.js'
export { WebRtcConnection } from './webrtc-connection.js'
export { WebRtcTransport } from './webrtc-transport.js'

/**
 * The `webrtc` transport's registration: validates `options` (throwing
 * `InvalidOptionsError` naming the field), then registers `WebRtcTransport`
 * under core's `TRANSPORT` token, one per container. The container must be
 * a peer's (with `PEER_CONTAINER` and core's `Network`), as `createPeer` makes.
 */
export function webRtcTransport(options?: unknown): Registration {
  const opts = parseWebRtcTransportOptions(options)
  return (c) => {
    c.register(WEBRTC_TRANSPORT_OPTIONS, { useValue: opts })
    c.register(TRANSPORT, { useClass: WebRtcTransport }, { lifecycle: Lifecycle.ContainerScoped })
  }
}

transports.register('webrtc', webRtcTransport)
