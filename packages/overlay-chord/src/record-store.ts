import {
  type ContentHash,
  type FileRecord,
  type Index,
  matches,
  type PeerId,
  type PeerRef,
  type Query,
  type SignedFileRecord,
} from '@peerkit/core'

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

/**
 * A record held: as it is searched, handed over and kept in the Index, signed,
 * with the time this node drops it (`heldUntil`, never after `expires`; restored
 * on `open`). One object per record held, however many of the record's keys
 * this node holds it under; the Index keeps the same object.
 */
export type StoredRecord = SignedFileRecord & { heldUntil: number }

/** The records of one hash: the record itself while one provider's is held (the common case), by provider from the second on. */
type OfHash = StoredRecord | Map<PeerId, StoredRecord>

interface ProviderUsage {
  bytes: number
  /** Its records, oldest first (the ones evicted first when the store is full): the record itself while it has one. */
  records: StoredRecord | Set<StoredRecord>
}

const countOf = (records: StoredRecord | Set<StoredRecord>) => (records instanceof Set ? records.size : 1)

/** What one record costs to hold, roughly: its strings plus a fixed overhead for the index entries. */
export function recordBytes(r: FileRecord): number {
  let n = 64 + r.name.length + r.provider.id.length + 86 + 160
  for (const k of r.keywords) n += k.length + 48
  for (const a of r.provider.addresses) n += a.length + 16
  return n
}

/**
 * The records a Chord node holds for its key range and its replicas: an
 * Index (from `INDEX_FACTORY`, named `chord`) plus, per record, its provider's
 * signature, its signed expiry and the time this node drops it, with quotas
 * per provider and for the whole store. Pure: times are given.
 *
 * The bookkeeping (what is held, until when, the quotas) is kept here,
 * synchronously, bounded by the store's budget; the Index searches the
 * records by keyword and keeps them across a restart: each is put signed,
 * and a persistent (`durable`) one with its local expiry as `expiresAt`, so
 * it gives them back on `open()` until the time they would have lapsed. A
 * memory one is given no expiry (it would keep a second map of them): it
 * holds the store's own objects, and the store drops records whose time is
 * up itself (`expire`; its answers skip them before). Writes to the
 * Index are issued in order without waiting (an Index applies calls in the
 * order they are made); one that fails is reported to `onError`.
 */
