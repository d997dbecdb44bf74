import {
  type Clock,
  type ContentHash,
  type FileRecord,
  type Hit,
  type Index,
  keywords,
  type PeerId,
  type PeerRef,
  type PutOptions,
  type Query,
  RealClock,
  termMatches,
  Vocabulary,
} from '@peerkit/core'

/** What a MemoryIndex is made with. */
export interface MemoryIndexComponents {
  /** Reads `now` for records put with an expiry (default: the real clock). */
  clock?: Clock
}

/** Posted terms scanned for a query term; past this many, a Vocabulary's n-gram map finds them. */
const VOCABULARY_FROM = 512

/** One stored record and the terms it is indexed under. */
interface Entry {
  record: FileRecord
  terms: readonly string[]
}

/**
 * The default `Index`: an inverted keyword index (keyword → content hashes,
 * with a count of the records that carry the keyword) beside a content-hash
 * map (hash → provider → record) and a provider map (provider → hashes).
 *
 * A keyword search intersects the posting lists smallest first, so its cost
 * follows the rarest keyword, not the catalog size; each candidate is then
 * confirmed against one record that carries every keyword. A query term
 * matches the terms it is a prefix of, or a substring of (3 characters or
 * more, 2 in CJK: core's `termMatches`); a term's posting list is the union
 * of theirs, found through a `Vocabulary` of the posted terms.
 *
 * Every method is synchronous underneath and returns a settled promise, so
 * calls apply in the order they are made. Nothing is persisted
 * (`durable: false`); `open` and `close` do nothing, and the index works
 * without them. Records put with an expiry are purged before the next read
 * that comes at or after it, by the injected clock (no timers).
 */
export class MemoryIndex implements Index {
  readonly [Symbol.toStringTag] = '@peerkit/index-memory'
  readonly durable = false
  private readonly clock: Clock
  /** Expiry by record key (`hash provider`), for the records put with one; made with the first. */
  private expiries: Map<string, number> | undefined
  /** The earliest expiry in `expiries` (infinity when none). */
  private soonest = Number.POSITIVE_INFINITY
  // Made with the first record (and dropped by `clear`): a simulator keeps 200,000 indexes, most empty.
  private byHash: Map<ContentHash, Map<PeerId, Entry>> | undefined
  private postings: Map<string, Map<ContentHash, number>> | undefined
  /**
   * The posted terms with their n-gram map, answering which of them a query
   * term matches (prefix or substring: core's `termMatches`); made past
   * `VOCABULARY_FROM` terms (below, the posted terms are scanned: a simulator
   * keeps 200,000 small indexes).
   */
  private vocabulary: Vocabulary | undefined
  private byProvider: Map<PeerId, Set<ContentHash>> | undefined
  private total = 0

  constructor(components: MemoryIndexComponents = {}) {
    this.clock = components.clock ?? new RealClock()
  }

  async open(): Promise<void> {}

  async close(): Promise<void> {}

  async put(record: FileRecord, options?: PutOptions): Promise<void> {
    this.putSync(record, options?.expiresAt)
  }

  async remove(hash: ContentHash, provider?: PeerId): Promise<number> {
    return this.removeSync(hash, provider)
  }

  async removeProvider(provider: PeerId): Promise<number> {
    const hashes = this.byProvider?.get(provider)
    if (!hashes) return 0
    let n = 0
    for (const hash of [...hashes]) n += this.removeOne(hash, provider)
    return n
  }

  async get(hash: ContentHash): Promise<FileRecord[]> {
    this.lapse()
    const providers = this.byHash?.get(hash)
    return providers ? [...providers.values()].map((e) => e.record) : []
  }

  async search(query: Query): Promise<Hit[]> {
    this.lapse()
    return this.searchNow(query)
  }

  async *records(): AsyncIterableIterator<FileRecord> {
    this.lapse()
    if (this.byHash === undefined) return
    // A snapshot: the caller may change the index while it iterates.
    const all: FileRecord[] = []
    for (const providers of this.byHash.values())
      for (const entry of providers.values()) all.push(entry.record)
    yield* all
  }

  async count(): Promise<number> {
    this.lapse()
    return this.total
  }

  async clear(): Promise<void> {
    this.byHash?.clear()
    this.postings?.clear()
    this.vocabulary = undefined
    this.byProvider?.clear()
    this.expiries?.clear()
    this.soonest = Number.POSITIVE_INFINITY
    this.total = 0
  }

