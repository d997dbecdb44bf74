/**
 * Benchmark of the central overlay: one directory server, 1,000 registered
 * peers with 100 files each, over the memory transport, in one process.
 * Prints the searches per second the server answers (against a baseline:
 * the same searches on a bare MemoryIndex, no network) and the server's
 * memory per registered file.
 *
 *   npm run bench:central
 *   node packages/overlay-central/dist/bench/central.js [peers] [files] [seconds]
 */
import 'reflect-metadata'
import { createHash } from 'node:crypto'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { collect, type FileRecord, keywords, type Query } from '@peerkit/core'
import { MemoryIndex } from '@peerkit/index-memory'
import { MemoryNetwork, memoryContainer } from '@peerkit/transport-memory'
import { createDirectoryServer } from '../src/index.js'
import { createNode, type Node } from '../test/helpers/net.js'

const PEERS = Number(process.argv[2] ?? 1000)
const FILES = Number(process.argv[3] ?? 100)
const SECONDS = Number(process.argv[4] ?? 5)
const SEARCHERS = 50
const LIMIT = 50

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const WORDS = Array.from({ length: 400 }, (_, i) => `w${i.toString(36)}`)
/** Deterministic pseudo-random numbers, so every run searches the same things. */
let seed = 12345
const rnd = (n: number) => {
  seed ^= seed << 13
  seed ^= seed >>> 17
  seed ^= seed << 5
  return (seed >>> 0) % n
}
const word = () => WORDS[rnd(WORDS.length)] as string

function recordsOf(node: Node, peer: number): FileRecord[] {
  return Array.from({ length: FILES }, (_, f) => {
    // One file in ten is one of 1,000 popular files many peers share.
    const popular = f % 10 === 0
    const id = popular ? `popular ${rnd(1000)}` : `peer ${peer} file ${f}`
    const name = `${word()} ${word()} ${word()} ${id.replace(/ /g, '.')}.mkv`
    return {
      hash: createHash('sha256')
        .update(popular ? id : name)
        .digest('hex'),
      name: popular ? `${id}.mkv` : name,
      size: 700_000_000,
      chunkSize: 1_048_576,
      keywords: keywords(popular ? `${id}.mkv` : name),
      provider: { id: node.id, addresses: node.addresses() },
    }
  })
}

/** A quarter ask for a popular file; the rest for two words of a registered name (one hit or more). */
function makeQueries(records: FileRecord[][]): Query[] {
  return Array.from({ length: 1000 }, (_, i) => {
    if (i % 4 === 0) return { keywords: ['popular', String(rnd(1000))], limit: LIMIT }
    const list = records[rnd(records.length)] as FileRecord[]
    const kws = (list[1 + rnd(list.length - 1)] as FileRecord).keywords
    return { keywords: [kws[0] as string, kws[2] as string], limit: LIMIT }
  })
}

const heap = () => {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`

async function main(): Promise<void> {
  const hub = new MemoryNetwork()
  const container = memoryContainer(hub)
  const address = 'memory://bench-directory'
  const directory = await createDirectoryServer(
    {
      transport: 'memory',
      listen: [address],
      options: {
        searchRate: 1_000_000,
        searchBurst: 1_000_000,
        maxRecordsPerPeer: 10_000,
        dropAfter: 600_000,
        heartbeatInterval: 60_000,
      },
    },
    { container },
  )
  await directory.start()

  let t0 = Date.now()
  const nodes: Node[] = []
  for (let p = 0; p < PEERS; p++) {
    const node = createNode(
      { overlay: 'central', transport: 'memory', listen: [`memory://bench-peer-${p}`], bootstrap: [address] },
      container,
    )
    await node.start()
    nodes.push(node)
  }
  console.log(`${PEERS} peers logged in in ${Date.now() - t0} ms`)

  const records = nodes.map((node, p) => recordsOf(node, p))
  const queries = makeQueries(records)
  const before = heap()
  t0 = Date.now()
  await Promise.all(nodes.map((node, p) => node.overlay.publish(records[p] as FileRecord[])))
  const registerMs = Date.now() - t0
  const total = directory.server.size
  console.log(
    `${total} records registered in ${registerMs} ms (${Math.round(total / (registerMs / 1000))} records/s)`,
  )
  const withRecords = heap()

  // Baseline: the same searches on a bare MemoryIndex holding the same records.
  const bare = new MemoryIndex()
  for (const list of records) for (const r of list) await bare.put(r)
  let n = 0
  t0 = Date.now()
  while (Date.now() - t0 < SECONDS * 1000) {
    for (let i = 0; i < 100; i++) await bare.search(queries[n++ % queries.length] as Query)
  }
  const baselineRate = n / ((Date.now() - t0) / 1000)

  // Searches through the server: SEARCHERS clients searching concurrently.
  let answered = 0
  let hits = 0
  const deadline = Date.now() + SECONDS * 1000
  t0 = Date.now()
  await Promise.all(
    nodes.slice(0, SEARCHERS).map(async (node, s) => {
      let i = s * 17
      while (Date.now() < deadline) {
        const got = await collect(node.overlay.search(queries[i++ % queries.length] as Query))
        hits += got.length
        answered++
      }
    }),
  )
  const rate = answered / ((Date.now() - t0) / 1000)

  const full = heap()
  await directory.stop()
  const cleared = heap()
  const perRecord = (full - cleared) / total

  console.log('')
  console.log(`| figure | value |`)
  console.log(`|---|---|`)
  console.log(`| peers × files | ${PEERS} × ${FILES} = ${total} records |`)
  console.log(
    `| searches/s answered by the server (${SEARCHERS} concurrent clients, limit ${LIMIT}) | ${Math.round(rate)} |`,
  )
  console.log(`| average hits per search | ${(hits / Math.max(1, answered)).toFixed(1)} |`)
  console.log(`| baseline: searches/s on a bare MemoryIndex (no network) | ${Math.round(baselineRate)} |`)
  console.log(`| server / baseline | ${(rate / baselineRate).toFixed(3)} |`)
  console.log(
    `| server memory per registered file (heap freed when its registry is cleared) | ${Math.round(perRecord)} bytes |`,
  )
  console.log(
    `| process heap growth per registered file (server + clients' copies) | ${Math.round((withRecords - before) / total)} bytes |`,
  )
  console.log(`| server registry heap | ${mb(full - cleared)} |`)

  await Promise.allSettled(nodes.map((node) => node.stop()))
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err)
    process.exit(1)
  },
)
