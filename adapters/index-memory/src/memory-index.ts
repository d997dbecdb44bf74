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
  SUBSTRING_MIN,
  termMatches,
  Vocabulary,
} from '@peerkit/core'
import { BigramFilter, foldMayMatch } from './bigram-filter.js'

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

/** Providers of one hash held in an array, in the order they came; past this many, a Map by provider. */
const HELD_IN_ARRAY = 8

/**
 * The records of one hash, in the order their providers came: the entry
 * itself while it has one provider (the common case), an array of entries
 * up to `HELD_IN_ARRAY` providers (a DHT node holds each record of a file
 * with 3 replicas 3 times: an array of 3 costs about 72 bytes of heap, a Map
 * of 3 about 184), a map by provider past that.
 */
type Held = Entry | Entry[] | Map<PeerId, Entry>

function entriesOf(held: Held): Iterable<Entry> {
  return held instanceof Map ? held.values() : Array.isArray(held) ? held : [held]
}

function countOf(held: Held): number {
  return held instanceof Map ? held.size : Array.isArray(held) ? held.length : 1
}

function entryOf(held: Held | undefined, provider: PeerId): Entry | undefined {
  if (held === undefined) return undefined
  if (held instanceof Map) return held.get(provider)
  if (Array.isArray(held)) {
    for (const e of held) if (e.record.provider.id === provider) return e
    return undefined
  }
  return held.record.provider.id === provider ? held : undefined
}

/** `held` with `entry` in place of its provider's entry, or added last; the same object when changed in place. */
function withEntry(held: Held | undefined, provider: PeerId, entry: Entry): Held {
  if (held === undefined) return entry
  if (held instanceof Map) return held.set(provider, entry)
  if (!Array.isArray(held)) return held.record.provider.id === provider ? entry : [held, entry]
  const at = held.findIndex((e) => e.record.provider.id === provider)
  if (at >= 0) {
    held[at] = entry
    return held
  }
  // A new array of the exact length: one grown by push keeps room for 16 more (about 130 bytes).
  if (held.length < HELD_IN_ARRAY) return held.concat([entry])
  return new Map([...held.map((e): [PeerId, Entry] => [e.record.provider.id, e]), [provider, entry]])
}

/** `held` without its provider's entry (undefined when none is left); the same object when unchanged or changed in place. */
function withoutEntry(held: Held, provider: PeerId): Held | undefined {
  if (held instanceof Map) {
    held.delete(provider)
    const [last, more] = held.values()
    return last !== undefined && more === undefined ? last : held
  }
  if (!Array.isArray(held)) return held.record.provider.id === provider ? undefined : held
  const at = held.findIndex((e) => e.record.provider.id === provider)
  if (at < 0) return held
  if (held.length === 2) return held[1 - at]
  return held.slice(0, at).concat(held.slice(at + 1))
}

/**
 * One term's hashes: the hash itself while it is the only one and one
 * record carries the term; a `Counted` when more records of that one hash
 * carry it (its providers); a map of hash to how many records of it carry
 * the term past one hash. A Map of one costs about 184 bytes (a `Counted`
 * 40), and most terms of a node's records are their own file's.
 */
type Posting = ContentHash | Counted | Map<ContentHash, number>

/** The one hash of a posting, carried by `n` records. */
class Counted {
  constructor(
    readonly hash: ContentHash,
    public n: number,
  ) {}
}

function postingSize(posting: Posting): number {
  return posting instanceof Map ? posting.size : 1
}

function postingHas(posting: Posting, hash: ContentHash): boolean {
  if (typeof posting === 'string') return posting === hash
  return posting instanceof Counted ? posting.hash === hash : posting.has(hash)
}

/** The hashes of a posting. */
function postingHashes(posting: Posting): Iterable<ContentHash> {
  if (typeof posting === 'string') return [posting]
  return posting instanceof Counted ? [posting.hash] : posting.keys()
}

