import {
  type ContentHash,
  type FileRecord,
  type Index,
  matches,
  type PeerId,
  type Query,
  type SignedFileRecord,
  unsignedRecord,
} from '@peerkit/core'

const keyOf = (hash: ContentHash, provider: PeerId) => `${hash} ${provider}`

/** What a RecordStore may hold (`maxRecordsPerProvider` … of the chord options). */
export interface StoreLimits {
  maxRecordsPerProvider: number
  maxBytesPerProvider: number
  maxStoredRecords: number
  maxStoredBytes: number
}

const UNLIMITED: StoreLimits = {
  maxRecordsPerProvider: Number.POSITIVE_INFINITY,
  maxBytesPerProvider: Number.POSITIVE_INFINITY,
  maxStoredRecords: Number.POSITIVE_INFINITY,
  maxStoredBytes: Number.POSITIVE_INFINITY,
}

/** What `put` did: stored (or refreshed), or refused by the provider's quota, or by the whole budget. */
export type PutResult = 'stored' | 'provider-quota' | 'full'

/** A held record's signature, signed expiry, local expiry and accounted size. */
interface Held {
  /** When this node drops it (never after `signedExpires`). */
  expires: number
  signedExpires: number
  signature: string
  bytes: number
}

interface ProviderUsage {
  bytes: number
  /** Its records' keys, oldest first: the ones evicted first when the store is full. */
  keys: Set<string>
}

/** What one record costs to hold, roughly: its strings plus a fixed overhead for the index entries. */
export function recordBytes(r: FileRecord): number {
  let n = 64 + r.name.length + r.provider.id.length + 86 + 160
  for (const k of r.keywords) n += k.length + 48
  for (const a of r.provider.addresses) n += a.length + 16
  return n
}

/**
 * The records a Chord node holds for its key range and its replicas: an
 * Index (from `INDEX_FACTORY`) plus, per record, its provider's signature, its
 * signed expiry and the time this node drops it, with quotas per provider and
 * for the whole store. Pure: times are given.
 */
export class RecordStore {
  /** By record; made with the first record (most simulated nodes hold none). */
  private held: Map<string, Held> | undefined
  private usage: Map<PeerId, ProviderUsage> | undefined
  private bytes = 0

  constructor(
    readonly index: Index,
    private readonly limits: StoreLimits = UNLIMITED,
  ) {}

  get size(): number {
    return this.index.size
  }

  /** Bytes held (as `recordBytes` counts them). */
  get heldBytes(): number {
    return this.bytes
  }

  /** Records and bytes held of one provider. */
  usageOf(provider: PeerId): { records: number; bytes: number } {
    const u = this.usage?.get(provider)
    return { records: u?.keys.size ?? 0, bytes: u?.bytes ?? 0 }
  }

  /**
   * Stores (or refreshes) a signed record until `expiresAt` (at most its signed
   * expiry); a refresh never shortens its life, and a copy signed earlier than
   * the one held changes nothing. Past the provider's quota the record is
   * refused; past the whole budget the largest provider's oldest records make
   * room, unless this provider is the largest.
   */
  put(record: SignedFileRecord, expiresAt: number): PutResult {
    const key = keyOf(record.hash, record.provider.id)
    this.held ??= new Map()
    this.usage ??= new Map()
    const current = this.held.get(key)
    if (current && record.expires < current.signedExpires) {
      current.expires = Math.max(current.expires, Math.min(expiresAt, current.signedExpires))
      return 'stored'
    }
    const size = recordBytes(record)
    const added = current ? 0 : 1
    const grows = size - (current?.bytes ?? 0)
    const mine = this.usage.get(record.provider.id) ?? { bytes: 0, keys: new Set<string>() }
    const { maxRecordsPerProvider, maxBytesPerProvider, maxStoredRecords, maxStoredBytes } = this.limits
    if (mine.keys.size + added > maxRecordsPerProvider || mine.bytes + grows > maxBytesPerProvider)
      return 'provider-quota'
    while (this.index.size + added > maxStoredRecords || this.bytes + grows > maxStoredBytes) {
      const largest = this.largestProvider()
      if (!largest || largest[0] === record.provider.id || largest[1].bytes <= mine.bytes + grows)
        return 'full'
      const [oldest] = largest[1].keys
      const [hash, provider] = (oldest as string).split(' ') as [ContentHash, PeerId]
      this.remove(hash, provider)
    }
    this.index.put(unsignedRecord(record))
    this.held.set(key, {
      expires: Math.min(Math.max(current?.expires ?? 0, expiresAt), record.expires),
      signedExpires: record.expires,
      signature: record.signature,
      bytes: size,
    })
    mine.bytes += grows
    mine.keys.add(key)
    this.usage.set(record.provider.id, mine)
    this.bytes += grows
    return 'stored'
  }

