/**
 * What `runSimulations`, its process (`sim-host.js`) and their worker threads
 * (`sim-worker.js`) share: the heap limits of a simulation and the messages.
 */
import type { SimulationOptions } from './options.js'
import type { SimulationProgress, SimulationResult } from './simulation.js'

/** Plugin modules a simulation's worker imports before its simulation (see `SimPoolOptions.plugins`). */
export interface SimPlugins {
  /** Package names or paths, as `loadPlugins` takes them. */
  list: readonly string[]
  /** Folder that relative paths and package names are resolved from. @default process.cwd() */
  from?: string
  /** How the list is named in errors. @default 'sim.plugins' */
  field?: string
}

/** What `runSimulations` hands a simulation's worker (its `workerData`). */
export interface SimWorkerData {
  options: SimulationOptions
  plugins?: SimPlugins
}

/** What a simulation's worker posts (through its process, to the pool). */
export type WorkerReply =
  | { kind: 'progress'; progress: SimulationProgress }
  | { kind: 'result'; result: SimulationResult }
  | { kind: 'error'; error: SimFailure['error'] }

/**
 * Young generation of each simulation's worker, in MB (V8 makes it of three
 * semi-spaces: 128 MB each). A simulation allocates a message's envelope,
 * frame and decoded copy for every hop, nearly all short-lived, while its
 * peers' state grows: a larger young generation collects less often. At
 * 2,000 chord peers 192 MB (against 16 MB by default) took the run from
 * 131.8 s to 112.5 s; 384 MB, started at its full size (`SIM_SEMI_SPACE_MB`),
 * took 1,000 chord peers from 107.1 to 100.5 s, with the same result.
 */
export const SIM_YOUNG_GENERATION_MB = 384
/**
 * Size each simulation's semi-spaces start at (and stay at), in MB: V8
 * starts a heap's at 1 or 2 MB and grows them only while most of what they
 * hold survives, so a simulation's young generation stayed far below its
 * maximum and collected twice as often. A worker takes only the maximum
 * (`resourceLimits`); the start is a flag of its process (`SIM_V8_FLAGS`).
 */
export const SIM_SEMI_SPACE_MB = SIM_YOUNG_GENERATION_MB / 3
/** Old generation of each simulation's worker, in MB: a 10,000-peer run keeps a few GB, above V8's default limit. */
export const SIM_OLD_GENERATION_MB = 12_288
/**
 * The V8 flags of the process the simulations run in: the collector on each
 * simulation's own thread only (`--single-threaded-gc`), and the semi-spaces
 * of the heaps made after it starts, the workers', at their full size. With
 * V8's helper threads, the collector of one simulation ran on the core the
 * other simulation was using: at 10^4 peers × 10^4 queries, two at once on 2
 * cores, the four overlays took 1,511 s of CPU and 12 min 51 s in worker
 * threads of one process, and 1,251 s and 11 min 26 s with the collector on
 * one thread (flooding 698 → 511 s, chord 479 → 449 s), with the same
 * figures. Alone, the flag is within a few per cent either way (chord at
 * 2,000 peers −4.5 %, flooding at 10^4 +1.8 %). It is a process-wide flag
 * that V8 cannot change once a heap exists, hence a process of their own.
 * Worker threads of one such process cost what a process per simulation
 * costs: 2000 × 2000, the four overlays two at once on a quiet machine, 73.4,
 * 76.4 and 78.0 s of CPU against 73.1, 71.8 and 81.1 s, the same figures
 * (fifteenth pass; the fourteenth measured the threads 6 % cheaper).
 */
export const SIM_V8_FLAGS: readonly string[] = Object.freeze([
  '--single-threaded-gc',
  `--min-semi-space-size=${SIM_SEMI_SPACE_MB}`,
])

/** A simulation that threw: its overlay's name and nodes, and the error. */
export interface SimFailure {
  options: SimulationOptions
  error: { name: string; message: string }
}

/** What `runSimulations` asks its process: run this simulation, known by its index in the list. */
export interface HostRequest {
  index: number
  data: SimWorkerData
}

/** What the process sends back: a reply of the worker running the simulation of `index`. */
export interface HostReply {
  index: number
  reply: WorkerReply
}
