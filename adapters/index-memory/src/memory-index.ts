import {
  type Clock,
  type ContentHash,
  type FileRecord,
  gramSize,
  type Hit,
  type Index,
  keywords,
  MAX_GRAM_CHARS,
  type PeerId,
  type PeerRef,
  type PutOptions,
  type Query,
  RealClock,
  termMatches,
  Vocabulary,
} from '@peerkit/core'
import { BigramFilter } from './bigram-filter.js'

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
 * The records of one hash: the entry itself while it has one provider (the
 * common case: a Map of one costs about 170 bytes more), a map by provider
 * from the second on.
 */
type Held = Entry | Map<PeerId, Entry>

function entriesOf(held: Held): Iterable<Entry> {
  return held instanceof Map ? held.values() : [held]
}

function countOf(held: Held): number {
  return held instanceof Map ? held.size : 1
}

function entryOf(held: Held | undefined, provider: PeerId): Entry | undefined {
  if (held === undefined) return undefined
  if (held instanceof Map) return held.get(provider)
  return held.record.provider.id === provider ? held : undefined
}

/**
 * The default `Index`: an inverted keyword index (keyword → content hashes,
 * with a count of the records that carry the keyword) beside a content-hash
 * map (hash → provider → record; hash → record while it has one provider)
 * and a provider map (provider → hashes).
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
  private byHash: Map<ContentHash, Held> | undefined
  private postings: Map<string, Map<ContentHash, number>> | undefined
  /**
   * The posted terms with their n-gram map, answering which of them a query
   * term matches (prefix or substring: core's `termMatches`); made past
   * `VOCABULARY_FROM` terms (below, the posted terms are scanned: a simulator
   * keeps 200,000 small indexes).
   */
  private vocabulary: Vocabulary | undefined
  /**
   * The posted terms' bigrams, while there is no vocabulary: made by the
   * first search, so a query term that matches nothing here costs a few
   * bit tests, not a read of every term (a flood asks every node).
   */
  private filter: BigramFilter | undefined
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
    const held = this.byHash?.get(hash)
    return held ? [...entriesOf(held)].map((e) => e.record) : []
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
    for (const held of this.byHash.values()) for (const entry of entriesOf(held)) all.push(entry.record)
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
    this.filter = undefined
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
    const held = this.byHash.get(record.hash)
    const old = entryOf(held, provider)
    if (old) this.unpost(record.hash, old.terms)
    else this.total++
    const key = `${record.hash} ${provider}`
    if (expiresAt !== undefined) {
      this.expiries ??= new Map()
      this.expiries.set(key, expiresAt)
      if (expiresAt < this.soonest) this.soonest = expiresAt
    } else this.expiries?.delete(key)
    const terms = termsOf(record)
    const entry: Entry = { record, terms }
    if (held instanceof Map) held.set(provider, entry)
    else if (held === undefined || old) this.byHash.set(record.hash, entry)
    else
      this.byHash.set(
        record.hash,
        new Map([
          [held.record.provider.id, held],
          [provider, entry],
        ]),
      )
    for (const term of terms) {
      let list = this.postings.get(term)
      if (!list) {
        list = new Map()
        this.postings.set(term, list)
        if (this.filter) {
          if (this.postings.size > this.filter.capacity) this.filter = undefined
          else this.filter.add(term)
        }
        if (this.vocabulary) this.vocabulary.add(term)
        else if (this.postings.size > VOCABULARY_FROM) {
          this.vocabulary = new Vocabulary()
          this.filter = undefined
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
    const held = this.byHash?.get(hash)
    if (!held) return 0
    if (provider === undefined) {
      let n = 0
      for (const e of [...entriesOf(held)]) n += this.removeOne(hash, e.record.provider.id)
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
      const held = byHash.get(hash) as Held
      const count = countOf(held)
      if (!best.wants(count)) continue
      const named = this.named(held, wanted)
      if (named) best.add({ hash, count, name: named.name, named })
    }
    // Hits are built only for the best `limit` candidates.
    return best.sorted().map((c) => this.toHit(c.hash, c.named, byHash.get(c.hash) as Held))
  }

  /** The hit for `hash` with every provider of it. */
  private hitOf(hash: ContentHash): Hit | undefined {
    const held = this.byHash?.get(hash)
    const first = held === undefined ? undefined : entriesOf(held)[Symbol.iterator]().next().value
    return held && first ? this.toHit(hash, first.record, held) : undefined
  }

  /** A provider's record that carries every wanted term (names may differ between providers). */
  private named(held: Held, wanted: readonly string[]): FileRecord | undefined {
    for (const entry of entriesOf(held)) {
      if (wanted.every((w) => entry.terms.some((k) => termMatches(w, k)))) return entry.record
    }
    return undefined
  }

  private toHit(hash: ContentHash, named: FileRecord, held: Held): Hit {
    const refs: PeerRef[] = []
    for (const e of entriesOf(held)) refs.push(e.record.provider)
    return { hash, name: named.name, size: named.size, chunkSize: named.chunkSize, providers: refs }
  }

  private removeOne(hash: ContentHash, provider: PeerId): number {
    const held = this.byHash?.get(hash)
    const entry = entryOf(held, provider)
    if (!held || !entry) return 0
    if (held instanceof Map) {
      held.delete(provider)
      const [last, more] = held.values()
      if (last && !more) this.byHash?.set(hash, last)
    } else this.byHash?.delete(hash)
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
        if (this.filter && ++this.filter.removed * 2 > this.filter.capacity) this.filter = undefined
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
    if (this.vocabulary) return unionOf(this.vocabulary.matching(term), postings)
    // Every node of a flood searches its index for every query it sees, and most terms match
    // nothing there: the filter answers most of those, and the scan makes no array and works
    // out what depends on the term alone once.
    if (term.length === 0) return undefined
    this.filter ??= filterOf(postings)
    if (!this.filter.mayMatch(term)) return undefined
    const substring = [...term].length >= gramSize(term)
    let found: string | undefined
    let more: string[] | undefined
    for (const w of postings.keys()) {
      if (!matchesWord(term, substring, w)) continue
      if (found === undefined) found = w
      else if (more === undefined) more = [found, w]
      else more.push(w)
    }
    if (more !== undefined) return unionOf(more, postings)
    return found === undefined ? undefined : postings.get(found)
  }
}

/** A filter of the posted terms' bigrams. */
function filterOf(postings: Map<string, Map<ContentHash, number>>): BigramFilter {
  const filter = new BigramFilter(postings.size)
  for (const w of postings.keys()) filter.add(w)
  return filter
}

/** The posting list of the one word, or the union of the words' lists (counts added); undefined for none. */
function unionOf(
  words: readonly string[],
  postings: Map<string, Map<ContentHash, number>>,
): Map<ContentHash, number> | undefined {
  if (words.length <= 1) return words[0] === undefined ? undefined : postings.get(words[0])
  const union = new Map<ContentHash, number>()
  for (const w of words)
    for (const [hash, n] of postings.get(w) ?? []) union.set(hash, (union.get(hash) ?? 0) + n)
  return union
}

/**
 * Core's `termMatches(term, word)` for a non-empty `term`, with the part that
 * depends on the term alone passed in: `substring` is true when the term is
 * long enough to match inside a word (`[...term].length >= gramSize(term)`).
 * A word of at most `MAX_GRAM_CHARS` UTF-16 units is its own gram head; a
 * longer one goes to `termMatches` itself.
 */
export function matchesWord(term: string, substring: boolean, word: string): boolean {
  if (word.startsWith(term)) return true
  if (!substring) return false
  return word.length <= MAX_GRAM_CHARS ? word.includes(term) : termMatches(term, word)
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
