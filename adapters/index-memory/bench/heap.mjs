// Heap per stored copy of memory Indexes shaped as a DHT node's (issue #25):
//   node --expose-gc adapters/index-memory/bench/heap.mjs [ROOT] [INDEXES] [HASHES] [PROVIDERS] [WORDS]
// ROOT is a checkout with its packages built (default: this one). Makes INDEXES indexes (default 300), each
// holding HASHES files (default 43) put by PROVIDERS providers each (default 3, as the simulator's replicas),
// every record with WORDS keywords (default 3) drawn from a vocabulary of 20,000; the records are made first
// and kept, so the figure is the Index's part only. Prints the heap per stored copy, gc'd, in all and by part.
import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import v8 from 'node:v8'

const args = process.argv.slice(2)
const root =
  args[0] !== undefined && !/^\d+$/.test(args[0])
    ? args.shift()
    : fileURLToPath(new URL('../../..', import.meta.url))
const [indexes = 300, hashes = 43, providers = 3, words = 3] = args.map(Number)
if (typeof global.gc !== 'function') throw new Error('run node with --expose-gc')
await import(`${root}/node_modules/reflect-metadata/Reflect.js`)
const { MemoryIndex } = await import(`${root}/adapters/index-memory/dist/src/index.js`)
const heap = () => {
  global.gc()
  global.gc()
  return v8.getHeapStatistics().used_heap_size
}
const hex = (s) => createHash('sha256').update(s).digest('hex')
const id = (s) => createHash('sha256').update(s).digest('base64url').slice(0, 43)
let seed = 1
const next = () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31
  return seed
}
const vocabulary = Array.from({ length: 20_000 }, (_, i) => `w${i.toString(36)}x${(i * 7919).toString(36)}`)
const records = []
for (let i = 0; i < indexes; i++) {
  const mine = []
  for (let h = 0; h < hashes; h++) {
    const kws = [...new Set(Array.from({ length: words }, () => vocabulary[next() % vocabulary.length]))]
    const hash = hex(`${i} ${h}`)
    for (let p = 0; p < providers; p++)
      mine.push({
        hash,
        name: kws.join(' '),
        size: 1,
        chunkSize: 262_144,
        keywords: kws,
        provider: { id: id(`${i} ${h} ${p}`), addresses: [] },
      })
  }
  records.push(mine)
}
const before = heap()
const all = []
for (const mine of records) {
  const index = new MemoryIndex()
  for (const r of mine) await index.put(r)
  all.push(index)
}
const copies = indexes * hashes * providers
const full = heap()
const parts = {}
let h = full
for (const part of ['postings', 'byProvider', 'byHash']) {
  for (const index of all) index[part] = undefined // private: cleared for the measure only
  const now = heap()
  parts[part] = Math.round((h - now) / copies)
  h = now
}
// The records are read here, so they stay alive (and out of the figures) until the end.
console.log(
  JSON.stringify({
    indexes,
    hashes,
    providers,
    words,
    copies: records.flat().length,
    bytesPerCopy: Math.round((full - before) / copies),
    ...parts,
  }),
)
