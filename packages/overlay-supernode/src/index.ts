/**
 * @packageDocumentation
 * The `supernode` overlay (KaZaA / FastTrack, Gnutella 0.6 ultrapeers): every
 * peer is a supernode or a leaf. A leaf registers its files with its
 * supernode, which indexes its leaves like a small directory server and
 * searches the other supernodes by flooding. Leaves fail over to another
 * supernode, or elect one of themselves. Importing this package registers it
 * as `supernode`.
 *
 * ```ts
 * import '@peerkit/transport-tcp'
 * import '@peerkit/index-memory'
 * import '@peerkit/transfer'
 * import '@peerkit/overlay-supernode'
 * import { createPeer } from '@peerkit/core'
 *
 * const peer = await createPeer({
 *   overlay: 'supernode',
 *   transport: 'tcp',
 *   listen: ['tcp://127.0.0.1:0'],
 *   bootstrap: ['tcp://10.0.0.5:4001'],
 *   options: { supernode: { leavesPerSupernode: 32, supernodeLinks: 32 } },
 * })
 * await peer.start()
 * peer.overlay.on('role', (role) => console.log('now a', role))
 * for await (const hit of peer.search('harry potter')) console.log(hit.name, hit.providers.length)
 * await peer.stop()
 * ```
 */
import { OVERLAY, overlays, type Registration } from '@peerkit/core'
import { Lifecycle } from 'tsyringe'
import { parseSupernodeOptions } from './options.js'
import { SupernodeOverlay } from './supernode-overlay.js'
import { SUPERNODE_OPTIONS } from './tokens.js'

export type { NodeContext } from './context.js'
export {
  type CreditOptions,
  compareCandidates,
  creditedCapacity,
  elect,
  electionOrder,
  type LeafCandidate,
  measuredCapacity,
  rank,
} from './election.js'
export { LeafAttachment } from './leaf-attachment.js'
export {
  type AliveMessage,
  type AttachMessage,
  type ByeMessage,
  type Candidate,
  type DoneMessage,
  type HelloMessage,
  type HitMessage,
  type InfoMessage,
  infoSchema,
  type LinkMessage,
  MAX_HITS_PER_MESSAGE,
  MAX_LIST,
  type MoveMessage,
  type PingMessage,
  type PromoteMessage,
  type QueryMessage,
  SUPERNODE,
  type SupernodeMessage,
  supernodeMessageSchema,
} from './messages.js'
export {
  DEFAULT_SUPERNODE_OPTIONS,
  PROTOCOL_MAX_TTL,
  parseSupernodeOptions,
  type ResolvedSupernodeOptions,
  type SupernodeOptions,
} from './options.js'
export { SupernodeHub } from './supernode-hub.js'
export { SupernodeOverlay } from './supernode-overlay.js'
export { SUPERNODE_OPTIONS } from './tokens.js'

/** Validates `options.supernode`, then registers the supernode overlay into a peer's container. */
export function supernodeOverlay(options?: unknown): Registration {
  const opts = parseSupernodeOptions(options)
  return (c) => {
    c.register(SUPERNODE_OPTIONS, { useValue: opts })
    c.register(OVERLAY, { useClass: SupernodeOverlay }, { lifecycle: Lifecycle.ContainerScoped })
  }
}

overlays.register('supernode', supernodeOverlay)
