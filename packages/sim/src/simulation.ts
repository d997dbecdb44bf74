import { SeededRandom } from '@peerkit/core'
import { adoptConvergedRing, type LookupReport, runLookups, setRingMaintenance } from './chord.js'
import { exponential } from './distributions.js'
import { eachAtMost } from './each-at-most.js'
import { diffByKind, loadFigures, round, type Summary, summarize } from './metrics.js'
import { parseSimulationOptions, type SimulationOptions } from './options.js'
import { type QueryOutcome, runQuery, snapshot } from './queries.js'
import type { SimulationResult } from './result.js'
import { loadOverlay, SimNetwork, type SimPeer } from './sim-network.js'
import { buildTopology, maxDegree } from './topology.js'
import { startStaticTopology } from './topology-peers.js'
import { Catalog, type SimQuery } from './workload.js'

export type { SimulationResult } from './result.js'

/**
 * The overlay messages a search exchanges, by overlay: what `messages.perQuery` counts in the query
 * window, message by message, instead of estimating it from the hub's traffic minus a background rate.
 * The estimate (`perQueryEstimate`) is off by the upkeep that the queries themselves change: a flooding
 * link busy with queries skips its keepalive pings (at 1,000 peers the settle's 537 pings a second fell
 * to 48 in the window, and the estimate subtracted them all the same), and a Chord query's new
 * connections add the hub's connection messages. Chord's `find_successor` and `step` also serve
 * `fix_fingers` and joins, but a fix_fingers round at rest asks the finger itself (`get_predecessor`)
 * and looks a finger up only when a node joined before it or it died: in a window without churn or
 * failures they are the queries' lookups; under churn the joins' and the repairs' lookups count too.
 * An overlay not listed (a plugin's) gets the estimate.
 */
export const SEARCH_KINDS: Readonly<Record<string, readonly string[]>> = {
  central: ['search', 'more', 'hits'],
  flooding: ['query', 'hit'],
  supernode: ['query', 'hit', 'done'],
  chord: ['find_successor', 'step', 'search', 'get', 'records'],
}

export type SimulationPhase = 'join' | 'warmup' | 'publish' | 'settle' | 'queries' | 'lookups' | 'done'

export interface SimulationProgress {
  overlay: string
  phase: SimulationPhase
  /** Work done in this phase (peers joined, queries answered …) out of `total`. */
  done: number
  total: number
  /** Virtual time, ms. */
  now: number
}

export interface SimulationHooks {
  /** Called as the run moves on (often: keep it cheap). */
  onProgress?: (progress: SimulationProgress) => void
  /** Called with each peer as soon as it is built, before it starts (in-process runs only). */
  onPeer?: (peer: SimPeer, net: SimNetwork) => void
  /** Called once the network is built, published and settled, just before the queries (in-process runs only). */
  onBuilt?: (net: SimNetwork) => void
}

/** Heap in use, after a collection when `--expose-gc` allows one. */
function heapUsed(): number {
  const gc = (globalThis as { gc?: () => void }).gc
  gc?.()
  return process.memoryUsage().heapUsed
}

/**
 * Runs one overlay over `nodes` simulated peers in virtual time: peers join,
 * publish their share of a Zipf-popular catalog, optionally fail or churn,
 * and issue keyword searches whose results are checked against global
 * knowledge. Deterministic: the same options give the same result (bar the
 * `cost` figures, which are real time and memory).
 */