/** The hashes of a posting with their counts. */
function postingEntries(posting: Posting): Iterable<[ContentHash, number]> {
  if (typeof posting === 'string') return [[posting, 1]]
  return posting instanceof Counted ? [[posting.hash, posting.n]] : posting
}

/** `posting` with one more record of `hash`; the same object when changed in place. */
function posted(posting: Posting | undefined, hash: ContentHash): Posting {
  if (posting === undefined) return hash
  if (posting instanceof Map) return posting.set(hash, (posting.get(hash) ?? 0) + 1)
  const one = typeof posting === 'string' ? hash === posting : hash === posting.hash
  if (typeof posting === 'string')
    return one
      ? new Counted(hash, 2)
      : new Map([
          [posting, 1],
          [hash, 1],
        ])
  if (one) {
    posting.n++
    return posting
  }
  return new Map([
    [posting.hash, posting.n],
    [hash, 1],
  ])
}

/** `posting` with one record of `hash` less (undefined when nothing is left); the same object when changed in place. */
function unposted(posting: Posting, hash: ContentHash): Posting | undefined {
  if (typeof posting === 'string') return posting === hash ? undefined : posting
  if (posting instanceof Counted) {
    if (posting.hash !== hash) return posting
    return --posting.n > 1 ? posting : posting.hash
  }
  const n = (posting.get(hash) ?? 0) - 1
  if (n > 0) posting.set(hash, n)
  else posting.delete(hash)
  if (posting.size !== 1) return posting.size === 0 ? undefined : posting
  // Back to a single hash once one is left.
  const [only, count] = posting.entries().next().value as [ContentHash, number]
  return count === 1 ? only : new Counted(only, count)
}

/**
 * A provider's hashes: the hash itself while it has one (a Set of one costs
 * about 150 bytes, and most providers of a DHT node's records have one there).
 */
