/**
 * Supernode benchmark: N peers over the memory transport (authenticate: false)
 * join the supernode overlay; the flooding benchmark's workload (files of
 * Zipf popularity, Zipf-distributed queries with limit 1) runs against it and,
 * as the baseline in the same process, against a flooding network of the same
 * size with the expanding ring. It prints success rate and messages per
 * query for both, and the load on the busiest supernode.
 *
 *   npm run bench:supernode
 *   node packages/overlay-supernode/dist/bench/supernode.js --peers 1000 --queries 200 --seed 1
 */
import 'reflect-metadata'
import '@peerkit/index-memory'
import '@peerkit/transport-memory'
import '@peerkit/overlay-flooding'
import '../src/index.js'
import { parseArgs } from 'node:util'
import {
  buildPeerContainer,
  type Hit,
  LOGGER,
  Network,
  OVERLAY,
  type Overlay,
  SeededRandom,
  silentLogger,
} from '@peerkit/core'
import type { FloodingOverlay } from '@peerkit/overlay-flooding'
import { MemoryNetwork, memoryContainer } from '@peerkit/transport-memory'
import type { SupernodeOverlay } from '../src/index.js'
import { recordFor, workload } from './workload.js'

const { values: args } = parseArgs({
  options: {
    peers: { type: 'string', default: '1000' },
    queries: { type: 'string', default: '200' },
    files: { type: 'string', default: '100' },
    replicas: { type: 'string', default: '50' },
    seed: { type: 'string', default: '1' },
    'ring-timeout': { type: 'string', default: '40' },
    'leaves-per-supernode': { type: 'string', default: '32' },
  },
})
const PEERS = Number(args.peers)
const QUERIES = Number(args.queries)
const FILES = Number(args.files)
const REPLICAS = Number(args.replicas)
const SEED = Number(args.seed)
const RING_TIMEOUT = Number(args['ring-timeout'])
const LEAVES = Number(args['leaves-per-supernode'])
const QUIET = 3_600_000

interface Node {
  network: Network
  overlay: Overlay
}

/** A Network and an overlay in one child container (what createPeer wires, minus Transfer). */
async function node(
  hub: MemoryNetwork,
  overlay: string,
  options: unknown,
  i: number,
  bootstrap: string[],
): Promise<Node> {
  const c = buildPeerContainer(
    {
      overlay,
      transport: 'memory',
      listen: [`memory://${overlay}${i}`],
      bootstrap,
      seed: SEED * 100_000 + i,
      options: { 'transport:memory': { authenticate: false }, [overlay]: options },
    },
    {
      container: memoryContainer(hub),
      components: ['transport', 'index', 'overlay'],
      register: (cc) => cc.register(LOGGER, { useValue: silentLogger() }),
    },
  )
  const network = c.resolve(Network)
  const o = c.resolve(OVERLAY)
  await network.start()
  await o.start()
  return { network, overlay: o }
}

/** Resolves once no message crossed the hub for a few polls. */
async function quiescent(hub: MemoryNetwork): Promise<void> {
  let last = -1
  let still = 0
  while (still < 3) {
    await new Promise((r) => setTimeout(r, 5))
    const now = hub.stats().messages
    still = now === last ? still + 1 : 0
    last = now
  }
}

interface Outcome {
  found: boolean
  messages: number
}

async function query(hub: MemoryNetwork, origin: Node, rank: number): Promise<Outcome> {
  await quiescent(hub)
  const before = hub.stats().messages
  const hits: Hit[] = []
  for await (const hit of origin.overlay.search({ keywords: ['file', `r${rank}`], limit: 1 })) hits.push(hit)
  await quiescent(hub)
  return { found: hits.length > 0, messages: hub.stats().messages - before }
}