export async function runSimulation(
  input: SimulationOptions,
  hooks: SimulationHooks = {},
): Promise<SimulationResult> {
  const opts = parseSimulationOptions(input)
  await loadOverlay(opts.overlay)
  const realStart = performance.now()
  const progress = (phase: SimulationPhase, done: number, total: number) =>
    hooks.onProgress?.({ overlay: opts.overlay, phase, done, total, now: net.clock.now() })

  // A fixed graph (Lv et al. 2002) from its own seeded stream: each peer joins its listed neighbours,
  // every one of them a protected connection (so a hub may keep more than maxConnections).
  const graph =
    opts.topology === 'protocol'
      ? undefined
      : buildTopology(opts.topology, new SeededRandom(opts.seed).fork(), opts.nodes)
  const net = new SimNetwork({
    overlay: opts.overlay,
    seed: opts.seed,
    latency: opts.latency,
    overlayOptions: opts.overlayOptions,
    maxConnections: Math.max(opts.maxConnections, graph ? maxDegree(graph) + 16 : 0),
    ...(hooks.onPeer ? { onPeer: hooks.onPeer } : {}),
  })
  const { clock, random } = net
  try {
    const catalog = new Catalog(random, opts.files, opts.zipf)
    // Replicas: each file on `replicas` distinct peers.
    const shares: number[][] = Array.from({ length: opts.nodes }, () => [])
    for (const file of catalog.files) {
      const holders = new Set<number>()
      while (holders.size < opts.replicas) holders.add(random.int(opts.nodes))
      for (const h of holders) (shares[h] as number[]).push(file.rank)
    }

    const heapBefore = heapUsed()
    if (opts.overlay === 'central') await net.startDirectory()

    progress('join', 0, opts.nodes)
    if (graph) {
      await startStaticTopology(net, graph, shares, (done) => progress('join', done, opts.nodes))
    } else if (opts.join === 'oracle') {
      // Every node alone, at once; then the converged state from global knowledge.
      const starts: Promise<unknown>[] = []
      for (let i = 0; i < opts.nodes; i++) {
        starts.push(net.addPeer(shares[i], []))
        if ((i + 1) % 1024 === 0) {
          await clock.settle(Promise.all(starts.splice(0)))
          progress('join', i + 1, opts.nodes)
        }
      }
      await clock.settle(Promise.all(starts))
      adoptConvergedRing(net)
      progress('join', opts.nodes, opts.nodes)
    } else {
      // The first peer alone, then the others at exponential gaps, each through live ones.
      await clock.settle(net.addPeer(shares[0]))
      const joins: Promise<unknown>[] = []
      let joined = 1
      let at = 0
      for (let i = 1; i < opts.nodes; i++) {
        at += exponential(random, opts.joinInterval)
        const files = shares[i] as number[]
        clock.setTimeout(() => {
          joins.push(
            net.addPeer(files).finally(() => {
              joined++
              if (joined % 64 === 0 || joined === opts.nodes) progress('join', joined, opts.nodes)
            }),
          )
        }, at)
      }
      await clock.run({ until: () => joins.length === opts.nodes - 1 })
      await clock.settle(Promise.all(joins))
    }
    progress('warmup', 0, opts.warmup)
    await clock.advance(opts.warmup)
    const heapBytes = heapUsed()

    // Publish every peer's share, `publishers` peers at a time: a DHT's publish holds its lookups,
    // connections and records in flight until it ends, and ten thousand at once kept all of theirs together.
    let publishFailures = 0
    let published = 0
    const live = net.livePeers().slice()
    progress('publish', 0, live.length)
    const publishOne = (p: SimPeer) =>
      net
        .publish(
          p,
          p.files.map((rank) =>
            catalog.record(catalog.files[rank] as (typeof catalog.files)[0], p.peer.network.self()),
          ),
        )
        .catch(() => {
          publishFailures++
        })
    await clock.settle(
      eachAtMost(live, opts.publishers, async (p) => {
        await publishOne(p)
        if (++published % 1024 === 0) progress('publish', published, live.length)
      }),
    )

    // Settle, measuring the background rate in the second half.
    progress('settle', 0, opts.settle)
    await clock.advance(opts.settle / 2)
    const bg0 = net.hub.stats()
    const bgStart = clock.now()
    await clock.advance(opts.settle / 2)
    const bg1 = net.hub.stats()
    const bgSpan = Math.max(1, clock.now() - bgStart)
    const backgroundPerMs = opts.settle > 0 ? (bg1.messages - bg0.messages) / bgSpan : 0
    const backgroundBytesPerMs = opts.settle > 0 ? (bg1.bytes - bg0.bytes) / bgSpan : 0

    hooks.onBuilt?.(net)

    // Simultaneous failure.
    const toFail = Math.floor(opts.fail * net.liveCount)
    if (!opts.repairAfterFail) setRingMaintenance(net, false)
    for (let i = 0; i < toFail; i++) {
      const victim = net.randomLive()
      if (victim) net.kill(victim)
    }

    // Who holds what, for the ground truth.
    const holders: SimPeer[][] = catalog.files.map(() => [])
    for (const p of net.peers) for (const rank of p.files) (holders[rank] as SimPeer[]).push(p)
    const answerable = (q: SimQuery) =>
      catalog.matching(q.keywords).some((rank) => (holders[rank] as SimPeer[]).some((p) => p.alive))

    // The measured phase.
    const before = snapshot(net)
    const hub0 = net.hub.stats()
    const t0 = clock.now()
    const outcomes: QueryOutcome[] = []
    let churnJoined = 0
    let churnLeft = 0
    let queriesDone = false
    const pool: number[][] = []
    const churn = opts.churn > 0
    const sessionMean = churn ? (opts.nodes / opts.churn) * 1000 : 0
    const scheduleLeave = (p: SimPeer) => {
      clock.setTimeout(
        () => {
          if (queriesDone || !p.alive) return
          net.kill(p)
          churnLeft++
          pool.push(p.files)
        },
        exponential(random, sessionMean),
      )
    }
    if (churn) {
      for (const p of net.livePeers()) scheduleLeave(p)
      const nextJoin = () => {
        clock.setTimeout(
          () => {
            if (queriesDone) return
            const files = pool.shift() ?? []
            churnJoined++
            void net.addPeer(files).then(async (p) => {
              if (!p) return
              for (const rank of files) (holders[rank] as SimPeer[]).push(p)
              scheduleLeave(p)
              await publishOne(p)
            })
            nextJoin()
          },
          exponential(random, 1000 / opts.churn),
        )
      }
      nextJoin()
    }

    progress('queries', 0, opts.queries)
    let finished = 0
    let queryAt = 0
    for (let i = 0; i < opts.queries; i++) {
      queryAt += exponential(random, opts.queryInterval)
      clock.setTimeout(() => {
        const asker = net.randomLive()
        const q = catalog.query(random)
        const run = asker
          ? runQuery(net, asker, q, answerable(q), opts.queryTimeout, catalog)
          : Promise.resolve<QueryOutcome>({
              answerable: answerable(q),
              succeeded: false,
              targetFound: false,
              falseHits: 0,
              hits: 0,
              error: true,
            })
        void run.then((o) => {
          outcomes.push(o)
          finished++
          if (finished % 16 === 0 || finished === opts.queries) progress('queries', finished, opts.queries)
        })
      }, queryAt)
    }
    await clock.run({ until: () => finished === opts.queries })
    const t1 = clock.now()
    const hub1 = net.hub.stats()
    const after = snapshot(net)

    // Chord's checked lookups; under churn the peers go on joining and leaving meanwhile (the ToN
    // 2003 Table III set-up: each lookup is checked against the key's successor when it ends).
    let lookups: LookupReport | undefined
    if (opts.overlay === 'chord' && opts.checkLookups && opts.lookups > 0) {
      progress('lookups', 0, opts.lookups)
      lookups = await runLookups(net, opts.lookups, opts.lookupInterval, (done) =>
        progress('lookups', done, opts.lookups),
      )
    }
    queriesDone = true

    // The background again, once everything measured is over, over as long as the settle measured it:
    // right after publishing a network still re-opens connections that publishing pruned (chord's
    // fingers), so the settle's rate alone can exceed the window's whole upkeep (at 10^4 x 10^4 it did by
    // half, and the estimate fell to 0). The window's background is taken as the mean of the two rates.
    // Not after a failure without repair or under churn: the network is not the one the queries met.
    let backgroundAfterPerMs = backgroundPerMs
    let backgroundAfterBytesPerMs = backgroundBytesPerMs
    if (opts.settle > 0 && !churn && toFail === 0) {
      const a0 = net.hub.stats()
      const aStart = clock.now()
      await clock.advance(opts.settle / 2)
      const a1 = net.hub.stats()
      const aSpan = Math.max(1, clock.now() - aStart)
      backgroundAfterPerMs = (a1.messages - a0.messages) / aSpan
      backgroundAfterBytesPerMs = (a1.bytes - a0.bytes) / aSpan
    }
    const windowBackgroundPerMs = (backgroundPerMs + backgroundAfterPerMs) / 2
    const windowBackgroundBytesPerMs = (backgroundBytesPerMs + backgroundAfterBytesPerMs) / 2

    // Figures.
    const heapEndBytes = heapUsed()
    const span = t1 - t0
    const totalMessages = hub1.messages - hub0.messages
    const totalBytes = hub1.bytes - hub0.bytes
    const issued = outcomes.length
    const estimatedQueryMessages = Math.max(0, totalMessages - windowBackgroundPerMs * span)
    const byKind = diffByKind(after.byKind, before.byKind)
    const kinds = Object.hasOwn(SEARCH_KINDS, opts.overlay) ? SEARCH_KINDS[opts.overlay] : undefined
    let queryMessages = estimatedQueryMessages
    if (kinds !== undefined) {
      queryMessages = 0
      for (const k of kinds) queryMessages += byKind[k] ?? 0
    }
    const queryBytes = Math.max(0, totalBytes - windowBackgroundBytesPerMs * span)
    const loads: number[] = []
    const records: number[] = []
    for (const [key, s] of after.nodes) {
      loads.push(s.received - (before.nodes.get(key)?.received ?? 0))
      records.push(s.records)
    }
    const answerableCount = outcomes.filter((o) => o.answerable).length
    const succeeded = outcomes.filter((o) => o.answerable && o.succeeded).length
    const realMs = performance.now() - realStart
    progress('done', 1, 1)
    const result: SimulationResult = {
      overlay: opts.overlay,
      options: opts,
      network: {
        nodes: opts.nodes,
        live: net.liveCount,
        joined: churnJoined,
        left: churnLeft,
        failed: toFail,
        joinFailures: net.joinFailures,
        publishFailures,
      },
      queries: {
        issued,
        answerable: answerableCount,
        succeeded,
        successRate: answerableCount === 0 ? 0 : round(succeeded / answerableCount, 4),
        targetFound: outcomes.filter((o) => o.targetFound).length,
        falseHits: outcomes.reduce((a, o) => a + o.falseHits, 0),
        errors: outcomes.filter((o) => o.error).length,
        hitsPerQuery: issued === 0 ? 0 : round(outcomes.reduce((a, o) => a + o.hits, 0) / issued),
      },
      hops: roundSummary(summarize(outcomes.flatMap((o) => (o.hops === undefined ? [] : [o.hops])))),
      firstHitMs: roundSummary(
        summarize(outcomes.flatMap((o) => (o.firstHitMs === undefined ? [] : [o.firstHitMs]))),
      ),
      messages: {
        total: totalMessages,
        backgroundPerSecond: round(windowBackgroundPerMs * 1000),
        backgroundBeforePerSecond: round(backgroundPerMs * 1000),
        backgroundAfterPerSecond: round(backgroundAfterPerMs * 1000),
        perQuery: issued === 0 ? 0 : round(queryMessages / issued),
        perQueryCounted: kinds !== undefined,
        perQueryEstimate: issued === 0 ? 0 : round(estimatedQueryMessages / issued),
        perQueryPerPeer: issued === 0 ? 0 : round(queryMessages / issued / opts.nodes, 6),
        byKind,
      },
      bytes: { total: totalBytes, perQuery: issued === 0 ? 0 : Math.round(queryBytes / issued) },
      load: loadFigures(loads, records),
      cost: {
        virtualMs: clock.now(),
        queryPhaseMs: round(span),
        realMs: Math.round(realMs),
        events: clock.fired,
        eventsPerRealSecond: Math.round(clock.fired / (realMs / 1000)),
        heapBytes,
        heapBytesPerPeer: Math.round((heapBytes - heapBefore) / opts.nodes),
        heapEndBytes,
        rssBytes: process.memoryUsage().rss,
      },
    }
    if (lookups) result.lookups = lookups
    return result
  } finally {
    await net.dispose()
  }
}

function roundSummary(s: Summary): Summary {
  return { count: s.count, mean: round(s.mean), p50: round(s.p50), p95: round(s.p95), max: round(s.max) }
}