type Hashes = ContentHash | Set<ContentHash>

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
  private postings: Map<string, Posting> | undefined
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
  /**
   * The filter's fold (`BigramFilter.fold0`, `fold1`), copied here whenever it changes: a flood asks
   * every node, nearly always a cold index, and most terms stop at these two fields without reading
   * the filter (two more objects: its own and its bits).
   */
  private fold0 = 0
  private fold1 = 0
  /**
   * The posted terms in the postings' order, while there is no vocabulary: what a query term's
   * scan reads (a supernode's directory scans its few hundred terms for every query that reaches
   * it). Made by a search; dropped when a term comes or goes.
   */
  private scan: TermScan | undefined
  private byProvider: Map<PeerId, Hashes> | undefined
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
    if (hashes === undefined) return 0
    if (typeof hashes === 'string') return this.removeOne(hashes, provider)
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
    this.scan = undefined
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
    // No expiry put (a flooding node's own records): the soonest, a boxed number, is not read.
    if (this.expiries === undefined) return 0
    const now = this.clock.now()
    if (now < this.soonest) return 0
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
    const now = withEntry(held, provider, entry)
    if (now !== held) this.byHash.set(record.hash, now)
    for (const term of terms) {
      const list = this.postings.get(term)
      const next = posted(list, record.hash)
      if (next !== list) this.postings.set(term, next)
      if (list === undefined) {
        this.scan = undefined
        if (this.filter) {
          if (this.postings.size > this.filter.capacity) this.filter = undefined
          else {
            this.filter.add(term)
            this.fold0 = this.filter.fold0
            this.fold1 = this.filter.fold1
          }
        }
        if (this.vocabulary) this.vocabulary.add(term)
        else if (this.postings.size > VOCABULARY_FROM) {
          this.vocabulary = new Vocabulary()
          this.filter = undefined
          for (const w of this.postings.keys()) this.vocabulary.add(w)
        }
      }
    }
    const hashes = this.byProvider.get(provider)
    if (hashes === undefined) this.byProvider.set(provider, record.hash)
    else if (typeof hashes !== 'string') hashes.add(record.hash)
    else if (hashes !== record.hash) this.byProvider.set(provider, new Set([hashes, record.hash]))
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
    const wanted = queryTerms(query.keywords ?? [])
    const { postings, byHash } = this
    if (wanted.length === 0 || postings === undefined || byHash === undefined) return []
    // Most searches of a flood match nothing here: the first term's list is looked up before any array is made.
    const first = this.postingsOf(wanted[0] as string, postings)
    if (first === undefined) return []
    const lists: Posting[] = [first]
    for (let i = 1; i < wanted.length; i++) {
      const list = this.postingsOf(wanted[i] as string, postings)
      if (list === undefined) return []
      lists.push(list)
    }
    lists.sort((a, b) => postingSize(a) - postingSize(b))
    const [smallest, ...rest] = lists as [Posting, ...Posting[]]
    const best = new TopK(limit)
    for (const hash of postingHashes(smallest)) {
      if (!rest.every((list) => postingHas(list, hash))) continue
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
    const left = withoutEntry(held, provider)
    if (left === undefined) this.byHash?.delete(hash)
    else if (left !== held) this.byHash?.set(hash, left)
    this.unpost(hash, entry.terms)
    const hashes = this.byProvider?.get(provider)
    if (hashes === hash) this.byProvider?.delete(provider)
    else if (hashes !== undefined && typeof hashes !== 'string') {
      hashes.delete(hash)
      if (hashes.size === 1) this.byProvider?.set(provider, hashes.values().next().value as ContentHash)
    }
    this.expiries?.delete(`${hash} ${provider}`)
    this.total--
    return 1
  }

  private unpost(hash: ContentHash, terms: readonly string[]): void {
    const postings = this.postings
    if (postings === undefined) return
    for (const term of terms) {
      const list = postings.get(term)
      if (list === undefined) continue
      const next = unposted(list, hash)
      if (next === undefined) this.unpostTerm(term)
      else if (next !== list) postings.set(term, next)
    }
  }

  /** Forgets a term nothing is posted under any more. */
  private unpostTerm(term: string): void {
    this.postings?.delete(term)
    this.scan = undefined
    this.vocabulary?.delete(term)
    if (this.filter && ++this.filter.removed * 2 > this.filter.capacity) this.filter = undefined
  }

  /**
   * The hashes of the records with a term that query term `term` matches (a
   * prefix, or a substring of 3 characters, 2 in CJK): the union of those
   * terms' posting lists; undefined when none.
   */
  private postingsOf(term: string, postings: Map<string, Posting>): Posting | undefined {
    if (this.vocabulary) return unionOf(this.vocabulary.matching(term), postings)
    // Every node of a flood searches its index for every query it sees, and most terms match
    // nothing there: the filter answers most of those, and the scan walks the terms' array (`scan`,
    // kept between searches) and works out what depends on the term alone once.
    if (term.length === 0) return undefined
    let filter = this.filter
    if (filter === undefined) {
      filter = filterOf(postings)
      this.filter = filter
      this.fold0 = filter.fold0
      this.fold1 = filter.fold1
    }
    if (!foldMayMatch(term, this.fold0, this.fold1) || !filter.mayMatch(term)) return undefined
    this.scan ??= new TermScan([...postings.keys()])
    const words = this.scan.matching(term)
    if (words === undefined) return undefined
    return typeof words === 'string' ? postings.get(words) : unionOf(words, postings)
  }
}

/** Between two terms in `TermScan`'s text: never in a term (`keywords` keeps letters and digits only). */
const SEP = '\u0000'

/**
 * The posted terms of a small index, and which of them a query term matches (core's `termMatches`):
 * while every term is at most `MAX_GRAM_CHARS` UTF-16 units (the usual case), one string of them all,
 * each after a `SEP`, searched with `indexOf` (a substring term is in a term's text; a shorter one
 * follows a `SEP`), not a test of each term, every one a string object apart in memory (a supernode's
 * directory scans its few hundred terms for every query that reaches it, nearly always cold).
 */
class TermScan {
  /** The terms' text (undefined: a term is too long for it, or holds a `SEP`: each is tested). */
  private readonly text: string | undefined
  /** Where each term's `SEP` is in `text`. */
  private readonly starts: Int32Array

