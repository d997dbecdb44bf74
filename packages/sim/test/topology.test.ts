import { InvalidOptionsError, SeededRandom } from '@peerkit/core'
import test from 'ava'
import {
  buildTopology,
  floodBall,
  gridGraph,
  LV_SIZES,
  parseTopologyKind,
  powerLawGraph,
  randomGraph,
  replicaCounts,
  type Topology,
  topologyStats,
} from '../src/index.js'

/** Symmetric, sorted, no self-loop, no repeat, and `edges` is half the sum of the degrees. */
function assertSimpleGraph(t: import('ava').ExecutionContext, g: Topology) {
  let ends = 0
  for (const [v, list] of g.adjacency.entries()) {
    ends += list.length
    for (let k = 0; k < list.length; k++) {
      const w = list[k] as number
      if (w === v) return t.fail(`self-loop at ${v}`)
      if (k > 0 && (list[k - 1] as number) >= w) return t.fail(`neighbours of ${v} not sorted or repeated`)
      if (!(g.adjacency[w] as number[]).includes(v)) return t.fail(`edge ${v}-${w} not symmetric`)
    }
  }
  t.is(ends, 2 * g.edges)
}

test('random graph: the paper size, mean degree about 4.09, simple and connected (its largest component)', (t) => {
  const g = randomGraph(new SeededRandom(1), LV_SIZES.random, 4)
  const s = topologyStats(g)
  t.true(s.nodes > 9700 && s.nodes < 9900, `${s.nodes} nodes (theirs 9,836)`)
  t.true(s.meanDegree > 4.0 && s.meanDegree < 4.2, `mean degree ${s.meanDegree} (theirs 4.09)`)
  t.true(s.connected)
  t.true(s.maxDegree < 20, `a Poisson degree has no hub: max ${s.maxDegree}`)
  assertSimpleGraph(t, g)
})

test('power-law random graph: about 9,230 nodes of mean degree about 4.46, heavy-tailed, connected', (t) => {
  const g = buildTopology('powerlaw', new SeededRandom(1), LV_SIZES.powerlaw)
  const s = topologyStats(g)
  t.true(s.nodes > 9000 && s.nodes < 9300, `${s.nodes} nodes (theirs 9,230)`)
  t.true(s.meanDegree > 4.3 && s.meanDegree < 4.6, `mean degree ${s.meanDegree} (theirs 4.46)`)
  t.true(s.connected)
  t.is(s.medianDegree, 2)
  t.true(s.maxDegree > 500, `hubs: max degree ${s.maxDegree}`)
  // A rank exponent of 0.8 is P(D >= d) ∝ d^-1.25: ten times the degree, about 18 times fewer nodes.
  const atLeast = (d: number) => s.histogram.slice(d).reduce((a, c) => a + c, 0)
  const ratio = atLeast(10) / atLeast(100)
  t.true(ratio > 8 && ratio < 40, `P(D >= 10) / P(D >= 100) = ${ratio.toFixed(1)}`)
  t.true((s.histogram[1] ?? 0) / s.nodes > 0.3, 'most nodes are leaves or nearly')
  assertSimpleGraph(t, g)
})

test('grid: 100 × 100, corners of degree 2, borders 3, the rest 4', (t) => {
  const g = gridGraph(100, 100)
  const s = topologyStats(g)
  t.is(s.nodes, 10_000)
  t.is(s.edges, 2 * 100 * 99)
  t.deepEqual(s.histogram, [0, 0, 4, 392, 9604])
  t.true(s.connected)
  t.deepEqual(g.adjacency[0], [1, 100])
  t.deepEqual(g.adjacency[101], [1, 100, 102, 201])
  assertSimpleGraph(t, g)
  t.is(buildTopology('grid', new SeededRandom(1), 10_000).nodes, 10_000)
})

test('the same seed gives the same graph, another seed another one', (t) => {
  for (const kind of ['random', 'powerlaw'] as const) {
    const a = buildTopology(kind, new SeededRandom(7), 2000)
    const b = buildTopology(kind, new SeededRandom(7), 2000)
    const c = buildTopology(kind, new SeededRandom(8), 2000)
    t.deepEqual(a.adjacency, b.adjacency, kind)
    t.notDeepEqual(a.adjacency, c.adjacency, kind)
  }
  t.true(powerLawGraph(new SeededRandom(1), 2000, 0.8).nodes < 2000)
})

test('topology names are checked, naming the known ones', (t) => {
  t.is(parseTopologyKind('powerlaw'), 'powerlaw')
  t.throws(() => parseTopologyKind('ring'), {
    instanceOf: InvalidOptionsError,
    message: "unknown topology 'ring' (known: protocol, random, powerlaw, grid)",
  })
  t.throws(() => buildTopology('random', new SeededRandom(1), 2), { instanceOf: InvalidOptionsError })
})

test('replication: uniform, proportional and square-root copies of the objects', (t) => {
  const q = [0.5, 0.3, 0.15, 0.05]
  t.deepEqual(replicaCounts('uniform', q, 400, 1000), [100, 100, 100, 100])
  t.deepEqual(replicaCounts('proportional', q, 400, 1000), [200, 120, 60, 20])
  const sqrt = replicaCounts('sqrt', q, 400, 1000)
  t.is(Math.round(((sqrt[0] as number) / (sqrt[3] as number)) ** 2), 10, 'r_i / r_j = sqrt(q_i / q_j)')
  t.deepEqual(replicaCounts('proportional', [0.999, 0.001], 10, 5), [5, 1], 'at least 1, at most every peer')
})

test('floodBall: floods on a path of 3 peers, counted by hand', (t) => {
  const g = gridGraph(1, 3) // a path a–b–c
  // From an end: TTL 1 sends 1 message and reaches 2 peers; TTL 2 also the middle's 1: 2 messages, 3 peers.
  // From the middle: TTL 1 sends 2 and reaches 3. Every origin is drawn over many sources.
  const one = floodBall(g, 1, 3000, new SeededRandom(1))
  t.true(Math.abs(one.messages - 4 / 3) < 0.05, `${one.messages}`)
  t.true(Math.abs(one.reached - 7 / 3) < 0.05, `${one.reached}`)
  const two = floodBall(g, 2, 3000, new SeededRandom(1))
  t.true(Math.abs(two.messages - 2) < 0.05, `${two.messages}`)
  t.is(two.reached, 3)
})
