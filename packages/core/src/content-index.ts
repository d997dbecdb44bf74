import type { PeerId } from './peer-id.js'
import type { ContentHash, FileRecord, Hit, Query } from './records.js'

/** Options of `Index.put`. */
export interface PutOptions {
  /**
   * When the record lapses, in the milliseconds of the peer's `CLOCK`
   * (`clock.now()`; the real clock's are `Date.now()`, so an expiry survives a
   * restart). A record past it is never returned, counted or searched, and is
   * purged (by `expire()`, at the latest on the next `open()`). Absent: kept
   * until removed. Putting the record again replaces its expiry (absent clears it).
   */
  expiresAt?: number
}

/**
 * A catalog of file records, searchable by keywords and by content hash.
 * One record per (hash, provider): putting the same pair again replaces it.
 * Serves every place a record set lives: a peer's own shares, the directory
 * server's registry, a supernode's catalog of its leaves, a Chord node's key range.
 *
 * **Asynchronous, with a lifecycle.** Every method returns a promise, so an
 * index may live on disk (`@peerkit/index-lmdb`) or in a database
 * (`@peerkit/index-postgres`). Whoever makes an index with the `INDEX_FACTORY`
 * owns it: it calls `open()` once before any other method (the peer opens its
 * `LOCAL_INDEX` in `start()`, an overlay the indexes it makes in its own
 * `start()`) and `close()` when done (the peer's and the overlay's `stop()`).
 * An implementation may reject calls before `open()` or after `close()` with
 * `NotStartedError`; the memory index accepts them. `close()` is idempotent.
 *
 * **Writes.** Calls are applied in the order they are made, even when their
 * promises are not awaited in between (a `get` after an un-awaited `put` sees
 * it). When a write's promise resolves it is as durable as the implementation
 * documents (`durable` below); a persistent index documents what a crash
 * between writes may lose (never a half-applied `put`, `remove` or `clear`).
 *
 * **Records as put.** An index keeps a record's fields beyond `FileRecord`'s
 * (a Chord record's `signature` and `expires`) and returns them with it from
 * `get` and `records`; every field must be plain data (strings, finite
 * numbers, booleans, null, arrays and plain objects of those).
 *
 * **What survives a restart** (a persistent index made by the same factory
 * name in the same data folder, opened again):
 * - `shares` (the peer's `LOCAL_INDEX`): the records of the files the peer
 *   shared, so it restarts without hashing them again. The transfer
 *   reconciles them on start, before anything is published: a record whose
 *   file is gone or changed (size or mtime) is removed, never advertised.
 * - `chord` (a Chord node's key range): the signed records it held, each
 *   until the expiry it had; records that lapsed while the node was down are
 *   gone on `open()`.
 * - `directory` (a directory server's registry) and a supernode's catalogue:
 *   the registrations with their expiry (`PutOptions.expiresAt`), so a
 *   registration lapses on time whether or not the server restarted.
 * Nothing else (sessions, budgets, routing) is in the index.
 */
export interface Index {
  /**
   * True when records outlive `close()`: an index made again by the same
   * factory with the same name finds them on `open()`.
   */
  readonly durable: boolean
  /** Creates or migrates the store and loads what it needs; purges lapsed records. Called once. */
  open(): Promise<void>
  /** Flushes pending writes and releases the store (files, connections). Idempotent. */
  close(): Promise<void>
  /** Adds a record, replacing its provider's earlier record of the same hash (and its expiry). */
  put(record: FileRecord, options?: PutOptions): Promise<void>
  /** Removes the records of `hash` (only `provider`'s when given); resolves to how many went. */
  remove(hash: ContentHash, provider?: PeerId): Promise<number>
  /** Removes every record of a provider; resolves to how many went. */
  removeProvider(provider: PeerId): Promise<number>
  /** Every provider's live record of `hash`. */
  get(hash: ContentHash): Promise<FileRecord[]>
  /** Hits for the query, one per hash with its providers, more providers first, at most `query.limit`. */
  search(query: Query): Promise<Hit[]>
  /** Every live record (for hand-over, re-publishing and reconciling), in no particular order. */
  records(): AsyncIterable<FileRecord>
  /** Number of live records. */
  count(): Promise<number>
  /** Removes every record. */
  clear(): Promise<void>
  /** Purges every record whose `expiresAt` is at or before the clock's now; resolves to how many went. */
  expire(): Promise<number>
}

/**
 * Makes an Index of the configured kind (token `INDEX_FACTORY`). `name`
 * identifies the store within the peer's data folder (`shares`, `chord`,
 * `directory`, `supernode-own` …): a persistent factory given the same name
 * again reopens the same records; an index made without a name is never
 * persisted. The caller opens and closes what it makes (see `Index`).
 */
export type IndexFactory = (name?: string) => Index
