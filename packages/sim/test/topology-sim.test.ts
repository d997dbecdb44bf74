import 'reflect-metadata'
import '@peerkit/overlay-flooding'
import { InvalidOptionsError, SeededRandom } from '@peerkit/core'
import test from 'ava'
import {
  buildTopology,
  parseSimArgs,
  parseSimulationOptions,
  runLv,
  runSimulation,
  SimNetwork,
  simAddress,
  startStaticTopology,
  topologyMismatches,
} from '../src/index.js'

test('a static topology of 300 peers is exactly what the flooding peers use, and stays so', async (t) => {
  const topology = buildTopology('powerlaw', new SeededRandom(3), 300)
  const net = new SimNetwork({
    overlay: 'flooding',
    seed: 3,
    latency: 50,
    overlayOptions: { maintenanceInterval: 10_000 },
    maxConnections: 512,
  })
  t.teardown(() => net.dispose())
  const peers = await startStaticTopology(net, topology)
  t.is(peers.length, topology.nodes)
  t.is(peers[5]?.name, 'p5')
  // Links missed while both ends started at once are made at the first maintenance round.
  await net.clock.advance(10_000)
  t.is(topologyMismatches(peers, topology), 0)
  const hub = peers.reduce(
    (best, p, i) =>
      p.peer.overlay.neighbors().length > best.degree
        ? { i, degree: p.peer.overlay.neighbors().length }
        : best,
    { i: 0, degree: 0 },
  )
  t.true(
    hub.degree > 8,
    `the hub keeps all its ${hub.degree} listed neighbours, over the default maxNeighbors of 8`,
  )
  t.deepEqual(
    peers[hub.i]?.peer.overlay
      .neighbors()
      .map((r) => r.addresses[0])
      .sort(),
    (topology.adjacency[hub.i] as number[]).map(simAddress).sort(),
    "the hub's neighbours are at its listed addresses",
  )
  // A minute of maintenance rewires nothing.
  await net.clock.advance(60_000)
  t.is(topologyMismatches(peers, topology), 0)
})

test('runLv on a small random graph: every flood row is measured, the ring costs less than a flood that reaches everyone', async (t) => {
  const r = await runLv({
    topology: 'random',
    nodes: 200,
    queries: 8,
    replications: ['uniform'],
    methods: [
      { kind: 'flood', ttl: 8 },
      { kind: 'ring', maxTtl: 12 },
    ],
  })
  t.is(r.topology.mismatches.flooding, 0)
  const [flood, ring] = r.rows
  if (!flood || !ring) return t.fail('two rows expected')
  t.is(flood.successRate, 1, 'a TTL-8 flood of a 200-node graph of mean degree 4 finds every object')
  t.is(ring.successRate, 1)
  t.true(
    ring.searchMessagesPerQuery < flood.searchMessagesPerQuery,
    `${ring.searchMessagesPerQuery} < ${flood.searchMessagesPerQuery}`,
  )
  t.true(
    flood.searchMessagesPerQuery > r.topology.edges,
    'a flood that reaches everyone sends each link at least once',
  )
  t.true(r.expectedSearchSize.sqrt < r.expectedSearchSize.uniform, 'square-root replication is the cheaper')
})

test('runSimulation --topology grid: flooding searches run on a 12 × 12 grid; chord refuses a topology', async (t) => {
  const r = await runSimulation({
    overlay: 'flooding',
    nodes: 144,
    queries: 20,
    topology: 'grid',
    warmup: 5000,
    settle: 2000,
  })
  t.is(r.options.topology, 'grid')
  t.is(r.network.joinFailures, 0)
  t.true(r.queries.successRate > 0.5, `success ${r.queries.successRate}`)
  t.true(r.hops.max <= 7, 'no hit comes from beyond the flood TTL')
  t.throws(() => parseSimulationOptions({ overlay: 'chord', topology: 'random' }), {
    instanceOf: InvalidOptionsError,
    message:
      /sim\.topology 'random' needs an overlay that takes a static neighbour list \(flooding, randomwalk; got 'chord'\)/,
  })
  t.deepEqual(parseSimArgs(['--overlay', 'flooding', '--topology', 'powerlaw']).topology, 'powerlaw')
  t.throws(() => parseSimArgs(['--overlay', 'flooding', '--topology', 'ring']), {
    message: /unknown topology 'ring'/,
  })
})
