/**
 * @packageDocumentation
 * The contracts of peerkit (Transport, Index, Overlay, Transfer), its data
 * types, the wire, and `createPeer`, which composes a peer from configuration.
 *
 * ```ts
 * import '@peerkit/transport-tcp'
 * import '@peerkit/index-memory'
 * import '@peerkit/transfer'
 * import '@peerkit/overlay-flooding'
 * import { createPeer } from '@peerkit/core'
 *
 * const peer = await createPeer({ overlay: 'flooding', transport: 'tcp', listen: ['tcp://127.0.0.1:0'] })
 * await peer.start()
 * for await (const hit of peer.search('harry potter')) console.log(hit.name, hit.providers.length)
 * await peer.stop()
 * ```
 */

// One listener per shared abort signal, however many waits (requests, sends, sleeps) share it.
export { onAbort } from './abort.js'
export * from './atomic-write.js'
// What a host asks and gets with Peer.browse; the protocol and its server stay inside.
export {
  type BrowseConfig,
  type BrowseFile,
  type BrowseOptions,
  type BrowsePage,
  DEFAULT_BROWSE_PAGE,
  MAX_BROWSE_PAGE,
} from './browse.js'
export * from './bytes.js'
export * from './clock.js'
export * from './config.js'
export * from './connection-emitter.js'
export * from './content-index.js'
export * from './create-peer.js'
export * from './errors.js'
export * from './generation-cache.js'
export {
  consoleSink,
  createLogger,
  formatLogEntry,
  type LogEntry,
  type Logger,
  type LoggerOptions,
  type LogLevel,
  type LogSink,
  type LogThreshold,
  silentLogger,
} from './logger.js'
export * from './network.js'
export { nearestName, parseOptions } from './option-errors.js'
export * from './overlay.js'
export * from './peer.js'
export * from './peer-id.js'
// Which Ed25519/SHA-256 implementation this build uses, and SHA-256; the signer seam stays inside (Identity signs).
export { CRYPTO_BACKEND, sha256 } from './platform/crypto.js'
export { type LoadPluginsOptions, loadPlugins } from './plugins.js'
export * from './query-match.js'
export * from './random.js'
export * from './records.js'
export * from './registry.js'
// What a transport implements to be accounted against network.memoryBudget; the manager stays inside.
export type { ManagedConnection, MemoryScope } from './resource-manager.js'
export {
  checkRecord,
  type RecordFault,
  type SignedFileRecord,
  signedFileRecordSchema,
  signRecord,
  unsignedRecord,
  verifyRecord,
} from './signed-record.js'
export * from './stats.js'
export * from './streams.js'
export * from './token-bucket.js'
export * from './tokens.js'
export * from './transfer.js'
export * from './transport.js'
// The options of Network.request; the Mux itself and the rest of the wire are in '@peerkit/core/wire'.
export type { MuxRequestOptions, PreparedMessage } from './wire/mux.js'
export * from './wire/protocol.js'
export {
  addressSchema,
  contentHashSchema,
  fileRecordSchema,
  hitSchema,
  LIMITS,
  peerIdSchema,
  peerRefSchema,
  querySchema,
} from './wire/schemas.js'
