// src/index.ts
// A plugin must not need its host to have loaded the polyfill first (it may be preloaded alone).
import 'reflect-metadata'
/**
 * @packageDocumentation
 * `stream`: a transport over WebSockets (`ws://HOST:PORT`). Importing the
 * package registers it; a peer names it with `transport: 'stream'`.
 */
import { type Registration, TRANSPORT, transports } from '@peerkit/core'
import { Lifecycle } from 'tsyringe'
import { parseStreamTransportOptions } from './options.js'
import { StreamTransport } from './stream-transport.js'
import { STREAM_TRANSPORT_OPTIONS } from './tokens.js'

export { formatStreamAddress, isStreamAddress, parseStreamAddress } from './address.js'
export {
  parseStreamTransportOptions,
  type ResolvedStreamTransportOptions,
  type StreamTransportOptions,
} from './options.js'
export { StreamConnection } from './stream-connection.js'
export { StreamListener } from './stream-listener.js'
export { StreamTransport } from './stream-transport.js'
export { STREAM_TRANSPORT_OPTIONS } from './tokens.js'

/** Validates the options (before any container exists), then registers the transport into a peer's container. */
export function streamTransport(options?: unknown): Registration {
  const opts = parseStreamTransportOptions(options)
  return (c) => {
    c.register(STREAM_TRANSPORT_OPTIONS, { useValue: opts })
    c.register(TRANSPORT, { useClass: StreamTransport }, { lifecycle: Lifecycle.ContainerScoped })
  }
}

transports.register('stream', streamTransport)
