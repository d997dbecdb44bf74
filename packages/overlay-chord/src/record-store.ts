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

/** A held record (as it is searched and handed over), its signature, signed expiry, local expiry and accounted size. */
interface Held {
  record: FileRecord
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

/** How a held record is kept in the Index: signed, with the time this node drops it (restored on `open`). */
type StoredRecord = SignedFileRecord & { heldUntil: number }

/**
 * The records a Chord node holds for its key range and its replicas: an
 * Index (from `INDEX_FACTORY`, named `chord`) plus, per record, its provider's
 * signature, its signed expiry and the time this node drops it, with quotas
 * per provider and for the whole store. Pure: times are given.
 *
 * The bookkeeping (what is held, until when, the quotas) is kept here,
 * synchronously, bounded by the store's budget; the Index searches the
 * records by keyword and keeps them across a restart: each is put signed,
 * with its local expiry as `expiresAt`, so a persistent index gives them
 * back on `open()` until the time they would have lapsed. Writes to the
 * Index are issued in order without waiting (an Index applies calls in the
 * order they are made); one that fails is reported to `onError`.
 */
export class RecordStore {
  /** By record; made with the first record (most simulated nodes hold none). */
  private held: Map<string, Held> | undefined
  private usage: Map<PeerId, ProviderUsage> | undefined
  private bytes = 0

  constructor(
    readonly index: Index,
    private readonly limits: StoreLimits = UNLIMITED,
    private readonly onError: (err: unknown) => void = () => {}, // the overlay passes its logger; a test on a memory index (which never fails a write) need not
  ) {}

  /**
   * Opens the Index and takes back the records a persistent one kept (those
   * not lapsed, with their signatures and local expiry); a record that is not
   * a signed Chord record is dropped. Resolves to how many were taken back.
   */
  async open(): Promise<number> {
    await this.index.open()
    let n = 0
    const strays: FileRecord[] = []
    for await (const r of this.index.records()) {
      const { heldUntil, signature, expires, ...record } = r as Partial<StoredRecord> & FileRecord
      if (typeof heldUntil !== 'number' || typeof signature !== 'string' || typeof expires !== 'number') {
        strays.push(r)
        continue
      }
      if (this.account({ ...record, signature, expires }, heldUntil, record, undefined)) n++
    }
    for (const r of strays) await this.index.remove(r.hash, r.provider.id)
    return n
  }

  /** Closes the Index once its writes are done. */
  close(): Promise<void> {
    return this.index.close()
  }

  get size(): number {
    return this.held?.size ?? 0
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
      const later = Math.max(current.expires, Math.min(expiresAt, current.signedExpires))
      if (later !== current.expires) {
        current.expires = later
        this.write(this.index.put(this.stored(current), { expiresAt: later }))
      }
      return 'stored'
    }
    const size = recordBytes(record)
    const added = current ? 0 : 1
    const grows = size - (current?.bytes ?? 0)
    const mine = this.usage.get(record.provider.id) ?? { bytes: 0, keys: new Set<string>() }
    const { maxRecordsPerProvider, maxBytesPerProvider, maxStoredRecords, maxStoredBytes } = this.limits
    if (mine.keys.size + added > maxRecordsPerProvider || mine.bytes + grows > maxBytesPerProvider)
      return 'provider-quota'
    while (this.size + added > maxStoredRecords || this.bytes + grows > maxStoredBytes) {
      const largest = this.largestProvider()
      if (!largest || largest[0] === record.provider.id || largest[1].bytes <= mine.bytes + grows)
        return 'full'
      const [oldest] = largest[1].keys
      const [hash, provider] = (oldest as string).split(' ') as [ContentHash, PeerId]
      this.remove(hash, provider)
    }
    const held = this.account(
      record,
      Math.max(current?.expires ?? 0, expiresAt),
      unsignedRecord(record),
      current,
    )
    this.write(this.index.put(this.stored(held), { expiresAt: held.expires }))
    return 'stored'
  }

