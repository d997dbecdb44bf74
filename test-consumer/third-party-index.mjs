// A third-party Index, as a plugin author would publish it: plain JavaScript on the published
// @peerkit/core. Importing it registers the index 'scan': every record in one map, and a search
// scans them all (fine for a few thousand records; the built-in 'memory' index keeps an inverted
// keyword index instead). A host selects it by configuration:
// { index: 'scan', plugins: ['./third-party-index.mjs'] }.
import 'reflect-metadata' // a plugin must not need its host to have loaded the polyfill first
import { INDEX_FACTORY, InvalidOptionsError, indexes, keywords } from '@peerkit/core'

export class ScanIndex {
  #records = new Map()

  get size() {
    return this.#records.size
  }

  put(record) {
    this.#records.set(keyOf(record.hash, record.provider.id), { record, terms: termsOf(record) })
  }

  remove(hash, provider) {
    let n = 0
    for (const [key, { record }] of this.#records) {
      if (record.hash === hash && (provider === undefined || record.provider.id === provider)) {
        this.#records.delete(key)
        n++
      }
    }
    return n
  }

  removeProvider(provider) {
    let n = 0
    for (const [key, { record }] of this.#records) {
      if (record.provider.id === provider) {
        this.#records.delete(key)
        n++
      }
    }
    return n
  }

  get(hash) {
    return [...this.#records.values()].filter((e) => e.record.hash === hash).map((e) => e.record)
  }

  search(query) {
    const limit = query.limit ?? Number.POSITIVE_INFINITY
    const wanted = query.hash === undefined ? keywords((query.keywords ?? []).join(' ')) : []
    if (limit <= 0 || (query.hash === undefined && wanted.length === 0)) return []
    const hits = new Map()
    for (const { record, terms } of this.#records.values()) {
      if (query.hash !== undefined ? record.hash !== query.hash : !wanted.every((w) => terms.includes(w)))
        continue
      const hit = hits.get(record.hash) ?? { ...pick(record), providers: [] }
      hit.providers.push(record.provider)
      hits.set(record.hash, hit)
    }
    // Every provider of a matching hash, not only those whose copy's name matched.
    for (const hit of hits.values()) hit.providers = this.get(hit.hash).map((r) => r.provider)
    return [...hits.values()].sort((a, b) => b.providers.length - a.providers.length).slice(0, limit)
  }

  *records() {
    for (const { record } of this.#records.values()) yield record
  }

  clear() {
    this.#records.clear()
  }
}

const keyOf = (hash, provider) => `${hash} ${provider}`
const termsOf = (record) => keywords(`${record.keywords.join(' ')} ${record.name}`)
const pick = ({ hash, name, size, chunkSize }) => ({ hash, name, size, chunkSize })

/** The registration factory: 'scan' takes no options. */
export function scanIndex(options) {
  if (options !== undefined && (typeof options !== 'object' || Object.keys(options ?? {}).length > 0)) {
    throw new InvalidOptionsError(`scan takes no options (got ${JSON.stringify(options)})`)
  }
  return (c) => c.register(INDEX_FACTORY, { useValue: () => new ScanIndex() })
}

indexes.register('scan', scanIndex)
