import { createHash } from 'node:crypto'
import {
  type FileRecord,
  type Hit,
  InvalidOptionsError,
  overlays,
  type Random,
  SeededRandom,
} from '@peerkit/core'
import { Zipf } from './distributions.js'
import { messageTotals, round } from './metrics.js'
import { loadOverlay, SimNetwork, type SimPeer } from './sim-network.js'
import { buildTopology, LV_SIZES, type Topology, type TopologyKind, topologyStats } from './topology.js'
import { startStaticTopology, topologyMismatches } from './topology-peers.js'
import type { VirtualClock } from './virtual-clock.js'

/**
 * The set-up of Lv, Cao, Cohen, Li and Shenker, "Search and replication in
 * unstructured peer-to-peer networks" (ICS 2002), run on the real overlays:
 * a fixed topology (random graph, power-law random graph, grid), `objects`
 * objects replicated over the peers uniformly, in proportion to their query
 * rate or to its square root, queries for them drawn from a Zipf-like
 * distribution, and searched by flooding with a fixed TTL, by the expanding
 * ring, and by k random walkers that check back with the origin.
 */

export type Replication = 'uniform' | 'proportional' | 'sqrt'
export const REPLICATIONS: readonly Replication[] = ['uniform', 'proportional', 'sqrt']

/** A search method: a flood of one TTL, the expanding ring up to `maxTtl`, or k walkers. */
export type LvMethod =
  | { kind: 'flood'; ttl: number }
  | { kind: 'ring'; maxTtl: number }
  | { kind: 'walk'; walkers: number; ttl: number }

export interface LvOptions {
  topology: Exclude<TopologyKind, 'protocol'>
  /** Nodes generated (before the largest component is taken). @default LV_SIZES[topology] */
  nodes?: number
  /** @default 1 */
  seed?: number
  /** Distinct objects. @default 100 */
  objects?: number
  /** Copies of all objects together, per peer (1: as many copies as peers, 1 % of them per object on average). @default 1 */
  copiesPerPeer?: number
  /** Zipf exponent of the query distribution over the objects. @default 1.2 */
  zipf?: number
  /** Queries per method and replication. @default 200 */
  queries?: number
  /** Queries of each fixed-TTL flood (dearer, and steadier, than the others). @default queries */
  floodQueries?: number
  methods: LvMethod[]
  replications?: readonly Replication[]
  /** Mean one-way latency, virtual ms. @default 50 */
  latency?: number
  /** Virtual ms one walk search may take. @default 120000 */
  walkTimeout?: number
  /** A walker asks its origin whether to go on every this many steps. @default 4 */
  checkEvery?: number
  onProgress?: (line: string) => void
}

export interface LvRow {
  topology: string
  method: string
  replication: Replication
  queries: number
  successRate: number
  /** Every message on the hub per query (queries, hits, walker reports and checks, the connections they open). */
  messagesPerQuery: number
  /** The messages that carry the search itself: flood `query` messages, or walker steps (`walk`). */
  searchMessagesPerQuery: number
  /** `messagesPerQuery` / peers: the average load a query puts on one peer. */
  messagesPerNode: number
  /** The busiest peer's overlay messages received, per query. */
  peakNodeLoad: number
  /** Overlay hops of the first hit (mean over successful queries). */
  hops: number
  /** Virtual ms to the first hit. */
  firstHitMs: number
}

export interface LvResult {
  topology: ReturnType<typeof topologyStats> & { kind: string; mismatches: Record<string, number> }
  /** Σ q_i × N / r_i of each replication (the expected search size of a random probe, Cohen and Shenker). */
  expectedSearchSize: Record<Replication, number>
  replicas: Record<Replication, number[]>
  rows: LvRow[]
  realMs: number
}

/**
 * The methods run on each topology: two fixed-TTL floods (one that finds most objects, one that
 * reaches further: TTLs where the graph's diameter puts them), the expanding ring, and 16, 32, 64
 * walkers checking back every 4 steps.
 */
