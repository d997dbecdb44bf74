import 'reflect-metadata'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import '@peerkit/index-memory'
import {
  buildPeerContainer,
  checkRecord,
  Identity,
  keywords,
  Network,
  OVERLAY,
  SeededRandom,
  signRecord,
} from '@peerkit/core'
import { MemoryNetwork, memoryContainer } from '@peerkit/transport-memory'
import {
  type ChordNode,
  type ChordOptions,
  type ChordOverlay,
  DEFAULT_ID_DIFFICULTY,
  fingersFromRing,
  predecessorFromRing,
  puzzleBits,
  Ring,
  solvePuzzle,
  sortById,
  successorIn,
  successorsFromRing,
} from '../src/index.js'

// Benchmark of the chord overlay over the memory transport (real overlay code, real wire).
//   npm run bench:chord            (CHORD_BENCH_MAX=12 CHORD_BENCH_QUERIES=2000 by default)
//   CHORD_BENCH_SECTION=security   only the costs of signed records and of the id puzzle

setFlagsFromString('--expose_gc')
/** A full garbage collection, so heap figures count only what is still reachable. */
const gc = runInNewContext('gc') as () => void

const MAX_EXP = Number(process.env.CHORD_BENCH_MAX ?? 12)
const QUERIES = Number(process.env.CHORD_BENCH_QUERIES ?? 2000)
const HOUR = 3_600_000
/** Intervals long enough that no timer fires during a measurement: the bench drives maintenance itself. */
const QUIET: ChordOptions = {
  stabilizeInterval: HOUR,
  fixFingersInterval: HOUR,
  checkPredecessorInterval: HOUR,
  refreshInterval: HOUR,
  recordTtl: 2 * HOUR,
  rpcTimeout: 2000,
  // Routing is measured, not the puzzle (its cost has its own section): difficulty 1 keeps the check on every node
  // admitted at about two key generations per node.
  idDifficulty: 1,
}

interface BenchNode {
  name: string
  network: Network
  overlay: ChordOverlay
  id: bigint
}

interface Net {
  hub: MemoryNetwork
  nodes: BenchNode[]
  stop(): Promise<void>
}

let nets = 0

async function build(
  n: number,
  chord: ChordOptions,
  how: 'global' | 'joins',
  afterJoin?: (nodes: BenchNode[]) => Promise<void>,
): Promise<Net> {
  const hub = new MemoryNetwork()
  const parent = memoryContainer(hub)
  const prefix = `bench${++nets}`
  const nodes: BenchNode[] = []
  for (let i = 0; i < n; i++) {
    const name = `${prefix}-${i}`
    const bootstrap = how === 'joins' && i > 0 ? [`memory://${prefix}-0`] : []
    const c = buildPeerContainer(
      {
        overlay: 'chord',
        transport: 'memory',
        listen: [`memory://${name}`],
        bootstrap,
        seed: i + 1,
        options: { chord, 'transport:memory': { authenticate: false } },
        network: { maxConnections: 64 },
      },
      { container: parent, components: ['transport', 'index', 'overlay'] },
    )
    const network = c.resolve(Network)
    const overlay = c.resolve(OVERLAY) as ChordOverlay
    await network.start()
    await overlay.start()
    nodes.push({ name, network, overlay, id: overlay.routing.id })
    await afterJoin?.(nodes)
  }
  if (how === 'global') adoptGlobal(nodes, chord.successors ?? 8)
  return {
    hub,
    nodes,
    async stop() {
      for (const node of nodes) hub.kill(node.name)
      await Promise.allSettled(nodes.map((x) => x.overlay.stop()))
      await Promise.allSettled(nodes.map((x) => x.network.stop()))
    },
  }
}

/** Sets every node's predecessor, successor list and fingers from global knowledge. */
function adoptGlobal(nodes: BenchNode[], r: number): void {
  const live = nodes.filter((n) => n.network.isStarted)
  const refs = sortById(live.map((n) => ({ id: n.id, ref: n.network.self() }) as ChordNode))
  const ring = (live[0] as BenchNode).overlay.ring
  for (const n of live) {
    const table = fingersFromRing(ring, n.id, refs)
    n.overlay.routing.adopt({
      predecessor: predecessorFromRing(n.id, refs),
      successors: successorsFromRing(n.id, refs, r),
      fingers: Array.from({ length: ring.bits }, (_, i) => table.get(i)),
    })
  }
}

interface Sample {
  hops: number[]
  timeouts: number[]
  failed: number
}