  constructor(private readonly words: readonly string[]) {
    this.starts = new Int32Array(words.length)
    let at = 0
    let plain = true
    for (let i = 0; i < words.length; i++) {
      const w = words[i] as string
      if (w.length > MAX_GRAM_CHARS || w.includes(SEP)) plain = false
      this.starts[i] = at
      at += 1 + w.length
    }
    this.text = plain ? SEP + words.join(SEP) : undefined
  }

  /** The terms `term` (not empty) matches, in the terms' order: one as itself, several as an array; undefined for none. */
  matching(term: string): string | string[] | undefined {
    const substring = longEnough(term)
    const text = this.text
    if (text === undefined || term.includes(SEP)) return this.each(term, substring)
    const words = this.words
    const starts = this.starts
    // A substring term is found anywhere in a term's text (a prefix too); a shorter one right after its SEP.
    const pattern = substring ? term : SEP + term
    let found: string | undefined
    let more: string[] | undefined
    for (let at = text.indexOf(pattern); at !== -1; ) {
      // The term holding `at`: the last one starting at or before it (a SEP-led pattern starts at its SEP).
      let lo = 0
      let hi = starts.length - 1
      while (lo < hi) {
        const mid = (lo + hi + 1) >>> 1
        if ((starts[mid] as number) <= at) lo = mid
        else hi = mid - 1
      }
      const w = words[lo] as string
      if (found === undefined) found = w
      else if (more === undefined) more = [found, w]
      else more.push(w)
      // On past this term: one match per term.
      const next = lo + 1
      if (next >= starts.length) break
      at = text.indexOf(pattern, starts[next] as number)
    }
    return more ?? found
  }

  /** `matching` by a test of each term. */
  private each(term: string, substring: boolean): string | string[] | undefined {
    const words = this.words
    let found: string | undefined
    let more: string[] | undefined
    for (let i = 0; i < words.length; i++) {
      const w = words[i] as string
      if (!matchesWord(term, substring, w)) continue
      if (found === undefined) found = w
      else if (more === undefined) more = [found, w]
      else more.push(w)
    }
    return more ?? found
  }
}

/** Whether `term` is long enough to match inside a word (`[...term].length >= gramSize(term)`). */
function longEnough(term: string): boolean {
  // Six UTF-16 units are at least three characters (SUBSTRING_MIN, the larger gram size): nothing to count.
  return term.length >= 2 * SUBSTRING_MIN || [...term].length >= gramSize(term)
}

/** A filter of the posted terms' bigrams. */
function filterOf(postings: Map<string, Posting>): BigramFilter {
  const filter = new BigramFilter(postings.size)
  for (const w of postings.keys()) filter.add(w)
  return filter
}

/** The posting list of the one word, or the union of the words' lists (counts added); undefined for none. */
function unionOf(words: readonly string[], postings: Map<string, Posting>): Posting | undefined {
  if (words.length <= 1) return words[0] === undefined ? undefined : postings.get(words[0])
  const union = new Map<ContentHash, number>()
  for (const w of words) {
    const posting = postings.get(w)
    if (posting === undefined) continue
    for (const [hash, n] of postingEntries(posting)) union.set(hash, (union.get(hash) ?? 0) + n)
  }
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
 * A query's keywords normalised, as `keywords(words.join(' '))` gives them:
 * the array itself when they already are (distinct runs of ASCII lowercase
 * letters and digits, as every peer's `parseQuery` sends them), without the
 * join, the case folding and the copies (a flood asks every node).
 */
export function queryTerms(words: readonly string[]): readonly string[] {
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string
    if (w.length === 0) return keywords(words.join(' '))
    for (let j = 0; j < w.length; j++) {
      const c = w.charCodeAt(j)
      if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39))) return keywords(words.join(' '))
    }
    for (let j = 0; j < i; j++) if (words[j] === w) return keywords(words.join(' '))
  }
  return words
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