  async expire(): Promise<number> {
    return this.lapse()
  }

  /** The expiry the record of `record.hash` by `record.provider` was put with, if any (lapsed or not). */
  expiryOf(record: Pick<FileRecord, 'hash' | 'provider'>): number | undefined {
    return this.expiries?.get(`${record.hash} ${record.provider.id}`)
  }

  /** Purges the records whose expiry is at or before now; returns how many went. */
  private lapse(): number {
    const now = this.clock.now()
    if (now < this.soonest || this.expiries === undefined) return 0
    let n = 0
    let soonest = Number.POSITIVE_INFINITY
    for (const [key, at] of this.expiries) {
      if (at <= now) {
        const cut = key.indexOf(' ')
        n += this.removeOne(key.slice(0, cut), key.slice(cut + 1))
      } else if (at < soonest) soonest = at
    }
    this.soonest = soonest
    return n
  }

  private putSync(record: FileRecord, expiresAt: number | undefined): void {
    const provider = record.provider.id
    this.byHash ??= new Map()
    this.postings ??= new Map()
    this.byProvider ??= new Map()
    let providers = this.byHash.get(record.hash)
    if (!providers) {
      providers = new Map()
      this.byHash.set(record.hash, providers)
    }
    const old = providers.get(provider)
    if (old) this.unpost(record.hash, old.terms)
    else this.total++
    const key = `${record.hash} ${provider}`
    if (expiresAt !== undefined) {
      this.expiries ??= new Map()
      this.expiries.set(key, expiresAt)
      if (expiresAt < this.soonest) this.soonest = expiresAt
    } else this.expiries?.delete(key)
    const terms = termsOf(record)
    providers.set(provider, { record, terms })
    for (const term of terms) {
      let list = this.postings.get(term)
      if (!list) {
        list = new Map()
        this.postings.set(term, list)
        if (this.vocabulary) this.vocabulary.add(term)
        else if (this.postings.size > VOCABULARY_FROM) {
          this.vocabulary = new Vocabulary()
          for (const w of this.postings.keys()) this.vocabulary.add(w)
        }
      }
      list.set(record.hash, (list.get(record.hash) ?? 0) + 1)
    }
    let hashes = this.byProvider.get(provider)
    if (!hashes) {
      hashes = new Set()
      this.byProvider.set(provider, hashes)
    }
    hashes.add(record.hash)
  }

  private removeSync(hash: ContentHash, provider?: PeerId): number {
    const providers = this.byHash?.get(hash)
    if (!providers) return 0
    if (provider === undefined) {
      let n = 0
      for (const id of [...providers.keys()]) n += this.removeOne(hash, id)
      return n
    }
    return this.removeOne(hash, provider)
  }

  private searchNow(query: Query): Hit[] {
    const limit = query.limit ?? Number.POSITIVE_INFINITY
    if (limit <= 0) return []
    if (query.hash !== undefined) {
      const hit = this.hitOf(query.hash)
      return hit ? [hit] : []
    }
    const wanted = keywords((query.keywords ?? []).join(' '))
    const { postings, byHash } = this
    if (wanted.length === 0 || postings === undefined || byHash === undefined) return []
    const lists: Map<ContentHash, number>[] = []
    for (const term of wanted) {
      const list = this.postingsOf(term, postings)
      if (!list) return []
      lists.push(list)
    }
    lists.sort((a, b) => a.size - b.size)
    const [smallest, ...rest] = lists as [Map<ContentHash, number>, ...Map<ContentHash, number>[]]
    const best = new TopK(limit)
    for (const hash of smallest.keys()) {
      if (!rest.every((list) => list.has(hash))) continue
      const providers = byHash.get(hash) as Map<PeerId, Entry>
      if (!best.wants(providers.size)) continue
      const named = this.named(providers, wanted)
      if (named) best.add({ hash, count: providers.size, name: named.name, named })
    }
    // Hits are built only for the best `limit` candidates.
    return best.sorted().map((c) => this.toHit(c.hash, c.named, byHash.get(c.hash) as Map<PeerId, Entry>))
  }

  /** The hit for `hash` with every provider of it. */
  private hitOf(hash: ContentHash): Hit | undefined {
    const providers = this.byHash?.get(hash)
    const first = providers?.values().next().value
    return providers && first ? this.toHit(hash, first.record, providers) : undefined
  }

