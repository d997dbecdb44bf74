import 'reflect-metadata'
/**
 * Simulator benchmarks; each scenario prints its figures (and ratios against
 * the reference where there is one). Run after a build:
 *
 *   node --expose-gc packages/sim/dist/bench/sim.js compare [N] [Q]   overlays side by side
 *   node --expose-gc packages/sim/dist/bench/sim.js sweep [maxLog2] [lookups]   chord hops against N = 2^6 …
 *   node --expose-gc packages/sim/dist/bench/sim.js ton [lookups]     ToN 2003 Table II set-up
 *   node --expose-gc --max-old-space-size=MB packages/sim/dist/bench/sim.js scale [N] [lookups] [interval ms=20] [maintenance ms=3600000]
 *   node --expose-gc packages/sim/dist/bench/sim.js ton-churn [lookups] [R1,R2,…]   ToN 2003 Table III set-up
 *   node --expose-gc packages/sim/dist/bench/sim.js churn [queries] [R1,R2,…] [overlays]   the same churn, four overlays
 *   node --expose-gc packages/sim/dist/bench/sim.js lv random|powerlaw|grid [queries] [floodQueries]   Lv et al. 2002
 */
import {
  churnOptions,
  churnRow,
  LV_METHODS,
  lookupFailuresPer10k,
  lvTable,
  parseTopologyKind,
  runLv,
  runSimulation,
  type SimulationOptions,
  type SimulationResult,
  TON_CHURN_RATES,
  TON_TABLE_III,
  tonChurnOptions,
} from '../src/index.js'

/** Chord maintenance slowed down: a converged (oracle) ring stays converged, and lookups dominate the cost. */
const QUIET_CHORD = {
  stabilizeInterval: 60_000,
  fixFingersInterval: 60_000,
  checkPredecessorInterval: 60_000,
}

/**
 * Chord lookups alone on a converged (oracle) ring: no searches, ten files,
 * no warm-up or settle time, lookups `interval` ms apart. `extra` adds to it.
 */
function lookupsOnly(
  nodes: number,
  lookups: number,
  interval: number,
  extra: Partial<SimulationOptions> = {},
): SimulationOptions {
  return {
    overlay: 'chord',
    nodes,
    queries: 0,
    lookups,
    files: 10,
    join: 'oracle',
    warmup: 0,
    settle: 0,
    queryInterval: interval,
    lookupInterval: interval,
    ...extra,
  }
}

const [scenario = 'compare', a, b] = process.argv.slice(2)
const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(0)
const kb = (bytes: number) => (bytes / 1024).toFixed(1)

/** Where the process's memory is: the heap in use and reserved, off-heap buffers, and the resident set. */
function memoryLine(): string {
  const m = process.memoryUsage()
  return `heap ${mb(m.heapUsed)} MB (reserved ${mb(m.heapTotal)}), external ${mb(m.external)} MB, rss ${mb(m.rss)} MB`
}

function costLine(r: SimulationResult): string {
  return (
    `real ${(r.cost.realMs / 1000).toFixed(1)} s, virtual ${(r.cost.virtualMs / 1000).toFixed(0)} s, ` +
    `${r.cost.events} events (${r.cost.eventsPerRealSecond}/s), heap ${mb(r.cost.heapBytes)} MB ` +
    `(${kb(r.cost.heapBytesPerPeer)} KB/peer), at the end ${mb(r.cost.heapEndBytes)} MB, rss ${mb(r.cost.rssBytes)} MB`
  )
}

