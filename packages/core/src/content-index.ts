import type { PeerId } from './peer-id.js'
import type { ContentHash, FileRecord, Hit, Query } from './records.js'

/**
 * A catalog of file records, searchable by keywords and by content hash.
 * One record per (hash, provider): putting the same pair again replaces it.
 * Serves every place a record set lives: a peer's own shares, the directory
 * server's registry, a supernode's catalog of its leaves, a Chord node's key range.
 */
export interface Index {
  put(record: FileRecord): void
  /** Removes the records of `hash` (only `provider`'s when given); returns how many went. */
  remove(hash: ContentHash, provider?: PeerId): number
  /** Removes every record of a provider; returns how many went. */
  removeProvider(provider: PeerId): number
  /** Every provider's record of `hash`. */
  get(hash: ContentHash): FileRecord[]
  /** Hits for the query, one per hash with its providers, more providers first, at most `query.limit`. */
  search(query: Query): Hit[]
  /** Every record (for hand-over and re-publishing). */
  records(): IterableIterator<FileRecord>
  /** Number of records. */
  readonly size: number
  clear(): void
}

/** Makes fresh, empty Indexes of the configured kind (token `INDEX_FACTORY`). */
export type IndexFactory = (name?: string) => Index
