/**
 * `npm run bench:index`: the LMDB index against the memory index, in one run,
 * at PEERKIT_BENCH_RECORDS records (default 10^6): the time to fill each, the
 * time to open (LMDB: reopen the environment; memory: a restart must put
 * every record again), search latency (a rare term, two common terms with a
 * limit, a prefix), and bytes per record (LMDB: on disk; memory: heap).
 */
import 'reflect-metadata'
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type FileRecord, type Index, keywords, type Query } from '@peerkit/core'
import { MemoryIndex } from '@peerkit/index-memory'
import { LmdbIndex, parseLmdbIndexOptions } from '../src/index.js'

const N = Number(process.env.PEERKIT_BENCH_RECORDS ?? 1_000_000)
const PROVIDERS = 2000
const BATCH = 10_000
const SEARCHES = 500

const hex = (n: number) => n.toString(16).padStart(64, '0')
const peer = (n: number) => `peer${n.toString(36)}`.padEnd(43, 'x')

/** Record i: one of N/3 files (most files have one to five providers), named from a small vocabulary plus a unique word. */
function record(i: number): FileRecord {
  const files = Math.ceil(N / 3)
  const file = i % files
  const copy = Math.floor(i / files)
  const name = `artist${file % 5000} album${file % 700} ${['live', 'remix', 'demo', 'best'][file % 4]} track${file}.mp3`
  return {
    hash: hex(file + 1),
    name,
    size: 1_000_000 + file,
    chunkSize: 65_536,
    keywords: keywords(name),
    provider: {
      id: peer((file + copy * 997) % PROVIDERS),
      addresses: [`tcp://10.0.${(i >> 8) & 255}.${i & 255}:4001`],
    },
  }
}

const queries: { label: string; make: (i: number) => Query }[] = [
  { label: 'rare term (one file)', make: (i) => ({ keywords: [`track${(i * 7919) % Math.ceil(N / 3)}`] }) },
  {
    label: 'two common terms, limit 50',
    make: (i) => ({ keywords: [`artist${i % 5000}`, 'live'], limit: 50 }),
  },
  {
    label: 'prefix of a rare term, limit 50',
    make: (i) => ({ keywords: [`track${(i * 31) % 999}`], limit: 50 }),
  },
]

async function fill(index: Index): Promise<number> {
  const t0 = performance.now()
  for (let i = 0; i < N; i += BATCH) {
    const writes: Promise<void>[] = []
    for (let j = i; j < Math.min(N, i + BATCH); j++) writes.push(index.put(record(j)))
    await Promise.all(writes)
  }
  return performance.now() - t0
}

async function latencies(index: Index): Promise<string[]> {
  const out: string[] = []
  for (const q of queries) {
    const ms: number[] = []
    let hits = 0
    for (let i = 0; i < SEARCHES; i++) {
      const t0 = performance.now()
      hits += (await index.search(q.make(i))).length
      ms.push(performance.now() - t0)
    }
    ms.sort((a, b) => a - b)
    const at = (p: number) => (ms[Math.min(ms.length - 1, Math.floor(ms.length * p))] as number).toFixed(3)
    out.push(`${q.label}: median ${at(0.5)} ms, p99 ${at(0.99)} ms (${(hits / SEARCHES).toFixed(1)} hits)`)
  }
  return out
}

async function diskBytes(dir: string): Promise<number> {
  let total = 0
  for (const name of await readdir(dir)) total += (await stat(join(dir, name))).blocks * 512
  return total
}

const heap = () => {
  globalThis.gc?.()
  return process.memoryUsage().heapUsed
}

const dir = await mkdtemp(join(tmpdir(), 'peerkit-index-bench-'))
try {
  console.log(
    `# index benchmark: ${N.toLocaleString('en')} records, ${PROVIDERS} providers, ${SEARCHES} searches per query kind\n`,
  )

  const options = parseLmdbIndexOptions({})
  const lmdb = new LmdbIndex(dir, 'bench', options)
  await lmdb.open()
  const lmdbFill = await fill(lmdb)
  await lmdb.close()
  const disk = await diskBytes(dir)
  let t0 = performance.now()
  const reopened = new LmdbIndex(dir, 'bench', options)
  await reopened.open()
  const count = await reopened.count()
  const lmdbOpen = performance.now() - t0
  t0 = performance.now()
  await reopened.search({ keywords: [`track${Math.ceil(N / 3) - 1}`] }) // a rare term, on cold pages
  const lmdbFirst = performance.now() - t0
  const lmdbSearch = await latencies(reopened)
  await reopened.close()

  const before = heap()
  const memory = new MemoryIndex()
  const memoryFill = await fill(memory)
  const memoryHeap = heap() - before
  const memorySearch = await latencies(memory)

  console.log('| | lmdb | memory |')
  console.log('|---|---|---|')
  console.log(
    `| fill (${N.toLocaleString('en')} puts, ${BATCH.toLocaleString('en')} per batch) | ${(lmdbFill / 1000).toFixed(1)} s | ${(memoryFill / 1000).toFixed(1)} s |`,
  )
  console.log(
    `| open after a restart | ${lmdbOpen.toFixed(1)} ms (count ${count.toLocaleString('en')}), first search ${lmdbFirst.toFixed(1)} ms | ${(memoryFill / 1000).toFixed(1)} s (every record put again) |`,
  )
  console.log(
    `| bytes per record | ${Math.round(disk / N)} on disk (${(disk / 2 ** 20).toFixed(0)} MiB) | ${Math.round(memoryHeap / N)} heap |`,
  )
  for (const [i, q] of queries.entries())
    console.log(
      `| search, ${q.label} | ${lmdbSearch[i]?.split(': ')[1]} | ${memorySearch[i]?.split(': ')[1]} |`,
    )
} finally {
  await rm(dir, { recursive: true, force: true })
}
