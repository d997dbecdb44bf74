export type { Connection } from '@peerkit/core'
export {
  parseWebSocketTransportOptions,
  type WebSocketConnection,
  WebSocketTransport,
  type WebSocketTransportOptions,
} from '../../src/index.js'
