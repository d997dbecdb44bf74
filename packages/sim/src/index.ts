export { Zipf, exponential } from './distributions.js'
export { SimulationStalledError } from './errors.js'
export { seededIdentity } from './identities.js'
export { adoptConvergedRing, type LookupReport, runLookups } from './chord.js'
export { messageTotals, recordsHeld, type Summary, summarize } from './metrics.js'
export { type ParsedSimulationOptions, parseSimulationOptions, type SimulationOptions } from './options.js'
export { DIRECTORY_NAME, loadOverlay, OVERLAY_PACKAGES, SimNetwork, type SimNetworkOptions, type SimPeer } from './sim-network.js'
export {
  runSimulation,
  type SimulationHooks,
  type SimulationPhase,
  type SimulationProgress,
  type SimulationResult,
} from './simulation.js'
export { type Timer, TimerHeap } from './timer-heap.js'
export { type RunOptions, type RunResult, VirtualClock } from './virtual-clock.js'
export { Catalog, pseudoWord, type SimFile, type SimQuery } from './workload.js'
