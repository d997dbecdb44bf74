export type { Connection } from '@peerkit/core'
export {
  parseWebSocketTransportOptions,
  WebSocketTransport,
  type WebSocketTransportOptions,
} from '../../src/index.js'
export type { WebSocketConnection } from '../../src/websocket-connection.js'
