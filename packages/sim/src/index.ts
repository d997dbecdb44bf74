/**
 * @packageDocumentation
 * The peerkit simulator: the real overlays (the very code that runs on the
 * network) over thousands of peers in virtual time, compared side by side.
 * A `VirtualClock` (a discrete-event engine behind core's `Clock`), a seeded
 * `RANDOM` and a `MemoryNetwork` hub with exponential latency are registered
 * in a parent container; every peer is built with `createPeer` under it.
 *
 * ```ts
 * import 'reflect-metadata'
 * import { runSimulation, writeReport } from '@peerkit/sim'
 *
 * const chord = await runSimulation({ overlay: 'chord', nodes: 1000, queries: 500, seed: 1 })
 * console.log(chord.queries.successRate, chord.hops.mean, chord.lookups?.correctness)
 * await writeReport({ command: 'example', results: [chord] }, './sim-out')
 *
 * // or the command line's engine, mounted by @peerkit/cli as `peerkit sim`:
 * import { sim } from '@peerkit/sim'
 * process.exitCode = await sim(['--overlay', 'all', '--nodes', '200'], process)
 * ```
 */
export { adoptConvergedRing, type LookupReport, runLookups } from './chord.js'
export {
  type ChurnRow,
  type ChurnScenarioOptions,
  churnOptions,
  churnRow,
  lookupFailuresPer10k,
  TON_CHURN_RATES,
  TON_TABLE_III,
  type TonChurnRow,
  tonChurnOptions,
} from './churn.js'
export { parseSimArgs, SIM_USAGE, type SimCommandOptions, type SimIo, sim } from './cli.js'
export { exponential, Zipf } from './distributions.js'
export { SimulationStalledError } from './errors.js'
export { seededIdentity } from './identities.js'
export {
  LV_METHODS,
  type LvMethod,
  type LvOptions,
  type LvResult,
  type LvRow,
  lvTable,
  methodLabel,
  REPLICATIONS,
  type Replication,
  replicaCounts,
  runLv,
} from './lv.js'
export {
  type LoadFigures,
  loadFigures,
  maxOf,
  messageTotals,
  minOf,
  recordsHeld,
  type Summary,
  summarize,
} from './metrics.js'
export {
  type ParsedSimulationOptions,
  parseSimulationOptions,
  SIM_OVERLAY_BASE,
  SIM_OVERLAY_DEFAULTS,
  type SimulationOptions,
} from './options.js'
export {
  METRICS,
  reportCharts,
  reportJson,
  reportMarkdown,
  resultsTable,
  type SimulationReport,
  writeReport,
} from './report.js'
export { estimateCpuSeconds, longestFirst } from './run-cost.js'
export {
  SIM_OLD_GENERATION_MB,
  SIM_SEMI_SPACE_MB,
  SIM_V8_FLAGS,
  SIM_YOUNG_GENERATION_MB,
  type SimFailure,
  type SimPlugins,
} from './sim-limits.js'
export {
  DIRECTORY_NAME,
  isBuiltInOverlay,
  loadOverlay,
  OVERLAY_PACKAGES,
  SimNetwork,
  type SimNetworkOptions,
  type SimPeer,
} from './sim-network.js'
export { isFailure, runSimulations, type SimPoolOptions } from './sim-pool.js'
export {
  runSimulation,
  SEARCH_KINDS,
  type SimulationHooks,
  type SimulationPhase,
  type SimulationProgress,
  type SimulationResult,
} from './simulation.js'
export { type Bar, barChart, escapeXml, type Line, lineChart } from './svg-chart.js'
export { type Timer, TimerHeap } from './timer-heap.js'
export {
  buildTopology,
  floodBall,
  gridGraph,
  LV_SIZES,
  parseTopologyKind,
  powerLawGraph,
  randomGraph,
  TOPOLOGIES,
  type Topology,
  type TopologyKind,
  type TopologyStats,
  topologyStats,
} from './topology.js'
export {
  STATIC_TOPOLOGY_OVERLAYS,
  simAddress,
  startStaticTopology,
  topologyMismatches,
} from './topology-peers.js'
export { type RunOptions, type RunResult, VirtualClock } from './virtual-clock.js'
export { Catalog, pseudoWord, type SimFile, type SimQuery } from './workload.js'
