import type { EventEmitter } from 'eventemitter3'
import type { ContentHash, FileRecord, Hit, PeerRef, Query } from './records.js'
import type { AbortOptions } from './transport.js'

export interface SearchOptions extends AbortOptions {
  /** Give up after this many milliseconds (on the injected Clock); the iteration then ends normally. */
  timeout?: number
}

/** Messages an overlay sent and received, by message kind (`query`, `find_successor` …). */
export interface OverlayStats {
  sent: Record<string, number>
  received: Record<string, number>
  /** Overlay-specific figures (records held, supernode leaves …). */
  [key: string]: unknown
}

/**
 * Whether a node is part of its overlay, for `status` and the operator:
 * `connected` (it has neighbours, or is the directory/first node it should
 * be), `bootstrapping` (its bootstrap peers or directory did not answer yet;
 * it retries with backoff), or `isolated` (no neighbour and nobody to ask).
 */
export interface OverlayConnectivity {
  state: 'connected' | 'bootstrapping' | 'isolated'
  /** Current neighbours (the directory server for `central`). */
  neighbors: number
  /** Why it is not connected (the last bootstrap error …), when it is not. */
  reason?: string
  /** Bootstrap attempts that failed since it was last connected. */
  retries?: number
}

export interface OverlayEvents {
  'neighbor:add': [peer: PeerRef]
  'neighbor:remove': [peer: PeerRef]
  /** The node's role changed (`leaf` → `supernode` …). */
  role: [role: string]
  /** The node's connectivity changed (joined, lost its last neighbour …). */
  connectivity: [state: OverlayConnectivity]
}

/**
 * Decides who a peer's neighbors are and how searches and lookups travel.
 * Implementations are registered by name in `overlays`.
 */
export interface Overlay extends EventEmitter<OverlayEvents> {
  /** The registry name: `central`, `flooding`, `supernode`, `chord`. */
  readonly name: string
  start(): Promise<void>
  stop(): Promise<void>
  /** Makes the records findable by others (the provider is this peer). */
  publish(records: FileRecord[]): Promise<void>
  unpublish(hashes: ContentHash[]): Promise<void>
  /**
   * Hits as they arrive. A hash may come again with more providers. Ends when
   * the overlay has asked everyone it will ask, at `query.limit` distinct
   * hashes, or at the timeout; an abort ends it with `AbortError`.
   */
  search(query: Query, options?: SearchOptions): AsyncIterable<Hit>
  /** Peers that hold `hash`, as they are found. */
  providers(hash: ContentHash, options?: SearchOptions): AsyncIterable<PeerRef>
  /** Current neighbors (the directory server for `central`). */
  neighbors(): PeerRef[]
  /** `peer`, `leaf`, `supernode`, `directory` … */
  role(): string
  stats(): OverlayStats
  /**
   * Whether the node is part of its overlay and why not (see
   * `OverlayConnectivity`). Optional: without it, a node with neighbours is
   * `connected` and one without is `isolated` (`overlayConnectivity`).
   */
  connectivity?(): OverlayConnectivity
}

/** The overlay's own `connectivity()`, or one read from its neighbours. */
export function overlayConnectivity(overlay: Overlay): OverlayConnectivity {
  if (overlay.connectivity) return overlay.connectivity()
  const neighbors = overlay.neighbors().length
  return { state: neighbors > 0 ? 'connected' : 'isolated', neighbors }
}