  /** Removes the records of `hash` (only `provider`'s when given); returns how many went. */
  remove(hash: ContentHash, provider?: PeerId): number {
    const providers =
      provider !== undefined
        ? [provider]
        : [...(this.held?.values() ?? [])]
            .filter((h) => h.record.hash === hash)
            .map((h) => h.record.provider.id)
    let n = 0
    for (const p of providers) if (this.forget(keyOf(hash, p), p)) n++
    if (n > 0) this.write(this.index.remove(hash, provider))
    return n
  }

  /** Every provider's record of `hash` held here. */
  async get(hash: ContentHash): Promise<FileRecord[]> {
    return this.held ? this.known(await this.index.get(hash)) : []
  }

  /** Every record held that answers `query` (a hash or keywords). */
  async matching(query: Query): Promise<FileRecord[]> {
    if (this.held === undefined) return []
    if (query.hash !== undefined) return this.get(query.hash)
    const out: FileRecord[] = []
    for (const hit of await this.index.search({ keywords: query.keywords ?? [] }))
      for (const r of await this.get(hit.hash)) if (matches(r, query)) out.push(r)
    return out
  }

  /** Every record held (a snapshot). */
  records(): FileRecord[] {
    return [...(this.held?.values() ?? [])].map((h) => h.record)
  }

  /** A held record with its provider's signature, as it travels; undefined when it is not held. */
  signed(record: FileRecord): SignedFileRecord | undefined {
    const h = this.held?.get(keyOf(record.hash, record.provider.id))
    return h && { ...h.record, expires: h.signedExpires, signature: h.signature }
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
    this.write(this.index.clear())
  }

  /** The Index's records that this store holds, as it holds them (without what the Index keeps beside). */
  private known(records: readonly FileRecord[]): FileRecord[] {
    const out: FileRecord[] = []
    for (const r of records) {
      const h = this.held?.get(keyOf(r.hash, r.provider.id))
      if (h) out.push(h.record)
    }
    return out
  }

  /** A held record as the Index keeps it. */
  private stored(h: Held): StoredRecord {
    return { ...h.record, expires: h.signedExpires, signature: h.signature, heldUntil: h.expires }
  }

  /** Holds `record` (replacing `current`) until `expiresAt`, at most its signed expiry, and charges its provider. */
  private account(
    record: SignedFileRecord,
    expiresAt: number,
    plain: FileRecord,
    current: Held | undefined,
  ): Held {
    const key = keyOf(record.hash, record.provider.id)
    const size = recordBytes(plain)
    const grows = size - (current?.bytes ?? 0)
    this.held ??= new Map()
    this.usage ??= new Map()
    const held: Held = {
      record: plain,
      expires: Math.min(expiresAt, record.expires),
      signedExpires: record.expires,
      signature: record.signature,
      bytes: size,
    }
    this.held.set(key, held)
    const mine = this.usage.get(record.provider.id) ?? { bytes: 0, keys: new Set<string>() }
    mine.bytes += grows
    mine.keys.add(key)
    this.usage.set(record.provider.id, mine)
    this.bytes += grows
    return held
  }

  private write(done: Promise<unknown>): void {
    done.catch(this.onError)
  }

  private forget(key: string, provider: PeerId): boolean {
    const h = this.held?.get(key)
    if (!h) return false
    this.held?.delete(key)
    this.bytes -= h.bytes
    const u = this.usage?.get(provider)
    if (!u) return true
    u.bytes -= h.bytes
    u.keys.delete(key)
    if (u.keys.size === 0) this.usage?.delete(provider)
    return true
  }

  private largestProvider(): [PeerId, ProviderUsage] | undefined {
    let best: [PeerId, ProviderUsage] | undefined
    for (const entry of this.usage ?? []) if (!best || entry[1].bytes > best[1].bytes) best = entry
    return best
  }
}
