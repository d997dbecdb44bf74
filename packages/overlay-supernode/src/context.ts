import type {
  Clock,
  Identity,
  Index,
  IndexFactory,
  Logger,
  MessageCounter,
  Network,
  PeerConfig,
  PeerId,
  PeerRef,
  Random,
} from '@peerkit/core'
import type { NeighborTable } from '@peerkit/overlay-flooding'
import type { Candidate, InfoMessage, SupernodeMessage } from './messages.js'
import type { ResolvedSupernodeOptions } from './options.js'

/** What the two roles of a node share: its parts, and the few things the overlay does for both. */
export interface NodeContext {
  readonly options: ResolvedSupernodeOptions
  readonly network: Network
  readonly identity: Identity
  readonly clock: Clock
  readonly random: Random
  readonly config: PeerConfig
  /** The peer's root logger (for the central client and directory a node runs). */
  readonly logger: Logger
  /** This overlay's logger (`peerkit:supernode`). */
  readonly log: Logger
  readonly makeIndex: IndexFactory
  readonly counter: MessageCounter
  /** Links to other supernodes (as neighbors) and the supernodes this node knows of (as candidates). */
  readonly supernodes: NeighborTable
  /** This node's own published records, with itself as the provider. */
  readonly own: Index
  readonly running: boolean
  /** This node as a candidate for elections (its capacity now). */
  self(): Candidate
  /** Whether this node may become a supernode. */
  capable(): boolean
  /** Sends a one-way message; never rejects. */
  send(to: PeerId, message: SupernodeMessage): Promise<void>
  /**
   * `send` of one message to each of `targets` but `except`, encoded once for all of them: the same
   * bytes, counts and order as a `send` to each; never rejects.
   */
  sendAll(targets: readonly PeerId[], message: SupernodeMessage, except?: PeerId): void
  /** Sends a one-way message to a peer that may not be connected yet (dialing it); never rejects. */
  notify(to: PeerRef, message: SupernodeMessage): Promise<void>
  /** Sends a request and checks that the answer is an `info`. */
  request(to: PeerRef, message: SupernodeMessage, timeout?: number): Promise<InfoMessage>
  /** A new version for a hub's election list (`InfoMessage.listed`): never the same twice on this node, whichever hub asks. */
  nextListVersion(): number
  /** Remembers the supernodes and candidates an answer names. */
  learn(info: InfoMessage, from: PeerRef): void
  emitNeighbor(event: 'neighbor:add' | 'neighbor:remove', peer: PeerRef): void
}
