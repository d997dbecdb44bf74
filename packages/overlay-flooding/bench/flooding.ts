/**
 * Flooding benchmark: N peers over the memory transport (authenticate: false),
 * a random mesh of degree minNeighbors–maxNeighbors built by the overlay's own
 * join protocol, files replicated with Zipf popularity, and the same queries
 * (Zipf-distributed) run as plain floods at TTL 1–7 and with the expanding
 * ring. It prints success rate, messages per query and time to first hit.
 *
 *   npm run bench:flooding
 *   node packages/overlay-flooding/dist/bench/flooding.js --peers 1000 --queries 100 --seed 1
 */
import 'reflect-metadata'
import '@peerkit/index-memory'
import '@peerkit/transport-memory'
import { parseArgs } from 'node:util'
import { type Hit, SeededRandom } from '@peerkit/core'
import { MemoryNetwork, memoryContainer } from '@peerkit/transport-memory'
import type { FloodingOptions, FloodingSearchOptions } from '../src/index.js'
import { distances, recordFor, startNode, type TestNode } from '../test/helpers/node.js'

const { values: args } = parseArgs({
  options: {
    peers: { type: 'string', default: '1000' },
    queries: { type: 'string', default: '100' },
    files: { type: 'string', default: '100' },
    replicas: { type: 'string', default: '50' },
    popular: { type: 'string', default: '10' },
    seed: { type: 'string', default: '1' },
    'ring-timeout': { type: 'string', default: '40' },
    /** Extra 'ring, no limit' rows with these providerRings (comma-separated), beside the default. */
    'provider-rings': { type: 'string', default: '' },
    /** Skip the plain floods at TTL 1–6 (TTL 7 stays, as the reference). */
    'skip-floods': { type: 'boolean', default: false },
    /** Flooding options (JSON) over the benchmark's own, e.g. '{"evictionInterval":0}'. */
    options: { type: 'string', default: '{}' },
  },
})
const PEERS = Number(args.peers)
const QUERIES = Number(args.queries)
const FILES = Number(args.files)
/** Copies of the most popular file; file of rank k has max(1, round(REPLICAS / k)). */
const REPLICAS = Number(args.replicas)
const POPULAR = Number(args.popular)
const SEED = Number(args.seed)
const RING_TIMEOUT = Number(args['ring-timeout'])
const PROVIDER_RINGS = (args['provider-rings'] as string).split(',').filter(Boolean).map(Number)

interface Outcome {
  rank: number
  found: boolean
  messages: number
  firstHitMs: number | undefined
  hops: number | undefined
  /** Distinct peers listed as providers of the file. */
  providers: number
}

const random = new SeededRandom(SEED)
const hub = new MemoryNetwork()
const parent = memoryContainer(hub)

/** Zipf(s = 1) over ranks 1..n. */
function zipfSampler(n: number): () => number {
  const weights = Array.from({ length: n }, (_, i) => 1 / (i + 1))
  const total = weights.reduce((a, b) => a + b, 0)
  return () => {
    let x = random.next() * total
    for (let i = 0; i < n; i++) {
      x -= weights[i] as number
      if (x <= 0) return i + 1
    }
    return n
  }
}

/** Resolves once no message crossed the memory network for a few polls. */
async function quiescent(): Promise<void> {
  let last = -1
  let still = 0
  while (still < 3) {
    await new Promise((r) => setTimeout(r, 5))
    const now = hub.stats().messages
    still = now === last ? still + 1 : 0
    last = now
  }
}

