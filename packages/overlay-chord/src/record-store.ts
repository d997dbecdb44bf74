import type { ContentHash, FileRecord, Hit, Index, PeerId, Query } from '@peerkit/core'

const keyOf = (hash: ContentHash, provider: PeerId) => `${hash} ${provider}`

/**
 * The records a Chord node holds for its key range and its replicas: an
 * Index (from `INDEX_FACTORY`) plus the time each record expires, so records
 * of providers that stopped refreshing them disappear. Pure: times are given.
 */
export class RecordStore {
  /** Expiry time by record; made with the first record (most simulated nodes hold none). */
  private expiry: Map<string, number> | undefined

  constructor(readonly index: Index) {}

  get size(): number {
    return this.index.size
  }

  /** Stores (or refreshes) a record until `expiresAt`; a refresh never shortens a record's life. */
  put(record: FileRecord, expiresAt: number): void {
    const key = keyOf(record.hash, record.provider.id)
    this.expiry ??= new Map()
    const current = this.expiry.get(key)
    this.index.put(record)
    this.expiry.set(key, current === undefined ? expiresAt : Math.max(current, expiresAt))
  }

  /** Removes the records of `hash` (only `provider`'s when given). */
  remove(hash: ContentHash, provider?: PeerId): number {
    if (provider !== undefined) this.expiry?.delete(keyOf(hash, provider))
    else for (const r of this.index.get(hash)) this.expiry?.delete(keyOf(hash, r.provider.id))
    return this.index.remove(hash, provider)
  }

  get(hash: ContentHash): FileRecord[] {
    return this.index.get(hash)
  }

  search(query: Query): Hit[] {
    return this.index.search(query)
  }

  records(): IterableIterator<FileRecord> {
    return this.index.records()
  }

  /** Milliseconds `record` has left at `now` (at least 1 while it is held). */
  remaining(record: FileRecord, now: number): number {
    const at = this.expiry?.get(keyOf(record.hash, record.provider.id))
    return at === undefined ? 0 : Math.max(1, at - now)
  }

  /** Drops every record whose time is up; returns how many went. */
  expire(now: number): number {
    let n = 0
    if (this.expiry === undefined) return n
    for (const [key, at] of this.expiry) {
      if (at > now) continue
      const [hash, provider] = key.split(' ') as [ContentHash, PeerId]
      this.expiry.delete(key)
      n += this.index.remove(hash, provider)
    }
    return n
  }

  clear(): void {
    this.expiry?.clear()
    this.index.clear()
  }
}
