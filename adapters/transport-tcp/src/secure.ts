/**
 * The `peerkit-tcp/1` handshake and record layer, without TCP: what a
 * transport over another byte channel uses to authenticate and encrypt like
 * `tcp` does (@peerkit/transport-websocket does). Runs in Node and, through
 * package.json's `browser` field (noble and WebCrypto in place of
 * node:crypto), in a browser; it imports nothing of node:net. `SecureTransport`
 * and the connections' `RecordOpener` and `Backlog` are the lifecycle and
 * receiving side tcp and ws share.
 */
export {
  type HandshakeChannel,
  type HandshakeOptions,
  type HandshakeResult,
  handshake,
  PROTOCOL,
  type Role,
} from './handshake.js'
export { Backlog, type BacklogOwner, RecordOpener, type RecordOpenerEvents } from './inbox.js'
export {
  CIPHERS,
  DEFAULT_CIPHER,
  DEFAULT_HANDSHAKE_TIMEOUT,
  MAX_RECORD_SIZE,
  type TcpCipher,
} from './options.js'
export { RecordCipher, TAG_SIZE } from './record-cipher.js'
export {
  type SecureConnectionInit,
  SecureTransport,
  type SecureTransportOptions,
} from './secure-transport.js'