async function build(): Promise<TestNode[]> {
  const nodes: TestNode[] = []
  const flooding = {
    minNeighbors: 4,
    maxNeighbors: 8,
    maintenanceInterval: 3_600_000,
    ringTimeout: RING_TIMEOUT,
    seenCacheSize: 4096,
    queryRate: 100_000,
    queryBurst: 100_000,
    ...(JSON.parse(args.options as string) as FloodingOptions),
  }
  for (let i = 0; i < PEERS; i++) {
    const boot = i === 0 ? [] : [`memory://b${random.int(i)}`]
    nodes.push(
      await startNode(undefined, {
        parent,
        transport: 'memory',
        transportOptions: { authenticate: false },
        listen: [`memory://b${i}`],
        bootstrap: boot,
        flooding,
        seed: SEED * 100_000 + i,
      }),
    )
  }
  // The first peers joined when there were few others: let them fill up now.
  for (let round = 0; round < 5; round++) {
    const short = nodes.filter((n) => n.overlay.neighbors().length < 4)
    if (short.length === 0) break
    await Promise.all(short.map((n) => n.overlay.maintain()))
  }
  return nodes
}

/** A mode: its label, the search options, and the query's limit (undefined: none). */
type Mode = [string, FloodingSearchOptions, number | undefined]

async function runQuery(
  origin: TestNode,
  rank: number,
  options: FloodingSearchOptions,
  limit: number | undefined,
): Promise<Outcome> {
  await quiescent()
  const before = hub.stats().messages
  const started = performance.now()
  let firstHitMs: number | undefined
  let hops: number | undefined
  const hits: Hit[] = []
  const query = { keywords: ['file', `r${rank}`], ...(limit === undefined ? {} : { limit }) }
  for await (const hit of origin.overlay.search(query, options)) {
    firstHitMs ??= performance.now() - started
    hops ??= hit.hops
    hits.push(hit)
  }
  await quiescent()
  const providers = new Set(hits.flatMap((h) => h.providers.map((p) => p.id))).size
  return {
    rank,
    found: hits.length > 0,
    messages: hub.stats().messages - before,
    firstHitMs,
    hops,
    providers,
  }
}

function summarise(label: string, outcomes: Outcome[]): Record<string, string | number> {
  const row = (list: Outcome[]) => {
    const found = list.filter((o) => o.found)
    const times = found.map((o) => o.firstHitMs as number).sort((a, b) => a - b)
    return {
      success: list.length ? found.length / list.length : 0,
      messages: list.length ? list.reduce((a, o) => a + o.messages, 0) / list.length : 0,
      median: times.length ? (times[Math.floor(times.length / 2)] as number) : Number.NaN,
      hops: found.length ? found.reduce((a, o) => a + (o.hops ?? 0), 0) / found.length : Number.NaN,
      providers: found.length ? found.reduce((a, o) => a + o.providers, 0) / found.length : Number.NaN,
    }
  }
  const all = row(outcomes)
  const pop = row(outcomes.filter((o) => o.rank <= POPULAR))
  return {
    mode: label,
    'success %': +(all.success * 100).toFixed(1),
    'popular success %': +(pop.success * 100).toFixed(1),
    'msgs/query': Math.round(all.messages),
    'popular msgs/query': Math.round(pop.messages),
    'first hit ms (median)': +all.median.toFixed(1),
    'hops (mean)': +all.hops.toFixed(2),
    'providers (mean)': +all.providers.toFixed(2),
    'popular providers': +pop.providers.toFixed(2),
  }
}