export const LV_METHODS: Readonly<Record<Exclude<TopologyKind, 'protocol'>, LvMethod[]>> = Object.freeze({
  random: [{ kind: 'flood', ttl: 4 }, { kind: 'flood', ttl: 6 }, { kind: 'ring', maxTtl: 16 }, ...walks()],
  powerlaw: [{ kind: 'flood', ttl: 2 }, { kind: 'flood', ttl: 3 }, { kind: 'ring', maxTtl: 16 }, ...walks()],
  grid: [{ kind: 'flood', ttl: 8 }, { kind: 'flood', ttl: 16 }, { kind: 'ring', maxTtl: 16 }, ...walks()],
})

function walks(): LvMethod[] {
  return [16, 32, 64].map((walkers) => ({ kind: 'walk', walkers, ttl: 1024 }))
}

/** The rows as a markdown table, and the graph and the expected search sizes above it. */
export function lvTable(r: LvResult): string {
  const t = r.topology
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`
  const lines = [
    `${t.kind}: ${t.nodes} nodes, ${t.edges} edges, mean degree ${t.meanDegree.toFixed(2)}, median ${t.medianDegree}, ` +
      `max ${t.maxDegree}, connected: ${t.connected}; peers whose overlay neighbours differ from the graph: ` +
      Object.entries(t.mismatches)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    `expected search size Σ q_i N / r_i: ${REPLICATIONS.map((k) => `${k} ${r.expectedSearchSize[k].toFixed(1)}`).join(', ')}; ` +
      `copies of the 1st, 10th, 100th object: ${REPLICATIONS.map((k) => `${k} ${[0, 9, 99].map((i) => r.replicas[k][i] ?? '–').join('/')}`).join(', ')}`,
    '',
    '| search | replication | queries | success | messages per query (all) | search messages per query | messages per node | peak node load per query | hops to first hit | first hit (ms) |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.rows.map(
      (w) =>
        `| ${w.method} | ${w.replication} | ${w.queries} | ${pct(w.successRate)} | ${w.messagesPerQuery.toLocaleString('en')} | ` +
        `${w.searchMessagesPerQuery.toLocaleString('en')} | ${w.messagesPerNode} | ${w.peakNodeLoad} | ${w.hops} | ${w.firstHitMs} |`,
    ),
  ]
  return lines.join('\n')
}

export function methodLabel(m: LvMethod): string {
  switch (m.kind) {
    case 'flood':
      return `flooding, TTL ${m.ttl}`
    case 'ring':
      return `expanding ring (TTL 1 … ${m.maxTtl})`
    case 'walk':
      return `${m.walkers} walkers (TTL ${m.ttl})`
  }
}

/**
 * Copies of each object: `total` in all, split evenly, in proportion to the query
 * probabilities `q`, or to their square roots; each object has at least 1 and at most `peers`.
 */
export function replicaCounts(
  kind: Replication,
  q: readonly number[],
  total: number,
  peers: number,
): number[] {
  const weight = q.map((p) => (kind === 'uniform' ? 1 : kind === 'proportional' ? p : Math.sqrt(p)))
  const sum = weight.reduce((a, w) => a + w, 0)
  return weight.map((w) => Math.min(peers, Math.max(1, Math.round((total * w) / sum))))
}

/** Runs the methods on one topology (flooding's methods on the flooding overlay, walks on `randomwalk`). */
export async function runLv(o: LvOptions): Promise<LvResult> {
  const realStart = performance.now()
  const seed = o.seed ?? 1
  const objects = o.objects ?? 100
  const queries = o.queries ?? 200
  const replications = o.replications ?? REPLICATIONS
  const log = o.onProgress ?? (() => {})
  const topology = buildTopology(o.topology, new SeededRandom(seed), o.nodes ?? LV_SIZES[o.topology])
  const n = topology.nodes
  const zipf = new Zipf(objects, o.zipf ?? 1.2)
  const q = Array.from({ length: objects }, (_, i) => zipf.probability(i))
  const total = Math.round((o.copiesPerPeer ?? 1) * n)
  const replicas = {} as Record<Replication, number[]>
  const expectedSearchSize = {} as Record<Replication, number>
  for (const r of REPLICATIONS) {
    replicas[r] = replicaCounts(r, q, total, n)
    expectedSearchSize[r] = q.reduce((a, p, i) => a + (p * n) / (replicas[r][i] as number), 0)
  }
  const stats = topologyStats(topology)
  log(
    `${o.topology}: ${n} nodes, ${topology.edges} edges, mean degree ${stats.meanDegree.toFixed(2)}, max ${stats.maxDegree}`,
  )
  const rows: LvRow[] = []
  const mismatches: Record<string, number> = {}
  const groups: [string, LvMethod[]][] = [
    ['flooding', o.methods.filter((m) => m.kind !== 'walk')],
    ['randomwalk', o.methods.filter((m) => m.kind === 'walk')],
  ]
  for (const [overlay, methods] of groups) {
    if (methods.length === 0) continue
    await loadOverlay(overlay).catch((err: unknown) => {
      if (overlay === 'randomwalk' && !overlays.has(overlay))
        throw new InvalidOptionsError(
          'the random walks need the randomwalk overlay: import examples/overlay-randomwalk (peerkit --plugin) first',
          { cause: err },
        )
      throw err
    })
    const net = new SimNetwork({
      overlay,
      seed,
      latency: o.latency ?? 50,
      overlayOptions: overlayBase(overlay, o),
      maxConnections: stats.maxDegree + 64,
    })
    try {
      const peers = await startStaticTopology(net, topology, [], (done) =>
        done % 4096 === 0 ? log(`${overlay}: ${done} peers started`) : undefined,
      )
      // A link missed while both ends started at once is made at the next maintenance round.
      for (let round = 0; round < 3 && topologyMismatches(peers, topology) > 0; round++)
        await net.clock.advance(MAINTENANCE_MS)
      mismatches[overlay] = topologyMismatches(peers, topology)
      log(`${overlay}: ${peers.length} peers, ${mismatches[overlay]} differ from the topology`)
      const objectsOf = await publishObjects(net, peers, replicas, replications, seed)
      for (const method of methods)
        for (const replication of replications) {
          const row = await runQueries(net, peers, topology, {
            method,
            replication,
            queries: method.kind === 'flood' ? (o.floodQueries ?? queries) : queries,
            zipf,
            objects: objectsOf[replication] as ObjectCopies[],
            random: new SeededRandom(seed * 7919 + rows.length),
            walkTimeout: o.walkTimeout ?? 120_000,
          })
          row.topology = o.topology
          rows.push(row)
          log(
            `${row.method}, ${replication}: success ${(row.successRate * 100).toFixed(1)} %, ${row.messagesPerQuery} msgs/query, hops ${row.hops}`,
          )
        }
    } finally {
      await net.dispose()
    }
  }
  return {
    topology: { kind: o.topology, ...stats, histogram: stats.histogram.slice(0, 16), mismatches },
    expectedSearchSize,
    replicas,
    rows,
    realMs: Math.round(performance.now() - realStart),
  }
}

/** Maintenance of the static overlays: it only re-joins a lost listed neighbour, so rarely is enough. */
const MAINTENANCE_MS = 60_000
/** Virtual ms after a search ends for the messages still under way (walkers learning it is over). */
const DRAIN_MS = 3000

function overlayBase(overlay: string, o: LvOptions): Record<string, unknown> {
  if (overlay === 'flooding')
    return { maintenanceInterval: MAINTENANCE_MS, maxTtl: 16, ttl: 7, seenCacheSize: 65_536 }
  return {
    maintenanceInterval: MAINTENANCE_MS,
    hitTarget: 1,
    checkEvery: o.checkEvery ?? 4,
    ttl: 1024,
    walkers: 16,
    // A hub of the power-law graph is handed many walkers by one neighbour.
    walkRate: 10_000,
    walkBurst: 10_000,
  }
}

interface ObjectCopies {
  hash: string
  holders: Set<SimPeer>
}

/** Puts each replication's copies of every object on distinct random peers, and publishes them. */
async function publishObjects(
  net: SimNetwork,
  peers: readonly SimPeer[],
  replicas: Record<Replication, number[]>,
  replications: readonly Replication[],
  seed: number,
): Promise<Record<string, ObjectCopies[]>> {
  const random = new SeededRandom(seed * 31 + 5)
  const out: Record<string, ObjectCopies[]> = {}
  const records = new Map<SimPeer, FileRecord[]>()
  for (const r of replications) {
    out[r] = (replicas[r] as number[]).map((count, i) => {
      const name = `lv ${r} object ${i}`
      const hash = createHash('sha256').update(name).digest('hex')
      const holders = new Set<SimPeer>()
      while (holders.size < count) holders.add(peers[random.int(peers.length)] as SimPeer)
      for (const p of holders) {
        const list = records.get(p) ?? []
        list.push({
          hash,
          name,
          size: 1000,
          chunkSize: 262_144,
          keywords: name.split(' '),
          provider: p.peer.network.self(),
        })
        records.set(p, list)
      }
      return { hash, holders }
    })
  }
  await net.clock.settle(Promise.all([...records].map(([p, list]) => net.publish(p, list))))
  return out
}

interface QueryRun {
  method: LvMethod
  replication: Replication
  queries: number
  zipf: Zipf
  objects: ObjectCopies[]
  random: Random
  walkTimeout: number
}

/** One method on one replication: `queries` searches one after the other, each from a random peer not holding it. */
async function runQueries(
  net: SimNetwork,
  peers: readonly SimPeer[],
  topology: Topology,
  run: QueryRun,
): Promise<LvRow> {
  const { clock } = net
  const m = run.method
  const searchKind = m.kind === 'walk' ? 'walk' : 'query'
  const received0 = peers.map((p) => messageTotals(p.peer.overlay.stats()).received)
  const sent0 = sumSent(peers, searchKind)
  let messages = 0
  let succeeded = 0
  let hopSum = 0
  let msSum = 0
  for (let i = 0; i < run.queries; i++) {
    const object = run.objects[run.zipf.sample(run.random)] as ObjectCopies
    let asker = peers[run.random.int(peers.length)] as SimPeer
    while (object.holders.has(asker)) asker = peers[run.random.int(peers.length)] as SimPeer
    const options =
      m.kind === 'flood'
        ? { expandingRing: false, ttl: m.ttl, timeout: 60_000 }
        : m.kind === 'ring'
          ? { expandingRing: true, maxTtl: m.maxTtl, providerTarget: 1, providerRings: 0, timeout: 120_000 }
          : { walkers: m.walkers, ttl: m.ttl, timeout: run.walkTimeout }
    const hub0 = net.hub.stats().messages
    const start = clock.now()
    const first = await clock.settle(firstHit(clock, asker, object.hash, options), { duration: 600_000 })
    if (first !== undefined) {
      succeeded++
      hopSum += first.hops
      msSum += first.at - start
    }
    await clock.advance(DRAIN_MS)
    messages += net.hub.stats().messages - hub0
  }
  let peak = 0
  for (const [k, p] of peers.entries()) {
    const load = messageTotals(p.peer.overlay.stats()).received - (received0[k] as number)
    if (load > peak) peak = load
  }
  const perQuery = messages / run.queries
  return {
    topology: topology.kind,
    method: methodLabel(m),
    replication: run.replication,
    queries: run.queries,
    successRate: round(succeeded / run.queries, 4),
    messagesPerQuery: round(perQuery, 1),
    searchMessagesPerQuery: round((sumSent(peers, searchKind) - sent0) / run.queries, 1),
    messagesPerNode: round(perQuery / peers.length, 4),
    peakNodeLoad: round(peak / run.queries, 2),
    hops: succeeded === 0 ? 0 : round(hopSum / succeeded, 2),
    firstHitMs: succeeded === 0 ? 0 : Math.round(msSum / succeeded),
  }
}

/** Runs the search to its end; the first hit of `hash`, with its hops and virtual time. */
async function firstHit(
  clock: VirtualClock,
  asker: SimPeer,
  hash: string,
  options: Record<string, unknown>,
): Promise<{ hops: number; at: number } | undefined> {
  let first: { hops: number; at: number } | undefined
  for await (const hit of asker.peer.overlay.search({ hash }, options) as AsyncIterable<Hit>)
    if (first === undefined && hit.hash === hash) first = { hops: hit.hops ?? 0, at: clock.now() }
  return first
}

function sumSent(peers: readonly SimPeer[], kind: string): number {
  let s = 0
  for (const p of peers) s += p.peer.overlay.stats().sent[kind] ?? 0
  return s
}
