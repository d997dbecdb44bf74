/**
 * @packageDocumentation
 * The `flooding` overlay: Gnutella-style search by flooding over a random
 * mesh of neighbors, bounded by a TTL, with an expanding ring (TTL 1, 2, 3 …)
 * by default. Importing this package registers it as `flooding`.
 *
 * ```ts
 * import '@peerkit/transport-tcp'
 * import '@peerkit/index-memory'
 * import '@peerkit/transfer'
 * import '@peerkit/overlay-flooding'
 * import { createPeer } from '@peerkit/core'
 *
 * const peer = await createPeer({
 *   overlay: 'flooding',
 *   transport: 'tcp',
 *   listen: ['tcp://127.0.0.1:0'],
 *   bootstrap: ['tcp://10.0.0.5:4001'],
 *   options: { flooding: { minNeighbors: 4, maxNeighbors: 8, maxTtl: 7 } },
 * })
 * await peer.start()
 * for await (const hit of peer.search('harry potter')) console.log(hit.name, hit.hops)
 * await peer.stop()
 * ```
 */
import { OVERLAY, overlays, type Registration } from '@peerkit/core'
import { Lifecycle } from 'tsyringe'
import { FloodingOverlay } from './flooding-overlay.js'
import { parseFloodingOptions } from './options.js'
import { FLOODING_OPTIONS } from './tokens.js'

export { TokenBucket } from '@peerkit/core'
export { addressGroup } from './address-group.js'
export { FloodingOverlay, type FloodingSearchOptions } from './flooding-overlay.js'
export {
  type ByeMessage,
  FLOODING,
  type FloodingMessage,
  type HitMessage,
  MAX_HITS_PER_MESSAGE,
  MAX_PONG_PEERS,
  newQueryId,
  type PingMessage,
  type PongMessage,
  type QueryMessage,
} from './messages.js'
export { type Neighbor, type NeighborLimits, NeighborTable, sameAddresses } from './neighbor-table.js'
export {
  DEFAULT_FLOODING_OPTIONS,
  type FloodingOptions,
  floodingOptionsSchema,
  PROTOCOL_MAX_TTL,
  parseFloodingOptions,
  type ResolvedFloodingOptions,
} from './options.js'
export { QueryIdCache } from './query-id-cache.js'
export { SearchSession, type SessionMode } from './search-session.js'
export { SeenCache } from './seen-cache.js'
export { FLOODING_OPTIONS } from './tokens.js'

/** Validates the options, then registers the flooding overlay into a peer's container. */
export function floodingOverlay(options?: unknown): Registration {
  const opts = parseFloodingOptions(options ?? {})
  return (c) => {
    c.register(FLOODING_OPTIONS, { useValue: opts })
    c.register(OVERLAY, { useClass: FloodingOverlay }, { lifecycle: Lifecycle.ContainerScoped })
  }
}

overlays.register('flooding', floodingOverlay)