export class RecordStore {
  /** By hash, then by provider; made with the first record (most simulated nodes hold none). */
  private held: Map<ContentHash, OfHash> | undefined
  private usage: Map<PeerId, ProviderUsage> | undefined
  private count = 0
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
      const { heldUntil, signature, expires } = r as Partial<StoredRecord> & FileRecord
      if (typeof heldUntil !== 'number' || typeof signature !== 'string' || typeof expires !== 'number') {
        strays.push(r)
        continue
      }
      const current = this.find(r.hash, r.provider.id)
      if (current) this.forget(current)
      this.insert(storedOf(r as SignedFileRecord, heldUntil))
      n++
    }
    for (const r of strays) await this.index.remove(r.hash, r.provider.id)
    return n
  }

  /** Closes the Index once its writes are done. */
  close(): Promise<void> {
    return this.index.close()
  }

  get size(): number {
    return this.count
  }

  /** Bytes held (as `recordBytes` counts them). */
  get heldBytes(): number {
    return this.bytes
  }

  /** Records and bytes held of one provider. */
  usageOf(provider: PeerId): { records: number; bytes: number } {
    const u = this.usage?.get(provider)
    return { records: u ? countOf(u.records) : 0, bytes: u?.bytes ?? 0 }
  }

  /**
   * Stores (or refreshes) a signed record until `expiresAt` (at most its signed
   * expiry); a refresh never shortens its life, and a copy signed earlier than
   * the one held changes nothing. Past the provider's quota the record is
   * refused; past the whole budget the largest provider's oldest records make
   * room, unless this provider is the largest.
   *
   * A record held is one object, updated in place by a copy signed later with
   * the same name and keywords (it keeps its strings and its place among its
   * provider's records); a copy with the same signature (the record under
   * another of its keys, or from another replica) only extends its life.
   */
  put(record: SignedFileRecord, expiresAt: number): PutResult {
    const current = this.find(record.hash, record.provider.id)
    if (current && (record.expires < current.expires || sameSigned(current, record))) {
      const later = Math.max(current.heldUntil, Math.min(expiresAt, current.expires))
      if (later !== current.heldUntil) {
        current.heldUntil = later
        if (this.index.durable) this.write(this.index.put(current, { expiresAt: later }))
      }
      return 'stored'
    }
    const size = recordBytes(record)
    const added = current ? 0 : 1
    const grows = size - (current ? recordBytes(current) : 0)
    const mine = this.usage?.get(record.provider.id)
    const mineBytes = mine?.bytes ?? 0
    const { maxRecordsPerProvider, maxBytesPerProvider, maxStoredRecords, maxStoredBytes } = this.limits
    if (
      (mine ? countOf(mine.records) : 0) + added > maxRecordsPerProvider ||
      mineBytes + grows > maxBytesPerProvider
    )
      return 'provider-quota'
    while (this.count + added > maxStoredRecords || this.bytes + grows > maxStoredBytes) {
      const largest = this.largestProvider()
      if (!largest || largest[0] === record.provider.id || largest[1].bytes <= mineBytes + grows)
        return 'full'
      const { records } = largest[1]
      const oldest = records instanceof Set ? (records.values().next().value as StoredRecord) : records
      this.remove(oldest.hash, oldest.provider.id)
    }
    const heldUntil = Math.min(Math.max(current?.heldUntil ?? 0, expiresAt), record.expires)
    let stored: StoredRecord
    if (current && current.name === record.name && sameWords(current.keywords, record.keywords)) {
      stored = current
      stored.size = record.size
      stored.chunkSize = record.chunkSize
      if (!sameWords(stored.provider.addresses, record.provider.addresses))
        stored.provider = heldRef(record.provider)
      stored.expires = record.expires
      stored.signature = flat(record.signature)
      stored.heldUntil = heldUntil
      this.charge(stored, grows)
    } else {
      if (current) this.forget(current)
      stored = storedOf(record, heldUntil)
      // Its size and its provider's usage are those measured above (the evictions took other providers'
      // records), unless the copy it replaces was forgotten (which may have dropped the usage).
      this.insert(stored, size, current ? undefined : mine)
    }
    this.write(this.index.put(stored, this.index.durable ? { expiresAt: heldUntil } : undefined))
    return 'stored'
  }

  /** Removes the records of `hash` (only `provider`'s when given); returns how many went. */
  remove(hash: ContentHash, provider?: PeerId): number {
    const of = this.held?.get(hash)
    if (of === undefined) return 0
    const gone = provider !== undefined ? [pick(of, provider)] : of instanceof Map ? [...of.values()] : [of]
    let n = 0
    for (const r of gone) {
      if (r === undefined) continue
      this.forget(r)
      n++
    }
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
    const out: FileRecord[] = []
    for (const of of this.held?.values() ?? []) {
      if (of instanceof Map) for (const r of of.values()) out.push(r)
      else out.push(of)
    }
    return out
  }

  /** A held record with its provider's signature, as it travels; undefined when it is not held. */
  signed(record: FileRecord): SignedFileRecord | undefined {
    const h = this.find(record.hash, record.provider.id)
    return (
      h && {
        hash: h.hash,
        name: h.name,
        size: h.size,
        chunkSize: h.chunkSize,
        keywords: h.keywords,
        provider: h.provider,
        expires: h.expires,
        signature: h.signature,
      }
    )
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
    const at = this.find(record.hash, record.provider.id)?.heldUntil
    return at === undefined ? 0 : Math.max(1, at - now)
  }

  /** Drops every record whose time is up; returns how many went. */
  expire(now: number): number {
    if (this.held === undefined) return 0
    const due: StoredRecord[] = []
    for (const of of this.held.values()) {
      if (of instanceof Map) {
        for (const r of of.values()) if (r.heldUntil <= now) due.push(r)
      } else if (of.heldUntil <= now) due.push(of)
    }
    let n = 0
    for (const r of due) n += this.remove(r.hash, r.provider.id)
    return n
  }

  clear(): void {
    this.held?.clear()
    this.usage?.clear()
    this.count = 0
    this.bytes = 0
    this.write(this.index.clear())
  }

  /** The Index's records that this store holds, as it holds them (without what the Index keeps beside). */
  private known(records: readonly FileRecord[]): FileRecord[] {
    const out: FileRecord[] = []
    for (const r of records) {
      const h = this.find(r.hash, r.provider.id)
      if (h) out.push(h)
    }
    return out
  }

  /** The record of `hash` by `provider` held here. */
  private find(hash: ContentHash, provider: PeerId): StoredRecord | undefined {
    const of = this.held?.get(hash)
    return of === undefined ? undefined : pick(of, provider)
  }

  /** Holds `stored` (not held yet) and charges its provider (`size`: its `recordBytes`; `mine`: its provider's usage). */
  private insert(
    stored: StoredRecord,
    size = recordBytes(stored),
    mine = this.usage?.get(stored.provider.id),
  ): void {
    const { hash } = stored
    const provider = stored.provider.id
    this.held ??= new Map()
    this.usage ??= new Map()
    const of = this.held.get(hash)
    if (of === undefined) this.held.set(hash, stored)
    else if (of instanceof Map) of.set(provider, stored)
    else
      this.held.set(
        hash,
        new Map([
          [of.provider.id, of],
          [provider, stored],
        ]),
      )
    this.count++
    if (mine === undefined) this.usage.set(provider, { bytes: size, records: stored })
    else {
      if (mine.records instanceof Set) mine.records.add(stored)
      else mine.records = new Set([mine.records, stored])
      mine.bytes += size
    }
    this.bytes += size
  }

  /** Charges a held record's provider (and the store) `grows` more bytes. */
  private charge(stored: StoredRecord, grows: number): void {
    const mine = this.usage?.get(stored.provider.id)
    if (mine) mine.bytes += grows
    this.bytes += grows
  }

  private write(done: Promise<unknown>): void {
    done.catch(this.onError)
  }

  /** Stops holding `stored` (without a write to the Index) and refunds its provider. */
  private forget(stored: StoredRecord): void {
    const { hash } = stored
    const provider = stored.provider.id
    const of = this.held?.get(hash)
    if (of instanceof Map) {
      of.delete(provider)
      if (of.size === 1) this.held?.set(hash, of.values().next().value as StoredRecord)
    } else this.held?.delete(hash)
    this.count--
    const size = recordBytes(stored)
    this.bytes -= size
    const u = this.usage?.get(provider)
    if (!u) return
    u.bytes -= size
    if (!(u.records instanceof Set)) this.usage?.delete(provider)
    else {
      u.records.delete(stored)
      if (u.records.size === 1) u.records = u.records.values().next().value as StoredRecord
    }
  }

  private largestProvider(): [PeerId, ProviderUsage] | undefined {
    let best: [PeerId, ProviderUsage] | undefined
    for (const entry of this.usage ?? []) if (!best || entry[1].bytes > best[1].bytes) best = entry
    return best
  }
}

