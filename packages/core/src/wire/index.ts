/**
 * `@peerkit/core/wire`: the wire beneath the `Network`, for code that frames
 * a byte stream or speaks the wire by hand: transports (`frameHeader`,
 * `FrameDecoder`), the simulator, and tests that mount attacks with raw
 * frames. An overlay, an index or a host application needs none of it: they
 * use the `Network` and `defineProtocol` from `@peerkit/core`.
 *
 * ```ts sketch
 * import { encode, Kind } from '@peerkit/core/wire'
 * rawSend(connection, encode([Kind.Request, 1, 'peerkit/unknown/1', {}]))
 * ```
 */
export * from './codec.js'
export * from './envelope.js'
export * from './frames.js'
export * from './identify.js'
export * from './item-count.js'
export * from './mux.js'
// The error a response carries on the wire (`[Kind.Error, id, { name, message }]`).
export { wireErrorSchema } from './schemas.js'