  /** A provider's record that carries every wanted term (names may differ between providers). */
  private named(providers: Map<PeerId, Entry>, wanted: readonly string[]): FileRecord | undefined {
    for (const entry of providers.values()) {
      if (wanted.every((w) => entry.terms.some((k) => termMatches(w, k)))) return entry.record
    }
    return undefined
  }

  private toHit(hash: ContentHash, named: FileRecord, providers: Map<PeerId, Entry>): Hit {
    const refs: PeerRef[] = []
    for (const e of providers.values()) refs.push(e.record.provider)
    return { hash, name: named.name, size: named.size, chunkSize: named.chunkSize, providers: refs }
  }

  private removeOne(hash: ContentHash, provider: PeerId): number {
    const providers = this.byHash?.get(hash)
    const entry = providers?.get(provider)
    if (!providers || !entry) return 0
    providers.delete(provider)
    if (providers.size === 0) this.byHash?.delete(hash)
    this.unpost(hash, entry.terms)
    const hashes = this.byProvider?.get(provider)
    hashes?.delete(hash)
    if (hashes?.size === 0) this.byProvider?.delete(provider)
    this.expiries?.delete(`${hash} ${provider}`)
    this.total--
    return 1
  }

  private unpost(hash: ContentHash, terms: readonly string[]): void {
    for (const term of terms) {
      const list = this.postings?.get(term)
      if (!list) continue
      const n = (list.get(hash) ?? 0) - 1
      if (n > 0) list.set(hash, n)
      else list.delete(hash)
      if (list.size === 0) {
        this.postings?.delete(term)
        this.vocabulary?.delete(term)
      }
    }
  }

  /**
   * The hashes of the records with a term that query term `term` matches (a
   * prefix, or a substring of 3 characters, 2 in CJK): the union of those
   * terms' posting lists; undefined when none.
   */
  private postingsOf(
    term: string,
    postings: Map<string, Map<ContentHash, number>>,
  ): Map<ContentHash, number> | undefined {
    const words = this.vocabulary
      ? this.vocabulary.matching(term)
      : [...postings.keys()].filter((w) => termMatches(term, w))
    if (words.length <= 1) return words[0] === undefined ? undefined : postings.get(words[0])
    const union = new Map<ContentHash, number>()
    for (const w of words)
      for (const [hash, n] of postings.get(w) ?? []) union.set(hash, (union.get(hash) ?? 0) + n)
    return union
  }
}

/**
 * A record's search terms: its keywords, normalised, and its name's (so a
 * record without keywords is still found). The record's own keyword array is
 * reused when it already is exactly that.
 */
function termsOf(record: FileRecord): readonly string[] {
  const terms = keywords(`${record.keywords.join(' ')} ${record.name}`)
  const own = record.keywords
  return terms.length === own.length && terms.every((t, i) => t === own[i]) ? own : terms
}

/** A matching file before its Hit is built. */
interface Candidate {
  hash: ContentHash
  count: number
  name: string
  named: FileRecord
}

/** More providers first, then by name and hash (a stable order). */
function byRank(a: Candidate, b: Candidate): number {
  return (
    b.count - a.count ||
    (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) ||
    (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0)
  )
}

/**
 * The best `k` candidates by `byRank`, kept sorted: a candidate with fewer
 * providers than the worst kept one is turned away before anything is built.
 */
class TopK {
  private readonly items: Candidate[] = []

  constructor(private readonly k: number) {}

  /** False when a candidate with `count` providers cannot make the cut. */
  wants(count: number): boolean {
    if (this.items.length < this.k) return true
    return count >= (this.items[this.items.length - 1] as Candidate).count
  }

  add(c: Candidate): void {
    const items = this.items
    if (!Number.isFinite(this.k)) {
      items.push(c) // no limit: sorted once at the end
      return
    }
    if (items.length >= this.k && byRank(c, items[items.length - 1] as Candidate) >= 0) return
    let lo = 0
    let hi = items.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (byRank(items[mid] as Candidate, c) <= 0) lo = mid + 1
      else hi = mid
    }
    items.splice(lo, 0, c)
    if (items.length > this.k) items.pop()
  }

  sorted(): Candidate[] {
    return Number.isFinite(this.k) ? this.items : this.items.sort(byRank)
  }
}
