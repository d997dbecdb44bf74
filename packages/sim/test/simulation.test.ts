import test from 'ava'
import {
  runSimulation,
  SEARCH_KINDS,
  type SimPeer,
  type SimulationOptions,
  type SimulationResult,
} from '../src/index.js'

/** Everything but the real-time and memory figures, which vary from run to run. */
function measured(
  r: SimulationResult,
): Omit<SimulationResult, 'cost'> & { virtualMs: number; events: number } {
  const { cost, ...rest } = r
  return { ...rest, virtualMs: cost.virtualMs, events: cost.events }
}

const SMALL: Omit<SimulationOptions, 'overlay'> = {
  nodes: 50,
  queries: 40,
  files: 60,
  replicas: 3,
  warmup: 3000,
  settle: 2000,
  queryInterval: 100,
  queryTimeout: 5000,
}

/**
 * One run per set of options in this file, shared by the tests that read it:
 * a run is deterministic (the tests below check it), so a second identical
 * run would only cost time. A determinism check still makes its own second run.
 */
const runs = new Map<string, Promise<SimulationResult>>()
function shared(options: SimulationOptions): Promise<SimulationResult> {
  const key = JSON.stringify(options)
  let run = runs.get(key)
  if (!run) {
    run = runSimulation(options)
    runs.set(key, run)
  }
  return run
}

/**
 * Chord's run of the ½·log2 N test below, which the determinism check of chord
 * also runs. Chord's cost is in publishing (a DHT put per keyword and
 * replica), so the catalog is smaller than SMALL's; the lookups and queries are not.
 */
const CHORD_64: SimulationOptions = {
  overlay: 'chord',
  ...SMALL,
  nodes: 64,
  queries: 60,
  files: 20,
  join: 'oracle',
  seed: 11,
}

/** The run each overlay's determinism check repeats (and another seed of it). */
const DETERMINISM: Record<string, SimulationOptions> = {
  central: { overlay: 'central', ...SMALL, seed: 7 },
  flooding: { overlay: 'flooding', ...SMALL, seed: 7 },
  supernode: { overlay: 'supernode', ...SMALL, seed: 7 },
  chord: CHORD_64,
}

for (const [overlay, options] of Object.entries(DETERMINISM)) {
  test(`${overlay}: the same seed gives identical metrics, another seed different ones`, async (t) => {
    const [a, b, c] = await Promise.all([
      shared(options),
      runSimulation(options),
      runSimulation({ ...options, seed: (options.seed as number) + 1 }),
    ])
    t.deepEqual(measured(a), measured(b))
    t.notDeepEqual(measured(a), measured(c))
    t.is(a.queries.issued, options.queries as number)
    t.is(a.network.joinFailures, 0)
    t.is(a.queries.falseHits, 0)
  })
}

test('flooding finds replicated files and its messages grow with the flood', async (t) => {
  const r = await shared(DETERMINISM.flooding as SimulationOptions)
  t.true(r.queries.successRate > 0.9, `success ${r.queries.successRate}`)
  t.true(r.hops.mean >= 1 && r.hops.mean <= 7, `hops ${r.hops.mean}`)
  t.true(r.messages.perQuery > 5, `messages/query ${r.messages.perQuery}`)
  t.true(r.firstHitMs.mean > 0)
  t.true(r.bytes.perQuery > 0)
  t.true(r.load.maxMessages >= r.load.meanMessages)
  // the window's background: the mean of the rates measured before the queries and after everything
  const m = r.messages
  t.true(
    Math.abs(m.backgroundPerSecond - (m.backgroundBeforePerSecond + m.backgroundAfterPerSecond) / 2) < 0.01,
  )
})

test('messages per query count the kinds a search exchanges, message by message', async (t) => {
  for (const [overlay, options] of Object.entries(DETERMINISM)) {
    const r = await shared(options)
    const m = r.messages
    const kinds = SEARCH_KINDS[overlay] as readonly string[]
    let counted = 0
    for (const k of kinds) counted += m.byKind[k] ?? 0
    t.true(m.perQueryCounted, overlay)
    t.true(counted > 0, `${overlay}: no search message in ${JSON.stringify(m.byKind)}`)
    t.is(m.perQuery, Math.round((counted / r.queries.issued) * 1000) / 1000, overlay)
  }
  // upkeep in the window is left out: flooding's pings
  const flooding = await shared(DETERMINISM.flooding as SimulationOptions)
  t.true((flooding.messages.byKind.ping ?? 0) > 0, JSON.stringify(flooding.messages.byKind))
  // one search and one answer a query where every query is answered
  const central = await shared(DETERMINISM.central as SimulationOptions)
  t.is(central.messages.perQuery, 2)
})

test('under churn, what peers that died or joined in the window sent is counted', async (t) => {
  // every peer's own counters, from just before the queries to the end
  const peers: SimPeer[] = []
  const start = new Map<SimPeer, Record<string, number>>()
  const r = await runSimulation(
    { overlay: 'flooding', ...SMALL, churn: 4, seed: 3 },
    {
      onPeer: (p) => peers.push(p),
      onBuilt: () => {
        for (const p of peers) start.set(p, { ...p.peer.overlay.stats().sent })
      },
    },
  )
  t.true(r.network.left > 0 && r.network.joined > 0)
  const expected: Record<string, number> = {}
  for (const p of peers) {
    const before = start.get(p) ?? {}
    for (const [k, v] of Object.entries(p.peer.overlay.stats().sent)) {
      const d = v - (before[k] ?? 0)
      if (d !== 0) expected[k] = (expected[k] ?? 0) + d
    }
  }
  t.true(
    peers.some((p) => !p.alive && start.has(p)),
    'a peer of the window died',
  )
  t.deepEqual(r.messages.byKind, expected)
})