/** `q` lookups of random keys from random live nodes; a lookup fails unless its first live node is the key's true successor. */
async function measure(nodes: BenchNode[], alive: Set<string>, q: number, seed: number): Promise<Sample> {
  const random = new SeededRandom(seed)
  const live = nodes.filter((n) => alive.has(n.name))
  const sorted = sortById(live)
  const ring = (live[0] as BenchNode).overlay.ring
  const out: Sample = { hops: [], timeouts: [], failed: 0 }
  for (let i = 0; i < q; i++) {
    const from = live[random.int(live.length)] as BenchNode
    const key = ring.hash(`bench key ${seed} ${i}`)
    try {
      const result = await from.overlay.lookup(key)
      // the caller takes the first node of the answer that is alive (a dead one costs a timeout)
      let timeouts = result.failures
      let answer: ChordNode | undefined
      for (const node of result.nodes) {
        if (nodes.some((x) => x.id === node.id && alive.has(x.name))) {
          answer = node
          break
        }
        timeouts++
      }
      out.hops.push(result.hops)
      out.timeouts.push(timeouts)
      if (answer?.id !== successorIn(sorted, key).id) out.failed++
    } catch {
      out.failed++
    }
  }
  return out
}

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.floor((p / 100) * s.length)))] ?? Number.NaN
}
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / Math.max(1, v.length)
const f2 = (x: number) => x.toFixed(2)

/** Runs the periodic tasks of every live node by hand, `rounds` times. */
async function maintain(nodes: BenchNode[], rounds: number): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await Promise.allSettled(nodes.map((n) => n.overlay.routing.checkPredecessor()))
    await Promise.allSettled(nodes.map((n) => n.overlay.routing.stabilize()))
  }
}

function ringCorrect(nodes: BenchNode[]): boolean {
  const sorted = sortById(nodes)
  return sorted.every((n, i) => {
    const next = sorted[(i + 1) % sorted.length] as BenchNode
    return n.overlay.routing.successors[0]?.id === next.id
  })
}

function fingersCorrect(nodes: BenchNode[]): boolean {
  const sorted = sortById(nodes)
  return nodes.every((n) => {
    const table = n.overlay.routing.fingers
    for (let i = 0; i < table.length; i++)
      if ((table.get(i)?.id ?? n.id) !== successorIn(sorted, table.start(i)).id) return false
    return true
  })
}

/**
 * A ring built by real joins (each node's start() looks its successor up
 * through the first node) and real stabilisation (stabilize, notify,
 * check_predecessor and fix_fingers of every node, run in rounds by the
 * bench instead of by timers, which would saturate one process), measured;
 * then the same nodes get global-knowledge state and the same lookups run again.
 */
async function verifyJoins(n: number, r: number): Promise<void> {
  const t0 = Date.now()
  const net = await build(n, { ...QUIET, successors: r, replication: Math.min(3, r + 1) }, 'joins', (nodes) =>
    maintain(nodes, 1),
  )
  let rounds = 0
  while (!(ringCorrect(net.nodes) && fingersCorrect(net.nodes)) && rounds < 2000) {
    await maintain(net.nodes, 1)
    await Promise.allSettled(net.nodes.map((x) => x.overlay.routing.fixFingers()))
    rounds++
  }
  const converged = ringCorrect(net.nodes) && fingersCorrect(net.nodes)
  const names = new Set(net.nodes.map((x) => x.name))
  const joined = await measure(net.nodes, names, QUERIES, 42)
  adoptGlobal(net.nodes, r)
  const global = await measure(net.nodes, names, QUERIES, 42)
  const same = joined.hops.filter((h, i) => h === global.hops[i]).length
  console.log(
    `| ${n} | ${r} | ${converged ? 'yes' : 'NO'}, ${rounds} rounds after the joins, ${((Date.now() - t0) / 1000).toFixed(1)} s | ${f2(mean(joined.hops))} | ${f2(mean(global.hops))} | ${same} / ${joined.hops.length} | ${joined.failed} |`,
  )
  await net.stop()
}

/** The mean path lengths of ToN 2003, Fig. 10, where the brief quotes them. */
const PAPER: Record<number, string> = { 64: '2.95', 1024: '4.9', 4096: '5.85' }

