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

export interface OverlayEvents {
  'neighbor:add': [peer: PeerRef]
  'neighbor:remove': [peer: PeerRef]
  /** The node's role changed (`leaf` → `supernode` …). */
  role: [role: string]
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
}
