import {
  type Clock,
  type ContentHash,
  type FileRecord,
  type Hit,
  type Index,
  InvalidOptionsError,
  indexGrams,
  isContentHash,
  keywords,
  NotStartedError,
  type PeerId,
  type PeerRef,
  type PutOptions,
  type Query,
  queryGrams,
  RealClock,
  termMatches,
} from '@peerkit/core'
import type { Database, RootDatabase } from 'lmdb'
import { acquire, release } from './environment.js'
import type { ResolvedLmdbIndexOptions } from './options.js'

/**
 * A stored record: as put (`r`), its search terms (`t`, left out when they
 * are its keywords, as for every record named by `keywords()`), when it was
 * first put (`s`, a counter) and its expiry (`e`).
 */
interface Stored {
  r: FileRecord
  t?: string[]
  s: number
  e?: number
}

/** A stored record's search terms. */
function termsIn(s: Stored): string[] {
  return s.t ?? s.r.keywords
}

/** One write waiting for its batch to commit. */
interface Op {
  apply: () => unknown
  resolve: (value: unknown) => void
  reject: (err: unknown) => void
}

/** The highest code point: `term + TOP` ends the range of the words that start with `term`. */
const TOP = '\u{10FFFF}'

/** What an LmdbIndex is made with. */
export interface LmdbIndexComponents {
  /** Reads `now` for records put with an expiry (default: the real clock). */
  clock?: Clock
}

/**
 * The embedded persistent `Index`: every named index of a peer is a set of
 * LMDB databases in one environment (the data folder's `index/`), so the
 * records, their keyword postings and their expiry are on disk, memory-mapped,
 * and nothing is loaded on `open()`.
 *
 * Per index `NAME`: `NAME/records` ([hash, provider] → the record as put, its
 * terms and expiry), `NAME/postings` (term → the hashes carrying it, sorted
 * duplicates of 32 bytes), `NAME/terms` (term → records carrying it), `NAME/grams`
 * (n-gram → term, for substring search),
 * `NAME/providers` ([provider, hash]) and `NAME/expiry` ([time, hash,
 * provider]). A keyword query term matches a term as core's `termMatches`
 * says: prefixes come from a range of `terms`' keys, substrings from the
 * terms that carry all of the term's n-grams.
 *
 * **Order and durability.** Calls apply in the order they are made. Writes
 * made without waiting in between are committed together, in one LMDB
 * transaction; a read waits for the writes called before it. A write's
 * promise resolves once its transaction is committed (and flushed to disk,
 * with `sync`, the default). Commits are synchronous: each holds the event
 * loop for its disk flush (one per batch of writes, not per write). A crash loses at most the writes whose promises
 * had not resolved, whole transactions at a time: never part of a `put`,
 * `remove` or `clear`.
 */
export class LmdbIndex implements Index {
  readonly [Symbol.toStringTag] = '@peerkit/index-lmdb'
  readonly durable = true
  private readonly clock: Clock
  private root: RootDatabase | undefined
  private dbs: Databases | undefined
  /** Every call waits for the one before it; never rejects. */
  private tail: Promise<unknown> = Promise.resolve()
  /** Writes called since the last read, committed together when their turn comes. */
  private batch: Op[] | undefined

  constructor(
    readonly path: string,
    readonly name: string,
    private readonly options: ResolvedLmdbIndexOptions,
    components: LmdbIndexComponents = {},
  ) {
    this.clock = components.clock ?? new RealClock()
  }

  get isOpen(): boolean {
    return this.dbs !== undefined
  }

  async open(): Promise<void> {
    if (this.dbs) return
    const root = await acquire(this.path, this.options)
    const db = (part: string, dupSort: false | 'string' | 'binary' = false) =>
      root.openDB({ name: `${this.name}/${part}`, ...(dupSort ? { dupSort: true, encoding: dupSort } : {}) })
    this.root = root
    this.dbs = {
      records: db('records') as Database<Stored, [string, string]>,
      postings: db('postings', 'binary') as Database<Buffer, string>,
      grams: db('grams', 'string') as Database<string, string>,
      providers: db('providers') as Database<true, [string, string]>,
      expiry: db('expiry') as Database<true, [number, string, string]>,
      meta: db('meta') as Database<number, string>,
      terms: db('terms') as Database<number, string>,
    }
    await this.purgeDue()
  }

