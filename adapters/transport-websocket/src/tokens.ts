import type { InjectionToken } from 'tsyringe'
import type { ParsedWebSocketTransportOptions } from './options.js'

/** The parsed, frozen options of the `ws` transport. */
export const WEBSOCKET_TRANSPORT_OPTIONS: InjectionToken<ParsedWebSocketTransportOptions> = Symbol.for(
  '@peerkit/transport-websocket:Options',
)
