// A third-party Index, as a plugin author would publish it: plain JavaScript on the published
// @peerkit/core. Importing it registers the index 'scan': every record in one map, and a search
// scans them all (fine for a few thousand records; the built-in 'memory' index keeps an inverted
// keyword index instead). A host selects it by configuration:
// { index: 'scan', plugins: ['./third-party-index.mjs'] }.
import 'reflect-metadata' // a plugin must not need its host to have loaded the polyfill first
import { CLOCK, INDEX_FACTORY, InvalidOptionsError, indexes, keywords, matches, NotStartedError } from '@peerkit/core'

/**
 * peerkit's Index contract: asynchronous, opened and closed in the peer's lifecycle, calls applied in
 * the order they are made, records put with an expiry (the clock's milliseconds) never returned past it.
 * Nothing here outlives close() (durable: false). Matching is core's: every query term is a prefix or
 * a substring of one of the record's keywords.
 */
export class ScanIndex {
  #records = new Map()
  #open = false
  #clock

  /** `clock`: reads `now` for expiry (the container's CLOCK; the real clock when none is given). */
  constructor({ clock } = {}) {
    this.#clock = clock ?? { now: () => Date.now() }
  }

  get durable() {
    return false
  }

  async open() {
    this.#open = true
  }

  async close() {
    this.#open = false
    this.#records.clear()
  }

  async put(record, options = {}) {
    this.#check()
    this.#records.set(keyOf(record.hash, record.provider.id), { record, expiresAt: options.expiresAt })
  }

  async remove(hash, provider) {
    this.#check()
    let n = 0
    for (const [key, { record }] of this.#records) {
      if (record.hash === hash && (provider === undefined || record.provider.id === provider)) {
        this.#records.delete(key)
        n++
      }
    }
    return n
  }

  async removeProvider(provider) {
    this.#check()
    let n = 0
    for (const [key, { record }] of this.#records) {
      if (record.provider.id === provider) {
        this.#records.delete(key)
        n++
      }
    }
    return n
  }

  async get(hash) {
    this.#check()
    return this.#live()
      .filter((r) => r.hash === hash)
      .map((r) => structuredClone(r))
  }

  async search(query) {
    this.#check()
    const limit = query.limit ?? Number.POSITIVE_INFINITY
    if (limit <= 0) return []
    // Query words are normalised as names are (case, accents, punctuation).
    const q = query.hash === undefined ? { ...query, keywords: keywords((query.keywords ?? []).join(' ')) } : query
    const live = this.#live()
    const hits = new Map()
    for (const record of live) {
      if (!matches(record, q) || hits.has(record.hash)) continue
      hits.set(record.hash, { ...pick(record), providers: [] })
    }
    // Every provider of a matching hash, not only those whose copy's name matched.
    for (const record of live) hits.get(record.hash)?.providers.push(structuredClone(record.provider))
    return [...hits.values()].sort((a, b) => b.providers.length - a.providers.length).slice(0, limit)
  }

  async *records() {
    this.#check()
    for (const record of this.#live()) yield structuredClone(record)
  }

  async count() {
    this.#check()
    return this.#live().length
  }

  async clear() {
    this.#check()
    this.#records.clear()
  }

  async expire() {
    this.#check()
    const now = this.#clock.now()
    let n = 0
    for (const [key, { expiresAt }] of this.#records) {
      if (expiresAt !== undefined && expiresAt <= now) {
        this.#records.delete(key)
        n++
      }
    }
    return n
  }

  /** The records not past their expiry, in the order they were first put; those past it are purged on the way. */
  #live() {
    const now = this.#clock.now()
    const out = []
    for (const [key, { record, expiresAt }] of this.#records) {
      if (expiresAt === undefined || expiresAt > now) out.push(record)
      else this.#records.delete(key)
    }
    return out
  }

  #check() {
    if (!this.#open) throw new NotStartedError('the scan index is not open')
  }
}

const keyOf = (hash, provider) => `${hash} ${provider}`
const pick = ({ hash, name, size, chunkSize }) => ({ hash, name, size, chunkSize })

/** The registration factory: 'scan' takes no options. */
export function scanIndex(options) {
  if (options !== undefined && (typeof options !== 'object' || Object.keys(options ?? {}).length > 0)) {
    throw new InvalidOptionsError(`scan takes no options (got ${JSON.stringify(options)})`)
  }
  return (c) =>
    c.register(INDEX_FACTORY, {
      useFactory: (cc) => {
        const clock = cc.isRegistered(CLOCK, true) ? cc.resolve(CLOCK) : undefined
        return () => new ScanIndex({ clock })
      },
    })
}

indexes.register('scan', scanIndex)