  async close(): Promise<void> {
    if (!this.dbs) return
    this.dbs = undefined
    this.batch = undefined
    await this.tail
    this.root = undefined
    await release(this.path)
  }

  put(record: FileRecord, options?: PutOptions): Promise<void> {
    const expiresAt = options?.expiresAt
    return this.write((d) => {
      putRecord(d, record, expiresAt)
    })
  }

  remove(hash: ContentHash, provider?: PeerId): Promise<number> {
    return this.write((d) => {
      const ids = provider !== undefined ? [provider] : providersOf(d, hash)
      let n = 0
      for (const id of ids) n += removeRecord(d, hash, id)
      return n
    })
  }

  removeProvider(provider: PeerId): Promise<number> {
    return this.write((d) => {
      let n = 0
      // Keys, not a sorted-duplicates list: lmdb's getValues inside a write transaction misread keys in a worker thread.
      const hashes = [...d.providers.getKeys({ start: [provider, ''], end: [provider, TOP] })].map(
        (k) => k[1],
      )
      for (const hash of hashes) n += removeRecord(d, hash, provider)
      return n
    })
  }

  get(hash: ContentHash): Promise<FileRecord[]> {
    return this.read((d) => storedOf(d, hash).map((s) => s.r))
  }

  search(query: Query): Promise<Hit[]> {
    return this.read((d) => search(d, query))
  }

  async *records(): AsyncIterableIterator<FileRecord> {
    let after: [string, string] | undefined
    for (;;) {
      const from = after
      const page = await this.read((d) => [
        ...d.records.getRange({
          start: from,
          exclusiveStart: from !== undefined,
          limit: this.options.pageSize,
        }),
      ])
      for (const { value } of page) yield value.r
      const last = page.at(-1)
      if (page.length < this.options.pageSize || last === undefined) return
      after = last.key
    }
  }

  count(): Promise<number> {
    return this.read((d) => (d.records.getStats() as { entryCount: number }).entryCount)
  }

  clear(): Promise<void> {
    return this.write((d) => {
      for (const db of Object.values(d)) db.clearSync()
    })
  }

  expire(): Promise<number> {
    return this.write((d) => purge(d, this.clock.now()))
  }

  /** Queues a write: it joins the writes called since the last read, committed in one transaction. */
  private write<T>(apply: (d: Databases) => T): Promise<T> {
    const d = this.dbs
    if (!d) return Promise.reject(this.closed())
    return new Promise<T>((resolve, reject) => {
      const op: Op = { apply: () => apply(d), resolve: resolve as (v: unknown) => void, reject }
      if (this.batch) {
        this.batch.push(op)
        return
      }
      const batch = [op]
      this.batch = batch
      this.tail = this.tail.then(() => {
        if (this.batch === batch) this.batch = undefined
        return this.commit(batch)
      })
    })
  }

  /** Queues a read: it runs once the writes called before it are committed (and lapsed records purged). */
  private read<T>(run: (d: Databases) => T): Promise<T> {
    const d = this.dbs
    if (!d) return Promise.reject(this.closed())
    this.batch = undefined
    const done = this.tail.then(async () => {
      await this.purgeDue()
      return run(d)
    })
    this.tail = done.catch(() => undefined) // the caller gets the error; the next call still runs
    return done
  }

  /** Applies a batch of writes in one transaction; each op settles with its own result or error. */
  private async commit(batch: Op[]): Promise<void> {
    const root = this.root
    if (!root) {
      for (const op of batch) op.reject(this.closed())
      return
    }
    // Writes called in the same turn of the event loop (a folder's files as they are hashed) join this commit.
    await new Promise<void>((resolve) => setImmediate(resolve))
    const results: { ok: boolean; value: unknown }[] = []
    try {
      // Synchronous: lmdb's asynchronous transaction callbacks did not run on Node 20 here (the promise never
      // settled). The commit (and, with `sync`, the disk flush) holds the event loop once per batch.
      root.transactionSync(() => {
        for (const op of batch) {
          try {
            results.push({ ok: true, value: op.apply() })
          } catch (err) {
            results.push({ ok: false, value: err })
          }
        }
      })
    } catch (err) {
      for (const op of batch) op.reject(err)
      return
    }
    batch.forEach((op, i) => {
      const r = results[i]
      if (r?.ok) op.resolve(r.value)
      else op.reject(r?.value)
    })
  }