async function network(
  name: string,
  options: unknown,
  build: (nodes: Node[], hub: MemoryNetwork) => Promise<void> = async () => {},
) {
  const hub = new MemoryNetwork()
  const pick = new SeededRandom(SEED)
  const nodes: Node[] = []
  const t0 = performance.now()
  for (let i = 0; i < PEERS; i++) {
    const boot = i === 0 ? [] : [`memory://${name}${pick.int(i)}`]
    nodes.push(await node(hub, name, options, i, boot))
  }
  await build(nodes, hub)
  console.error(`  ${name}: ${PEERS} peers joined in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  return { hub, nodes }
}

async function run(name: string, hub: MemoryNetwork, nodes: Node[]) {
  const w = workload(new SeededRandom(SEED), PEERS, FILES, REPLICAS, QUERIES)
  for (const [i, names] of w.holdings) {
    const n = nodes[i] as Node
    await n.overlay.publish(names.map((f) => recordFor(n.network.self(), f)))
  }
  await quiescent(hub)
  const t0 = performance.now()
  const outcomes: Outcome[] = []
  for (const q of w.plan) outcomes.push(await query(hub, nodes[q.origin] as Node, q.rank))
  const success = outcomes.filter((o) => o.found).length / outcomes.length
  const messages = outcomes.reduce((a, o) => a + o.messages, 0) / outcomes.length
  console.error(`  ${name}: ${QUERIES} queries in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  return { success, messages, copies: w.copies }
}

async function main(): Promise<void> {
  const t0 = performance.now()
  console.log(
    `${PEERS} peers, ${FILES} files (rank 1: ${REPLICAS} copies, Zipf), ${QUERIES} queries (Zipf s=1, limit 1), seed ${SEED}`,
  )
  const flood = await network(
    'flooding',
    {
      minNeighbors: 4,
      maxNeighbors: 8,
      maintenanceInterval: QUIET,
      ringTimeout: RING_TIMEOUT,
      seenCacheSize: 4096,
      queryRate: 100_000,
      queryBurst: 100_000,
    },
    async (nodes) => {
      // As in the flooding benchmark: the first peers joined when there were few others; let them fill up.
      for (let round = 0; round < 5; round++) {
        const short = nodes.filter((n) => n.overlay.neighbors().length < 4)
        if (short.length === 0) break
        await Promise.all(short.map((n) => (n.overlay as FloodingOverlay).maintain()))
      }
    },
  )
  const floodRow = await run('flooding', flood.hub, flood.nodes)
  await Promise.all(flood.nodes.map((n) => n.overlay.stop().then(() => n.network.stop())))

  const sn = await network(
    'supernode',
    {
      leavesPerSupernode: LEAVES,
      hopTimeout: RING_TIMEOUT,
      maintenanceInterval: QUIET,
      heartbeatInterval: QUIET,
      refreshInterval: QUIET,
      demoteAfter: 0,
      queryRate: 100_000,
      queryBurst: 100_000,
    },
    async (nodes, hub) => {
      // Maintenance runs by hand here (its timer is an hour): promote, link, until nothing changes.
      for (let round = 0; round < 50; round++) {
        const roles = nodes.map((n) => n.overlay.role()).join()
        await Promise.all(nodes.map((n) => (n.overlay as SupernodeOverlay).maintain()))
        await quiescent(hub)
        if (round > 2 && roles === nodes.map((n) => n.overlay.role()).join()) break
      }
    },
  )
  const before = new Map(sn.nodes.map((n) => [n, handled(n)]))
  const snRow = await run('supernode', sn.hub, sn.nodes)
  const supernodes = sn.nodes.filter((n) => n.overlay.role() === 'supernode')
  const busiest = supernodes
    .map((n) => ({ n, handled: handled(n) - (before.get(n) ?? 0), s: n.overlay.stats() }))
    .sort((a, b) => b.handled - a.handled)[0]
  const leaves = supernodes.map((n) => n.overlay.stats().leaves as number)
  const links = supernodes.map((n) => n.overlay.stats().links as number)
  console.log(
    `supernodes: ${supernodes.length} (leaves per supernode min ${Math.min(...leaves)}, max ${Math.max(...leaves)}; ` +
      `links min ${Math.min(...links)}, max ${Math.max(...links)})`,
  )
  console.table([
    {
      overlay: 'flooding, expanding ring 1..7',
      'success %': pct(floodRow.success),
      'msgs/query': Math.round(floodRow.messages),
    },
    { overlay: 'supernode', 'success %': pct(snRow.success), 'msgs/query': Math.round(snRow.messages) },
  ])
  console.log(
    `supernode sends ${(floodRow.messages / snRow.messages).toFixed(1)}× fewer messages per query than flooding's expanding ring ` +
      `(success ${pct(snRow.success)}% vs ${pct(floodRow.success)}%)`,
  )
  if (busiest) {
    console.log(
      `busiest supernode: ${busiest.handled} messages handled during the ${QUERIES} queries ` +
        `(${(busiest.handled / QUERIES).toFixed(1)} per query), ${busiest.s.records} records indexed, ${busiest.s.leaves} leaves`,
    )
  }
  console.log(`total ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  await Promise.all(sn.nodes.map((n) => n.overlay.stop().then(() => n.network.stop())))
}

function handled(n: Node): number {
  return Object.values(n.overlay.stats().received).reduce((a, b) => a + b, 0)
}

function pct(x: number): number {
  return +(x * 100).toFixed(1)
}

await main()