if (scenario === 'compare') {
  const nodes = Number(a ?? 1000)
  const queries = Number(b ?? 1000)
  for (const overlay of ['central', 'flooding', 'supernode', 'chord']) {
    const r = await runSimulation({
      overlay,
      nodes,
      queries,
      queryInterval: 50,
      // Chord: the simulator's defaults (oracle join, upkeep at the ToN simulations' pace), as `peerkit sim` runs it.
      ...(overlay === 'chord' ? { warmup: 5000 } : {}),
    })
    console.log(
      `${overlay.padEnd(9)} success ${(r.queries.successRate * 100).toFixed(1)}%, hops ${r.hops.mean}, ` +
        `msgs/query ${r.messages.perQuery}, first hit ${r.firstHitMs.mean} ms, busiest ${r.load.maxMessages} msgs / ` +
        `${r.load.maxRecords} records, bytes/query ${r.bytes.perQuery}` +
        (r.lookups ? `, lookups ${(r.lookups.correctness * 100).toFixed(1)}% correct` : ''),
    )
    console.log(`          ${costLine(r)}`)
  }
} else if (scenario === 'sweep') {
  // Two routings: fingers only (successor list r = 1), as in the paper's Fig. 10a, and the default
  // (successor list r = 8, which also routes through the list and saves about half a hop).
  const maxLog = Number(a ?? 12)
  const lookups = Number(b ?? 1000)
  for (const [label, routing] of [
    ['fingers only (r = 1, the paper)', { successors: 1, replication: 2 }],
    ['default (r = 8)', {}],
  ] as const) {
    console.log(`\n${label}`)
    console.log('N        mean hops  ½·log2 N  ratio  correct  failed  real s  KB/peer')
    for (let k = 6; k <= maxLog; k += 2) {
      const nodes = 2 ** k
      const r = await runSimulation(
        lookupsOnly(nodes, lookups, 10, { overlayOptions: { ...QUIET_CHORD, ...routing } }),
      )
      const l = r.lookups
      if (!l) throw new Error('no lookup report')
      const ideal = k / 2
      console.log(
        `${String(nodes).padEnd(8)} ${l.hops.mean.toFixed(2).padStart(9)}  ${ideal.toFixed(2).padStart(8)}  ${(l.hops.mean / ideal).toFixed(2).padStart(5)}  ` +
          `${(l.correctness * 100).toFixed(1).padStart(6)}%  ${String(l.failed).padStart(6)}  ${(r.cost.realMs / 1000).toFixed(1).padStart(6)}  ${kb(r.cost.heapBytesPerPeer).padStart(7)}`,
      )
    }
  }
} else if (scenario === 'ton') {
  // Stoica et al., ToN 2003, Table II: 1,000 nodes, successor lists of r = 20, a fraction p fails at
  // once; the paper reports mean path 3.84 (p = 0) … 5.09 (p = 0.5) and no failed lookup. As in the
  // paper, stabilisation stops just before the failures, so lookups meet the failed nodes (timeouts)
  // in the tables as they stood; each lookup confirms the successor it found (dead ones skipped).
  const lookups = Number(a ?? 500)
  const paper: Record<string, number> = { 0: 3.84, 0.1: 4.03, 0.2: 4.22, 0.3: 4.44, 0.4: 4.69, 0.5: 5.09 }
  console.log('p    mean hops  paper  ratio  p95 hops  timeouts  correct  failed  mean latency ms  real s')
  for (const p of [0, 0.1, 0.2, 0.3, 0.4, 0.5]) {
    const r = await runSimulation(
      lookupsOnly(1000, lookups, 20, { fail: p, repairAfterFail: false, overlayOptions: { successors: 20 } }),
    )
    const l = r.lookups
    if (!l) throw new Error('no lookup report')
    const ref = paper[String(p)] ?? 0
    console.log(
      `${p.toFixed(1)}  ${l.hops.mean.toFixed(2).padStart(9)}  ${ref.toFixed(2)}  ${(l.hops.mean / ref).toFixed(2).padStart(5)}  ${String(l.hops.p95).padStart(8)}  ${l.timeouts.mean.toFixed(2).padStart(8)}  ` +
        `${(l.correctness * 100).toFixed(1).padStart(6)}%  ${String(l.failed).padStart(6)}  ${l.latencyMs.mean.toFixed(0).padStart(15)}  ${(r.cost.realMs / 1000).toFixed(1).padStart(6)}`,
    )
  }
} else if (scenario === 'scale') {
  const nodes = Number(a ?? 100_000)
  const lookups = Number(b ?? 10_000)
  // Lookups a Poisson process 20 ms apart (runSimulation's default), about 40 in flight at a time: 1 ms
  // apart, about 800 were, each hop opening a connection, and the burst took the 10^5 run's RSS to 4.9 GB.
  // 10^4 lookups then span 200 virtual seconds: with maintenance every 60 s every node ran three rounds of
  // stabilize, fix_fingers (a lookup) and check_predecessor in that time, 89 ms of CPU per lookup at 10^5
  // and a connection per hop (heap 1.5 to 2.6 GB). The ring is converged and no peer joins or fails
  // during the lookups, so its maintenance here runs once an hour (the first round a random fraction of
  // that after start, as every node's): the same code, rarely due.
  const interval = Number(process.argv[5] ?? 20)
  const maintenance = Number(process.argv[6] ?? 3_600_000)
  const overlayOptions = {
    stabilizeInterval: maintenance,
    fixFingersInterval: maintenance,
    checkPredecessorInterval: maintenance,
  }
  const every = nodes > 200_000 ? 32_768 : 8192
  const started = performance.now()
  let cpu = process.cpuUsage()
  let last = { done: 0, phase: '' }
  const r = await runSimulation(lookupsOnly(nodes, lookups, interval, { overlayOptions }), {
    onProgress: (p) => {
      if (p.done !== p.total && p.done % every !== 0) return
      // CPU per peer (or lookup) since the last line: the machine is shared, so real time says little.
      const used = process.cpuUsage(cpu)
      const n = p.phase === last.phase ? p.done - last.done : 0
      const per = n > 0 ? `, ${((used.user + used.system) / 1000 / n).toFixed(2)} ms CPU each` : ''
      cpu = process.cpuUsage()
      last = { done: p.done, phase: p.phase }
      console.error(
        `${((performance.now() - started) / 1000).toFixed(0)} s: ${p.phase} ${p.done}/${p.total}${per}, ${memoryLine()}`,
      )
    },
  })
  const l = r.lookups
  if (!l) throw new Error('no lookup report')
  console.log(
    `chord N=${nodes}: ${l.checked} lookups, ${(l.correctness * 100).toFixed(2)}% correct, ${l.failed} failed, ` +
      `mean hops ${l.hops.mean} (½·log2 N = ${(Math.log2(nodes) / 2).toFixed(2)})`,
  )
  console.log(costLine(r))
} else if (scenario === 'ton-churn') {
  // Stoica et al., ToN 2003, Table III: 500 nodes, joins and failures each a Poisson process of rate R,
  // stabilisation every 30 s, one lookup a second; lookup failures per 10,000 lookups against R.
  const lookups = Number(a ?? 2000)
  const rates = b ? b.split(',').map(Number) : TON_CHURN_RATES
  console.log('R     joins  fails  path  paper  timeouts  paper  failures/10k  paper  failed  real s')
  for (const rate of rates) {
    const r = await runSimulation(tonChurnOptions(rate, lookups))
    const l = r.lookups
    if (!l) throw new Error('no lookup report')
    const ref = TON_TABLE_III.find((row) => row.rate === rate)
    const cell = (v: number | undefined, digits: number, width: number) =>
      (v === undefined ? '–' : v.toFixed(digits)).padStart(width)
    console.log(
      `${rate.toFixed(2)}  ${String(r.network.joined).padStart(5)}  ${String(r.network.left).padStart(5)}  ` +
        `${l.hops.mean.toFixed(2)}  ${cell(ref?.pathLength, 2, 5)}  ${l.timeouts.mean.toFixed(2).padStart(8)}  ${cell(ref?.timeouts, 2, 5)}  ` +
        `${lookupFailuresPer10k(l).toFixed(1).padStart(12)}  ${cell(ref?.failuresPer10k, 0, 5)}  ${String(l.failed).padStart(6)}  ${(r.cost.realMs / 1000).toFixed(1).padStart(6)}`,
    )
  }
} else if (scenario === 'churn') {
  // The Table III churn on the four overlays: success and time to first hit of keyword searches.
  const queries = Number(a ?? 300)
  const rates = b ? b.split(',').map(Number) : [0, 0.1, 0.2, 0.4]
  const overlays = (process.argv[5] ?? 'central,flooding,supernode,chord').split(',')
  console.log(
    'overlay    R     joins  fails  success  first hit ms (p95)  hops  msgs/query  lookup failures/10k  real s',
  )
  for (const overlay of overlays)
    for (const rate of rates) {
      const r = await runSimulation(churnOptions(overlay, rate, queries))
      const row = churnRow(r)
      console.log(
        `${overlay.padEnd(9)}  ${rate.toFixed(2)}  ${String(row.joined).padStart(5)}  ${String(row.left).padStart(5)}  ` +
          `${(row.successRate * 100).toFixed(1).padStart(6)}%  ${row.firstHitMs.toFixed(0).padStart(7)} (${row.firstHitP95.toFixed(0)})`.padEnd(
            20,
          ) +
          `  ${row.hops.toFixed(2).padStart(4)}  ${row.messagesPerQuery.toFixed(1).padStart(10)}  ` +
          `${(row.lookupFailuresPer10k === undefined ? '–' : row.lookupFailuresPer10k.toFixed(1)).padStart(19)}  ${(r.cost.realMs / 1000).toFixed(1).padStart(6)}`,
      )
    }
} else if (scenario === 'lv') {
  // Lv, Cao, Cohen, Li and Shenker (ICS 2002): floods, the expanding ring and 16/32/64 random walkers on
  // their topologies (random | powerlaw | grid), three replications; walks need the randomwalk example.
  const topology = parseTopologyKind(a ?? 'random')
  if (topology === 'protocol') throw new Error('lv runs on random, powerlaw or grid')
  await import(new URL('../../../../examples/overlay-randomwalk/dist/src/index.js', import.meta.url).href)
  const queries = Number(b ?? 200)
  const started = performance.now()
  const r = await runLv({
    topology,
    queries,
    floodQueries: Number(process.argv[5] ?? queries),
    methods: LV_METHODS[topology],
    onProgress: (line) => console.error(`${((performance.now() - started) / 1000).toFixed(0)} s: ${line}`),
  })
  console.log(lvTable(r))
  console.log(`real ${(r.realMs / 1000).toFixed(0)} s, ${memoryLine()}`)
} else {
  console.error(`unknown scenario '${scenario}' (compare, sweep, ton, ton-churn, churn, scale, lv)`)
  process.exitCode = 2
}