async function hopsBySize(): Promise<void> {
  console.log('\n### Lookup hops by ring size (rings initialised from global knowledge)\n')
  console.log(
    '| N | ½·log2 N | paper | fingers only (r = 1): mean (1st, 99th) | ÷ ½·log2 N | with successor list r = 8: mean (1st, 99th) | failed | build s |',
  )
  console.log('|---|---|---|---|---|---|---|---|')
  for (let e = 6; e <= MAX_EXP; e++) {
    const n = 2 ** e
    const t0 = Date.now()
    const net = await build(n, QUIET, 'global')
    const built = (Date.now() - t0) / 1000
    const names = new Set(net.nodes.map((x) => x.name))
    const withList = await measure(net.nodes, names, QUERIES, e)
    adoptGlobal(net.nodes, 1)
    const fingersOnly = await measure(net.nodes, names, QUERIES, e)
    const half = e / 2
    console.log(
      `| ${n} | ${f2(half)} | ${PAPER[n] ?? '–'} | ${f2(mean(fingersOnly.hops))} (${pct(fingersOnly.hops, 1)}, ${pct(fingersOnly.hops, 99)}) | ${f2(mean(fingersOnly.hops) / half)} | ${f2(mean(withList.hops))} (${pct(withList.hops, 1)}, ${pct(withList.hops, 99)}) | ${fingersOnly.failed + withList.failed} | ${built.toFixed(1)} |`,
    )
    await net.stop()
  }
}

async function failures(n: number, r: number): Promise<void> {
  console.log(`\n### Simultaneous failures, N = ${n}, r = ${r}\n`)
  console.log(
    '| failed nodes | before repair: mean hops (1st, 99th) | timeouts mean (1st, 99th) | failed lookups | after stabilisation: failed lookups | mean hops |',
  )
  console.log('|---|---|---|---|---|---|')
  for (const p of [0.1, 0.2, 0.3, 0.4, 0.5]) {
    const net = await build(n, { ...QUIET, successors: r, replication: 3 }, 'global')
    const dead = new SeededRandom(Math.round(p * 100)).fork()
    const victims = new Set<string>()
    while (victims.size < Math.round(p * n)) victims.add((net.nodes[dead.int(n)] as BenchNode).name)
    for (const name of victims) net.hub.kill(name)
    const alive = new Set(net.nodes.filter((x) => !victims.has(x.name)).map((x) => x.name))
    const live = net.nodes.filter((x) => alive.has(x.name))
    const before = await measure(net.nodes, alive, QUERIES / 2, 7)
    let rounds = 0
    while (!ringCorrect(live) && rounds < 100) {
      await maintain(live, 1)
      rounds++
    }
    for (let i = 0; i < 3 * (live[0]?.overlay.ring.bits ?? 64) && !fingersCorrect(live); i++) {
      await Promise.allSettled(live.map((x) => x.overlay.routing.fixFingers()))
    }
    const after = await measure(net.nodes, alive, QUERIES / 2, 8)
    console.log(
      `| ${p * 100}% | ${f2(mean(before.hops))} (${pct(before.hops, 1)}, ${pct(before.hops, 99)}) | ${f2(mean(before.timeouts))} (${pct(before.timeouts, 1)}, ${pct(before.timeouts, 99)}) | ${before.failed} / ${QUERIES / 2} | ${after.failed} / ${QUERIES / 2} (ring repaired in ${rounds} round${rounds === 1 ? '' : 's'}) | ${f2(mean(after.hops))} |`,
    )
    await net.stop()
  }
}

/** Keys per node by consistent hashing (successor of each key), with v virtual ids per physical node. */
function recordsPerNode(
  n: number,
  keysPerNode: number,
  v: number,
): { mean: number; p1: number; p99: number; max: number } {
  const ring = new Ring(64)
  const points = sortById(
    Array.from({ length: n }, (_, i) =>
      Array.from({ length: v }, (_, j) => ({ id: ring.hash(`node ${i}/${j}`), owner: i })),
    ).flat(),
  )
  const counts = new Array(n).fill(0)
  for (let k = 0; k < n * keysPerNode; k++) counts[successorIn(points, ring.hash(`key ${k}`)).owner]++
  return { mean: mean(counts), p1: pct(counts, 1), p99: pct(counts, 99), max: Math.max(...counts) }
}

/** Heap per node of a whole peer (container, Network, memory transport, Index, ChordOverlay), before any lookup. */
async function memoryPerNode(n: number): Promise<void> {
  gc()
  const heap0 = process.memoryUsage().heapUsed
  const net = await build(n, QUIET, 'global')
  gc()
  const perNode = (process.memoryUsage().heapUsed - heap0) / n / 1024
  const s = await measure(net.nodes, new Set(net.nodes.map((x) => x.name)), QUERIES, 99)
  gc()
  const after = (process.memoryUsage().heapUsed - heap0) / n / 1024
  console.log(
    `heap per node, N = ${n}: ${perNode.toFixed(1)} KB after the ring is built, ${after.toFixed(1)} KB after ${s.hops.length} lookups (connections kept open)\n`,
  )
  await net.stop()
}