  /** Removes the records of `hash` (only `provider`'s when given). */
  remove(hash: ContentHash, provider?: PeerId): number {
    const providers = provider !== undefined ? [provider] : this.index.get(hash).map((r) => r.provider.id)
    for (const p of providers) this.forget(keyOf(hash, p), p)
    return this.index.remove(hash, provider)
  }

  get(hash: ContentHash): FileRecord[] {
    return this.index.get(hash)
  }

  /** Every record held that answers `query` (a hash or keywords). */
  matching(query: Query): FileRecord[] {
    if (query.hash !== undefined) return this.index.get(query.hash)
    const out: FileRecord[] = []
    for (const hit of this.index.search({ keywords: query.keywords ?? [] }))
      for (const r of this.index.get(hit.hash)) if (matches(r, query)) out.push(r)
    return out
  }

  records(): IterableIterator<FileRecord> {
    return this.index.records()
  }

  /** A held record with its provider's signature, as it travels; undefined when it is not held. */
  signed(record: FileRecord): SignedFileRecord | undefined {
    const h = this.held?.get(keyOf(record.hash, record.provider.id))
    return h && { ...record, expires: h.signedExpires, signature: h.signature }
  }

  /**
   * An answer of at most `max` records and about `maxBytes`, of those still
   * alive at `now`: providers take turns, those with fewer records first, each
   * at most `perProvider` times, so one provider's thousands of records cannot
   * push out another's one.
   */
  answer(
    records: readonly FileRecord[],
    now: number,
    limits: { perProvider: number; max: number; maxBytes: number },
  ): SignedFileRecord[] {
    const { perProvider, max, maxBytes } = limits
    const byProvider = new Map<PeerId, FileRecord[]>()
    for (const r of records) {
      if (this.remaining(r, now) <= 1) continue
      const list = byProvider.get(r.provider.id)
      if (list) list.push(r)
      else byProvider.set(r.provider.id, [r])
    }
    const queues = [...byProvider.values()].sort((a, b) => a.length - b.length)
    const out: SignedFileRecord[] = []
    let bytes = 0
    for (let turn = 0; turn < perProvider; turn++) {
      let any = false
      for (const q of queues) {
        const r = q[turn]
        if (!r) continue
        any = true
        const signed = this.signed(r)
        if (!signed) continue
        bytes += recordBytes(r)
        if (out.length >= max || bytes > maxBytes) return out
        out.push(signed)
      }
      if (!any) break
    }
    return out
  }

  /** Milliseconds `record` has left at `now` (at least 1 while it is held, even past its time until `expire` runs). */
  remaining(record: FileRecord, now: number): number {
    const at = this.held?.get(keyOf(record.hash, record.provider.id))?.expires
    return at === undefined ? 0 : Math.max(1, at - now)
  }

  /** Drops every record whose time is up; returns how many went. */
  expire(now: number): number {
    let n = 0
    if (this.held === undefined) return n
    for (const [key, h] of this.held) {
      if (h.expires > now) continue
      const [hash, provider] = key.split(' ') as [ContentHash, PeerId]
      n += this.remove(hash, provider)
    }
    return n
  }

  clear(): void {
    this.held?.clear()
    this.usage?.clear()
    this.bytes = 0
    this.index.clear()
  }

  private forget(key: string, provider: PeerId): void {
    const h = this.held?.get(key)
    if (!h) return
    this.held?.delete(key)
    this.bytes -= h.bytes
    const u = this.usage?.get(provider)
    if (!u) return
    u.bytes -= h.bytes
    u.keys.delete(key)
    if (u.keys.size === 0) this.usage?.delete(provider)
  }

  private largestProvider(): [PeerId, ProviderUsage] | undefined {
    let best: [PeerId, ProviderUsage] | undefined
    for (const entry of this.usage ?? []) if (!best || entry[1].bytes > best[1].bytes) best = entry
    return best
  }
}
