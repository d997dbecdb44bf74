/**
 * @packageDocumentation
 * The `central` overlay strategy (Napster): one directory server holds the
 * registry of every peer's files; a search is one request to it. This package
 * has the client (`CentralOverlay`, registered as `central` in `overlays`)
 * and the server (`DirectoryServer`, built standalone by `createDirectoryServer`).
 *
 * ```ts
 * import '@peerkit/transport-tcp'
 * import '@peerkit/index-memory'
 * import '@peerkit/transfer'
 * import '@peerkit/overlay-central'
 * import { createPeer } from '@peerkit/core'
 * import { createDirectoryServer } from '@peerkit/overlay-central'
 *
 * const directory = await createDirectoryServer({ listen: ['tcp://127.0.0.1:4001'] })
 * await directory.start()
 *
 * const peer = await createPeer({ overlay: 'central', transport: 'tcp', listen: ['tcp://127.0.0.1:0'],
 *   bootstrap: directory.addresses(), options: { central: { reconnectMax: 5000 } } })
 * await peer.start()
 * await peer.share('./videos')
 * for await (const hit of peer.search('harry potter')) console.log(hit.name, hit.providers.length)
 * ```
 */
import { OVERLAY, overlays, type Registration } from '@peerkit/core'
import { type DependencyContainer, Lifecycle } from 'tsyringe'
import { CentralOverlay } from './central-overlay.js'
import { parseCentralOptions } from './options.js'
import { CENTRAL_OPTIONS } from './tokens.js'

export { Backoff } from './backoff.js'
export { CentralOverlay } from './central-overlay.js'
export {
  createDirectoryServer,
  DEFAULT_DIRECTORY_MAX_CONNECTIONS,
  type DirectoryServerConfig,
  type DirectoryServerHandle,
} from './create-directory-server.js'
export { DirectoryServer, type DirectoryServerEvents } from './directory-server.js'
export { NotLoggedInError } from './errors.js'
export { Heartbeat } from './heartbeat.js'
export {
  CENTRAL,
  type CentralRequest,
  type CentralResponse,
  centralRequestSchema,
  centralResponseSchema,
  loginPayload,
  MAX_PAGE,
  MAX_REGISTER_BATCH,
  MAX_UNREGISTER_BATCH,
} from './messages.js'
export {
  type CentralOptions,
  centralOptionsSchema,
  DEFAULT_CENTRAL_OPTIONS,
  DEFAULT_DIRECTORY_SERVER_OPTIONS,
  type DirectoryServerOptions,
  directoryServerOptionsSchema,
  parseCentralOptions,
  parseDirectoryServerOptions,
} from './options.js'
export { type Source, sourceOf } from './source-address.js'
export { isStoredRegistry, type StoredRegistry } from './stored-registry.js'
export { CENTRAL_OPTIONS, DIRECTORY_SERVER_OPTIONS } from './tokens.js'

/** The registration for `overlay: 'central'`; validates `options.central` first. */
export function centralOverlay(options?: unknown): Registration {
  const opts = parseCentralOptions(options)
  return (c: DependencyContainer) => {
    c.register(CENTRAL_OPTIONS, { useValue: opts })
    c.register(OVERLAY, { useClass: CentralOverlay }, { lifecycle: Lifecycle.ContainerScoped })
  }
}

overlays.register('central', centralOverlay)