/** Calls per second of `fn` over about `ms` milliseconds. */
function rate(fn: (i: number) => void, ms = 2000): number {
  const t0 = performance.now()
  let n = 0
  while (performance.now() - t0 < ms) fn(n++)
  return n / ((performance.now() - t0) / 1000)
}

/** What a signature per record costs, and what the id puzzle costs an honest node and a key grinder. */
function securityCosts(): void {
  console.log('### Signed records and the id puzzle\n')
  const identity = Identity.generate()
  const name = 'Ubuntu.Desktop.24.04.LTS.amd64.iso'
  const record = {
    hash: 'ab'.repeat(32),
    name,
    size: 6_000_000_000,
    chunkSize: 1 << 20,
    keywords: keywords(name),
    provider: { id: identity.peerId, addresses: ['tcp://192.0.2.1:4001'] },
  }
  const signed = Array.from({ length: 3000 }, (_, i) => signRecord(identity, record, i + 1))
  const signRate = rate((i) => signRecord(identity, record, i + 1))
  let k = 0
  const verifyRate = rate(() => checkRecord(signed[k++ % signed.length] as (typeof signed)[0], 0), 1000)
  const cachedRate = rate(() => checkRecord(signed[0] as (typeof signed)[0], 0), 500)
  console.log(
    `sign a record: ${f2(1e6 / signRate)} µs; check one (signature, keywords, expiry): ${f2(1e6 / verifyRate)} µs, ${f2(1e6 / cachedRate)} µs when its signature was checked before (a record stored under several keys)\n`,
  )
  const derived = rate(() => Identity.fromSeed(randomBytes(32)))
  const generated = rate(() => generateKeyPairSync('ed25519'))
  const checks = rate((i) => puzzleBits(identity.peerId + String(i % 10)))
  console.log(
    `key generation: ${derived.toFixed(0)} keys/s derived from a seed (how an honest node solves the puzzle), ${generated.toFixed(0)} keys/s with generateKeyPairSync; a puzzle check (2 SHA-256): ${f2(1e6 / checks)} µs\n`,
  )
  const t0 = performance.now()
  const solved = 8
  for (let i = 0; i < solved; i++) solvePuzzle(Identity.generate(), DEFAULT_ID_DIFFICULTY)
  console.log(
    `solvePuzzle at difficulty ${DEFAULT_ID_DIFFICULTY} (the default): ${((performance.now() - t0) / solved).toFixed(0)} ms mean over ${solved} identities\n`,
  )
  console.log(
    '| difficulty | honest node: expected keys, time | one id in a chosen arc of 1/1,000 of the ring: keys, time | of 1/10,000 |',
  )
  console.log('|---|---|---|---|')
  const time = (keys: number) => {
    const s = keys / generated
    return s < 120
      ? `${s.toFixed(2)} s`
      : s < 7200
        ? `${(s / 60).toFixed(1)} min`
        : `${(s / 3600).toFixed(1)} h`
  }
  for (const d of [0, 4, 8, 10, 12, 16]) {
    const keys = 2 ** d
    console.log(
      `| ${d} | ${keys}, ${time(keys)} | ${keys * 1000}, ${time(keys * 1000)} | ${keys * 10_000}, ${time(keys * 10_000)} |`,
    )
  }
  console.log(
    '\n(times at the generateKeyPairSync rate above, one core; a grinder with a faster Ed25519 key generator divides them all alike)\n',
  )
}

async function main(): Promise<void> {
  console.log(`chord benchmark: memory transport, ${QUERIES} lookups per figure, Node ${process.version}\n`)
  securityCosts()
  if (process.env.CHORD_BENCH_SECTION === 'security') return
  await memoryPerNode(Math.min(1024, 2 ** MAX_EXP))
  console.log('### Real joins + stabilisation vs global-knowledge fingers (same nodes, same lookups)\n')
  console.log(
    '| N | r | converged | mean hops (joined) | mean hops (global) | same hops, lookup by lookup | failed |',
  )
  console.log('|---|---|---|---|---|---|---|')
  await verifyJoins(64, 1)
  await verifyJoins(64, 8)
  await verifyJoins(256, 8)
  await hopsBySize()
  await failures(Math.min(1024, 2 ** MAX_EXP), 20)
  console.log('\n### Records per node (100 keys per node), consistent hashing, N = 4096\n')
  console.log('| virtual nodes per node | mean | 1st pct | 99th pct | max |')
  console.log('|---|---|---|---|---|')
  for (const v of [1, 12]) {
    const s = recordsPerNode(4096, 100, v)
    console.log(`| ${v} | ${f2(s.mean)} | ${s.p1} | ${s.p99} | ${s.max} |`)
  }
}

await main()
process.exit(0)