test('chord: lookups are correct and take about ½·log2 N hops for N = 64', async (t) => {
  const r = await shared(CHORD_64)
  const lookups = r.lookups
  if (!lookups) return t.fail('no lookup report')
  t.is(lookups.checked, 60)
  t.is(lookups.failed, 0)
  t.is(lookups.correctness, 1)
  t.true(Math.abs(lookups.hops.mean - 3) <= 1, `mean hops ${lookups.hops.mean}`)
  t.true(r.queries.successRate > 0.9, `success ${r.queries.successRate}`)
  t.true(r.load.maxRecords > 0)
})

test('chord: the ring joined through the protocol answers correctly too', async (t) => {
  const r = await runSimulation({
    overlay: 'chord',
    ...SMALL,
    nodes: 32,
    queries: 30,
    files: 20,
    join: 'protocol',
    warmup: 60_000,
    seed: 5,
  })
  const lookups = r.lookups
  if (!lookups) return t.fail('no lookup report')
  t.true(lookups.correctness >= 0.9, `correct ${lookups.correctness}`)
  t.true(r.queries.successRate > 0.9, `success ${r.queries.successRate}`)
})

test('chord, ToN 2003 Table II set-up in small: with repair paused, lookups time out on failed nodes yet end at the live successor', async (t) => {
  const frozen = {
    overlay: 'chord',
    ...SMALL,
    nodes: 200,
    queries: 0,
    // no searches here, so one file: publishing SMALL's catalog cost three quarters of the run
    files: 1,
    replicas: 1,
    lookups: 150,
    join: 'oracle' as const,
    warmup: 0,
    settle: 0,
    fail: 0.4,
    queryInterval: 20,
    // the library's own upkeep (stabilize every second), so the repaired run does repair
    overlayOptions: {
      successors: 16,
      stabilizeInterval: 1000,
      fixFingersInterval: 500,
      checkPredecessorInterval: 2000,
    },
    seed: 4,
  }
  const paused = await runSimulation({ ...frozen, repairAfterFail: false })
  const repaired = await runSimulation(frozen)
  const [p, r] = [paused.lookups, repaired.lookups]
  if (!p || !r) return t.fail('no lookup report')
  t.is(p.failed, 0)
  t.is(p.correctness, 1)
  t.is(r.correctness, 1)
  // tables as they stood: about one timeout per lookup or more at p = 0.4; stabilisation removes most
  t.true(p.timeouts.mean > 1, `timeouts with repair paused ${p.timeouts.mean}`)
  t.true(p.timeouts.mean > r.timeouts.mean, `${p.timeouts.mean} vs ${r.timeouts.mean} with repair`)
  t.true(p.hops.mean >= r.hops.mean, `hops ${p.hops.mean} vs ${r.hops.mean}`)
})

test('failures and churn reduce the live set and are reported', async (t) => {
  const failed = await runSimulation({ overlay: 'flooding', ...SMALL, fail: 0.2, seed: 2 })
  t.is(failed.network.failed, 10)
  t.is(failed.network.live, 40)
  // after a failure the network is not the one the queries met: the background is the settle's alone
  t.is(failed.messages.backgroundAfterPerSecond, failed.messages.backgroundBeforePerSecond)
  t.true(failed.queries.answerable <= failed.queries.issued)
  const churned = await runSimulation({ overlay: 'flooding', ...SMALL, churn: 2, seed: 2 })
  t.true(churned.network.joined > 0 && churned.network.left > 0)
  t.true(churned.queries.successRate > 0.5, `success ${churned.queries.successRate}`)
})

test('an unknown overlay is refused before anything runs', async (t) => {
  await t.throwsAsync(runSimulation({ overlay: 'nope' }), { name: 'InvalidOptionsError' })
  // names an object has from its prototype are unknown overlays too, not packages to import
  for (const overlay of ['constructor', 'toString', '__proto__'])
    await t.throwsAsync(runSimulation({ overlay, nodes: 4, queries: 1 }), {
      name: 'InvalidOptionsError',
      message: /overlay/,
    })
})

test('publishers bounds the publishes in flight, and every peer with files still publishes', async (t) => {
  const inFlight = { now: 0, max: 0, calls: 0 }
  let sharing = 0
  const r = await runSimulation(
    { overlay: 'chord', ...SMALL, nodes: 40, queries: 10, publishers: 3 },
    {
      onPeer: (sim) => {
        if (sim.files.length > 0) sharing++
        const overlay = sim.peer.overlay
        const publish = overlay.publish.bind(overlay)
        overlay.publish = async (records) => {
          inFlight.calls++
          inFlight.max = Math.max(inFlight.max, ++inFlight.now)
          try {
            await publish(records)
          } finally {
            inFlight.now--
          }
        }
      },
    },
  )
  t.true(sharing > 3, `${sharing} peers share files`)
  t.is(inFlight.calls, sharing)
  t.is(inFlight.max, 3)
  t.is(r.network.publishFailures, 0)
  t.true(r.queries.successRate > 0.9, `success ${r.queries.successRate}`)
})