/** `of`'s record by `provider`. */
function pick(of: OfHash, provider: PeerId): StoredRecord | undefined {
  if (of instanceof Map) return of.get(provider)
  return of.provider.id === provider ? of : undefined
}

/** A new held record: `record`'s fields (not the message's other ones), held until `heldUntil`, at most its signed expiry. */
function storedOf(record: SignedFileRecord, heldUntil: number): StoredRecord {
  const { hash, name, size, chunkSize, keywords, provider, expires, signature } = record
  return {
    hash: flat(hash),
    name: flat(name),
    size,
    chunkSize,
    keywords: keywords.some((k) => k.length >= SLICE_MIN_LENGTH) ? keywords.map(flat) : keywords,
    provider: heldRef(provider),
    expires,
    signature: flat(signature),
    heldUntil: Math.min(heldUntil, expires),
  }
}

/** V8 keeps a substring of this many characters or more as a slice of its parent string. */
const SLICE_MIN_LENGTH = 13

/**
 * A flat copy of `s`. The strings of a decoded message are slices, each of a
 * parent string of its own one character longer (core's `decode` cuts them
 * off the frame so): a slice of a 64-character hash costs 129 bytes of heap,
 * a flat copy 97 (measured), and a record is held for hours, on every node
 * that holds one of its keys. Joining two pieces makes V8 copy the
 * characters into one new string.
 */
function flat(s: string): string {
  return s.length < SLICE_MIN_LENGTH ? s : [s.slice(0, 1), s.slice(1)].join('')
}

/** A record's provider as it is held: its id and addresses flat (`flat`). */
function heldRef(ref: PeerRef): PeerRef {
  return { id: flat(ref.id), addresses: ref.addresses.map(flat) }
}

/** Whether two word lists hold the same words in the same order. */
export function sameWords(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Whether `record` is the copy held: the same signature on the same fields. */
function sameSigned(held: StoredRecord, record: SignedFileRecord): boolean {
  return (
    record.signature === held.signature &&
    record.expires === held.expires &&
    record.name === held.name &&
    record.size === held.size &&
    record.chunkSize === held.chunkSize &&
    sameWords(record.keywords, held.keywords) &&
    sameWords(record.provider.addresses, held.provider.addresses)
  )
}