  /** Purges the lapsed records when the earliest expiry has passed (one look at the first key otherwise). */
  private async purgeDue(): Promise<void> {
    const d = this.dbs
    const root = this.root
    if (!d || !root) return
    const now = this.clock.now()
    for (const key of d.expiry.getKeys({ limit: 1 })) {
      if (key[0] <= now) root.transactionSync(() => purge(d, now))
    }
  }

  private closed(): NotStartedError {
    return new NotStartedError(`the lmdb index '${this.name}' at ${this.path} is not open: call open() first`)
  }
}

interface Databases {
  records: Database<Stored, [string, string]>
  /** Term → the hashes (32 bytes each) of the records that carry it, as sorted duplicates. */
  postings: Database<Buffer, string>
  grams: Database<string, string>
  providers: Database<true, [string, string]>
  expiry: Database<true, [number, string, string]>
  /** `seq`: the counter that orders records by when they were first put (a hit's providers, a hash's name). */
  meta: Database<number, string>
  /** Term → how many records carry it: the vocabulary, for prefix ranges and for filing a new term's grams once. */
  terms: Database<number, string>
}

/** A record's search terms: its keywords and its name's, normalised (as the memory index). */
function termsOf(record: FileRecord): string[] {
  return keywords(`${record.keywords.join(' ')} ${record.name}`)
}

function putRecord(d: Databases, record: FileRecord, expiresAt: number | undefined): void {
  const hash = record.hash
  // Postings keep a hash as its 32 bytes: only a content hash (64 lowercase hex digits) can be put.
  if (!isContentHash(hash))
    throw new InvalidOptionsError(`record.hash must be 64 lowercase hex digits (got '${hash}')`)
  const provider = record.provider.id
  // A replaced record keeps its place among its hash's providers, as in the memory index.
  let seq = d.records.get([hash, provider])?.s
  removeRecord(d, hash, provider)
  if (seq === undefined) {
    seq = (d.meta.get('seq') ?? 0) + 1
    d.meta.putSync('seq', seq)
  }
  const terms = termsOf(record)
  const stored: Stored = { r: record, s: seq }
  if (terms.length !== record.keywords.length || terms.some((w, i) => w !== record.keywords[i]))
    stored.t = terms
  if (expiresAt !== undefined) stored.e = expiresAt
  d.records.putSync([hash, provider], stored)
  const posting = Buffer.from(hash, 'hex')
  for (const term of terms) {
    const n = d.terms.get(term) ?? 0
    if (n === 0) for (const g of indexGrams(term)) d.grams.putSync(g, term)
    d.terms.putSync(term, n + 1)
    d.postings.putSync(term, posting)
  }
  d.providers.putSync([provider, hash], true)
  if (expiresAt !== undefined) d.expiry.putSync([expiresAt, hash, provider], true)
}

/** Removes the record of `hash` by `provider`, its postings, grams no term needs, and its expiry; 1 when there was one. */
function removeRecord(d: Databases, hash: ContentHash, provider: PeerId): number {
  const old = d.records.get([hash, provider])
  if (!old) return 0
  d.records.removeSync([hash, provider])
  const posting = Buffer.from(hash, 'hex')
  const others = storedOf(d, hash)
  for (const term of termsIn(old)) {
    // A hash is posted once per term: the posting goes with the last provider's record that carries the term.
    if (!others.some((s) => termsIn(s).includes(term))) d.postings.removeSync(term, posting)
    const n = (d.terms.get(term) ?? 1) - 1
    if (n > 0) d.terms.putSync(term, n)
    else {
      d.terms.removeSync(term)
      for (const g of indexGrams(term)) d.grams.removeSync(g, term)
    }
  }
  d.providers.removeSync([provider, hash])
  if (old.e !== undefined) d.expiry.removeSync([old.e, hash, provider])
  return 1
}