async function main(): Promise<void> {
  const t0 = performance.now()
  const nodes = await build()
  const degrees = nodes.map((n) => n.overlay.neighbors().length)
  const buildMs = performance.now() - t0
  const heap = process.memoryUsage().heapUsed
  console.log(
    `${PEERS} peers joined in ${(buildMs / 1000).toFixed(1)} s; degree min ${Math.min(...degrees)}, ` +
      `mean ${(degrees.reduce((a, b) => a + b, 0) / PEERS).toFixed(2)}, max ${Math.max(...degrees)}; ` +
      `heap ${(heap / 2 ** 20).toFixed(0)} MiB (${(heap / PEERS / 1024).toFixed(0)} KiB per peer, all layers); ` +
      `${nodes.reduce((a, n) => a + (n.overlay.stats().evicted as number), 0)} evictions`,
  )
  // How well mixed the mesh is: peers within 2 and 3 hops, over 50 random origins.
  const pick = new SeededRandom(SEED + 1) // its own draws: files and queries stay as in earlier runs
  const origins = Array.from({ length: 50 }, () => pick.int(PEERS))
  const reach = [2, 3].map((h) => {
    const counts = origins.map((o) => distances(nodes, o).filter((d) => d > 0 && d <= h).length)
    return `${h} hops ${(counts.reduce((a, b) => a + b, 0) / counts.length).toFixed(0)}`
  })
  console.log(`peers within reach (mean): ${reach.join(', ')}`)
  // Files with Zipf popularity: rank k is held by max(1, round(REPLICAS / k)) random peers.
  let copies = 0
  for (let rank = 1; rank <= FILES; rank++) {
    const n = Math.max(1, Math.round(REPLICAS / rank))
    const holders = new Set<number>()
    while (holders.size < n) holders.add(random.int(PEERS))
    for (const h of holders) {
      const node = nodes[h] as TestNode
      await node.overlay.publish([recordFor(node.network.self(), `file r${rank}.bin`)])
      copies++
    }
  }
  const zipf = zipfSampler(FILES)
  const plan = Array.from({ length: QUERIES }, () => ({ origin: random.int(PEERS), rank: zipf() }))
  const popularShare = plan.filter((q) => q.rank <= POPULAR).length
  console.log(
    `${FILES} files, ${copies} copies (rank 1: ${REPLICAS}); ${QUERIES} queries (Zipf s=1), ` +
      `${popularShare} for the ${POPULAR} most popular files; ring step timeout ${RING_TIMEOUT} ms × TTL`,
  )
  const modes: Mode[] = [
    ...(args['skip-floods'] ? [7] : [1, 2, 3, 4, 5, 6, 7]).map(
      (ttl): Mode => [`flood TTL ${ttl}`, { expandingRing: false, ttl }, 1],
    ),
    ['expanding ring 1..7', { expandingRing: true, maxTtl: 7 }, 1],
    // No limit: past the first hit the ring collects providers (providerTarget, at most providerRings more steps).
    ['ring, no limit', { expandingRing: true, maxTtl: 7 }, undefined],
    ...PROVIDER_RINGS.map(
      (providerRings): Mode => [
        `ring, no limit, providerRings ${providerRings}`,
        { expandingRing: true, maxTtl: 7, providerRings },
        undefined,
      ],
    ),
  ]
  const rows: Record<string, string | number>[] = []
  for (const [label, options, limit] of modes) {
    const m0 = performance.now()
    const outcomes: Outcome[] = []
    for (const q of plan) outcomes.push(await runQuery(nodes[q.origin] as TestNode, q.rank, options, limit))
    const row = { ...summarise(label, outcomes), 'run s': +((performance.now() - m0) / 1000).toFixed(1) }
    rows.push(row)
    console.error(`  ${label}: done in ${row['run s']} s`)
  }
  console.table(rows)
  const ttl7 = rows.find((r) => r.mode === 'flood TTL 7') as Record<string, number>
  const ring = rows.find((r) => r.mode === 'expanding ring 1..7') as Record<string, number>
  const ratio = (ttl7['popular msgs/query'] as number) / (ring['popular msgs/query'] as number)
  console.log(
    `popular files: ring success ${ring['popular success %']}% vs TTL-7 ${ttl7['popular success %']}%, ` +
      `TTL-7 sends ${ratio.toFixed(1)}× the messages of the ring (${ttl7['popular msgs/query']} vs ${ring['popular msgs/query']})`,
  )
  const full = rows.find((r) => r.mode === 'ring, no limit') as Record<string, number>
  const fullRatio = (ttl7['popular msgs/query'] as number) / (full['popular msgs/query'] as number)
  console.log(
    `popular files without a limit (providerTarget ${nodes[0]?.overlay.options.providerTarget}, ` +
      `providerRings ${nodes[0]?.overlay.options.providerRings}): ring ` +
      `${full['popular providers']} providers per file with ${full['popular msgs/query']} messages, ` +
      `TTL-7 sends ${fullRatio.toFixed(1)}× that`,
  )
  console.log(`total ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  await Promise.all(nodes.map((n) => n.stop()))
}

await main()