/** Removes every record whose expiry is at or before `now`; returns how many went. */
function purge(d: Databases, now: number): number {
  const due: [number, string, string][] = []
  for (const key of d.expiry.getKeys()) {
    if (key[0] > now) break
    due.push(key)
  }
  let n = 0
  for (const [, hash, provider] of due) n += removeRecord(d, hash, provider)
  return n
}

/** Every provider's stored record of `hash`. */
function storedOf(d: Databases, hash: ContentHash): Stored[] {
  return [...d.records.getRange({ start: [hash, ''], end: [hash, TOP] })]
    .map((e) => e.value)
    .sort((a, b) => a.s - b.s)
}

function providersOf(d: Databases, hash: ContentHash): PeerId[] {
  return storedOf(d, hash).map((s) => s.r.provider.id)
}

/** The terms query term `term` matches: prefixes from a key range, substrings from the n-gram map. */
function matchingTerms(d: Databases, term: string): Set<string> {
  const out = new Set<string>()
  for (const word of d.terms.getKeys({ start: term, end: `${term}${TOP}` })) out.add(word)
  const grams = queryGrams(term)
  if (grams.length === 0) return out
  // Every term it matches carries all its grams: the terms under its rarest gram, confirmed by termMatches.
  let rarest: { g: string; n: number } | undefined
  for (const g of grams) {
    const n = d.grams.getValuesCount(g)
    if (rarest === undefined || n < rarest.n) rarest = { g, n }
  }
  if (rarest === undefined || rarest.n === 0) return out
  for (const word of d.grams.getValues(rarest.g)) if (termMatches(term, word)) out.add(word)
  return out
}

/** The hashes of the records with one of `words`. */
function hashesOf(d: Databases, words: Iterable<string>): Set<ContentHash> {
  const out = new Set<ContentHash>()
  for (const word of words)
    for (const posting of d.postings.getValues(word)) out.add(Buffer.from(posting).toString('hex'))
  return out
}

interface Candidate {
  hash: ContentHash
  count: number
  named: FileRecord
  providers: PeerRef[]
}

function search(d: Databases, query: Query): Hit[] {
  const limit = query.limit ?? Number.POSITIVE_INFINITY
  if (limit <= 0) return []
  if (query.hash !== undefined) {
    const stored = storedOf(d, query.hash)
    const first = stored[0]
    return first
      ? [toHit({ hash: query.hash, count: stored.length, named: first.r, providers: refs(stored) })]
      : []
  }
  const wanted = keywords((query.keywords ?? []).join(' '))
  if (wanted.length === 0) return []
  // Candidates come from the rarest query term (by records counted in the vocabulary); every other term is
  // checked on the candidate's records, which must match them all in one provider's record anyway.
  let rarest: { words: Set<string>; n: number } | undefined
  for (const term of wanted) {
    const words = matchingTerms(d, term)
    let n = 0
    for (const w of words) n += d.terms.get(w) ?? 0
    if (n === 0) return []
    if (rarest === undefined || n < rarest.n) rarest = { words, n }
  }
  const found: Candidate[] = []
  for (const hash of hashesOf(d, rarest?.words ?? [])) {
    const stored = storedOf(d, hash)
    // One provider's record must carry every term (names may differ between providers).
    const named = stored.find((s) => wanted.every((w) => termsIn(s).some((k) => termMatches(w, k))))
    if (named) found.push({ hash, count: stored.length, named: named.r, providers: refs(stored) })
  }
  found.sort(byRank)
  return (Number.isFinite(limit) ? found.slice(0, limit) : found).map(toHit)
}

function refs(stored: Stored[]): PeerRef[] {
  return stored.map((s) => s.r.provider)
}

/** More providers first, then by name and hash (a stable order, as the memory index). */
function byRank(a: Candidate, b: Candidate): number {
  const an = a.named.name
  const bn = b.named.name
  return (
    b.count - a.count || (an < bn ? -1 : an > bn ? 1 : 0) || (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0)
  )
}

function toHit(c: Candidate): Hit {
  const { named } = c
  return {
    hash: c.hash,
    name: named.name,
    size: named.size,
    chunkSize: named.chunkSize,
    providers: c.providers,
  }
}
