import { availableParallelism } from 'node:os'
import { setFlagsFromString } from 'node:v8'
import { Worker } from 'node:worker_threads'
import { InvalidOptionsError } from '@peerkit/core'
import { eachAtMost } from './each-at-most.js'
import type { SimulationOptions } from './options.js'
import { OVERLAY_PACKAGES } from './sim-network.js'
import { runSimulation, type SimulationProgress, type SimulationResult } from './simulation.js'

/** Plugin modules a worker imports before its simulation (see `SimPoolOptions.plugins`). */
export interface SimPlugins {
  /** Package names or paths, as `loadPlugins` takes them. */
  list: readonly string[]
  /** Folder that relative paths and package names are resolved from. @default process.cwd() */
  from?: string
  /** How the list is named in errors. @default 'sim.plugins' */
  field?: string
}

/** What `runSimulations` hands a worker. */
export interface SimWorkerData {
  options: SimulationOptions
  plugins?: SimPlugins
}

/** What a simulation worker posts to its pool. */
export type WorkerReply =
  | { kind: 'progress'; progress: SimulationProgress }
  | { kind: 'result'; result: SimulationResult }
  | { kind: 'error'; error: SimFailure['error'] }

/**
 * Young generation of each worker, in MB (V8 makes it of three semi-spaces:
 * 128 MB each). A simulation allocates a message's envelope, frame and
 * decoded copy for every hop, nearly all short-lived, while its peers' state
 * grows: a larger young generation collects less often. At 2,000 chord peers
 * 192 MB (against 16 MB by default) took the run from 131.8 s to 112.5 s;
 * 384 MB, started at its full size (`SIM_SEMI_SPACE_MB`), took 1,000 chord
 * peers from 107.1 to 100.5 s, with the same result.
 */
export const SIM_YOUNG_GENERATION_MB = 384
/**
 * Size each worker's semi-spaces start at, in MB: V8 starts a heap's at 1 or
 * 2 MB and grows them only while most of what they hold survives, so a
 * simulation's young generation stayed far below its maximum and collected
 * twice as often. A Worker takes only the maximum (`resourceLimits`); the
 * start is V8's `--min-semi-space-size`, a flag each heap reads as it is
 * made, which `runSimulations` sets in this process before its first worker
 * (so it applies to the isolates made after, not to this thread's heap).
 */
export const SIM_SEMI_SPACE_MB = SIM_YOUNG_GENERATION_MB / 3
/** Old generation of each worker, in MB: a 10,000-peer run keeps a few GB, above V8's default limit. */
export const SIM_OLD_GENERATION_MB = 12_288

/** A simulation that threw: its overlay's name and nodes, and the error. */
export interface SimFailure {
  options: SimulationOptions
  error: { name: string; message: string }
}

export interface SimPoolOptions {
  /**
   * Simulations run at once, each in its own worker thread. More than the
   * cores costs more than it gains: time-shared, the simulations evict each
   * other's data from the caches (the four overlays at 10^4 peers, four at
   * once on 2 cores: 14 min 34 s and 1,558 s of CPU, against 12 min 51 s and
   * 1,511 s two at once). @default os.availableParallelism()
   */
  jobs?: number
  /** Called with every worker's progress (several simulations may be running). */
  onProgress?: (index: number, progress: SimulationProgress) => void
  /** Called as each simulation starts, with its index in the list. */
  onStart?: (index: number, options: SimulationOptions) => void
  /** Called as each simulation ends, with its result or its error. */
  onEnd?: (index: number, outcome: SimulationResult | SimFailure) => void
  /**
   * The order in which the simulations start, longest first for the shortest
   * total time (the results keep the order of the list). @default the list's order
   */
  order?: readonly number[]
  /**
   * Plugin modules (core's `loadPlugins`: package names, paths from `from`)
   * each worker imports before its simulation, so an overlay they register
   * runs in a worker like the built-in ones. Without them such an overlay runs
   * in this thread (where its plugin was loaded), one simulation at a time.
   */
  plugins?: SimPlugins
}

let workerHeapsSet = false
/** Sets `--min-semi-space-size` once, before the first worker is made (see `SIM_SEMI_SPACE_MB`). */
function prepareWorkerHeaps(): void {
  if (workerHeapsSet) return
  workerHeapsSet = true
  setFlagsFromString(`--min-semi-space-size=${SIM_SEMI_SPACE_MB}`)
}

function runInWorker(
  options: SimulationOptions,
  plugins: SimPlugins | undefined,
  onProgress: (p: SimulationProgress) => void,
): Promise<SimulationResult> {
  prepareWorkerHeaps()
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./sim-worker.js', import.meta.url), {
      workerData: { options, ...(plugins ? { plugins } : {}) },
      resourceLimits: {
        maxYoungGenerationSizeMb: SIM_YOUNG_GENERATION_MB,
        maxOldGenerationSizeMb: SIM_OLD_GENERATION_MB,
      },
    })
    // The first answer is the outcome; it settles the promise once the worker is gone.
    let answer: { result: SimulationResult } | { error: Error } | undefined
    const end = (a: { result: SimulationResult } | { error: Error }) => {
      if (answer !== undefined) return
      answer = a
      // Whatever still runs in the worker after its result (before SimNetwork.dispose froze the peers,
      // every survivor of the kills redialed the dead: 4.4 s of CPU after a 2,000-peer flood's 29.8)
      // would share the cores with the next simulation. The worker exits by itself after posting; this
      // also ends one whose plugins keep its event loop busy. Its heap goes with it.
      void worker.terminate()
    }
    worker.on('message', (reply: WorkerReply) => {
      if (reply.kind === 'progress') onProgress(reply.progress)
      else if (reply.kind === 'result') end({ result: reply.result })
      else end({ error: Object.assign(new Error(reply.error.message), { name: reply.error.name }) })
    })
    worker.on('error', (error) => end({ error }))
    worker.on('exit', (code) => {
      if (answer === undefined)
        reject(new Error(`the simulation's worker exited with code ${code} before it answered`))
      else if ('result' in answer) resolve(answer.result)
      else reject(answer.error)
    })
  })
}

/**
 * Runs simulations in worker threads, `jobs` at a time: the overlays of a
 * comparison are independent runs, each deterministic on its own, so a
 * 2-core machine runs two of them in the time of one. Each worker has its
 * own heap and event loop (the virtual clock drains its own microtasks), and
 * a larger young generation than a thread gets by default. An overlay that
 * is not one of `OVERLAY_PACKAGES` (a third party's, registered in this
 * thread) runs in this thread instead, one such simulation at a time.
 * Resolves, in the order of `list`, to each simulation's result or its failure.
 */
export async function runSimulations(
  list: readonly SimulationOptions[],
  pool: SimPoolOptions = {},
): Promise<(SimulationResult | SimFailure)[]> {
  const jobs = pool.jobs ?? availableParallelism()
  if (!Number.isInteger(jobs) || jobs < 1)
    throw new InvalidOptionsError(`sim.jobs must be an integer >= 1 (got ${JSON.stringify(jobs)})`)
  const order = pool.order ?? list.map((_, i) => i)
  if (order.length !== list.length || new Set(order).size !== list.length || order.some((i) => !(i in list)))
    throw new InvalidOptionsError('sim.order must list each simulation once')
  const out: (SimulationResult | SimFailure)[] = new Array(list.length)
  const withPlugins = (pool.plugins?.list.length ?? 0) > 0
  // An overlay registered by the caller (not one of OVERLAY_PACKAGES, which a
  // worker imports itself) exists only in this thread: it runs here, one at a time.
  let here: Promise<unknown> = Promise.resolve()
  const inThisThread = (options: SimulationOptions, onProgress: (p: SimulationProgress) => void) => {
    const run = here.then(() => runSimulation(options, { onProgress }))
    here = run.catch(() => {}) // only the queue: the caller gets `run` itself, with its error
    return run
  }
  await eachAtMost(order, jobs, async (index) => {
    const options = list[index] as SimulationOptions
    pool.onStart?.(index, options)
    let outcome: SimulationResult | SimFailure
    try {
      const onProgress = (p: SimulationProgress) => pool.onProgress?.(index, p)
      outcome = await (options.overlay in OVERLAY_PACKAGES || withPlugins
        ? runInWorker(options, pool.plugins, onProgress)
        : inThisThread(options, onProgress))
    } catch (err) {
      const e = err as Error
      outcome = { options, error: { name: e.name, message: e.message } }
    }
    out[index] = outcome
    pool.onEnd?.(index, outcome)
  })
  return out
}

/** True for what `runSimulations` gives for a simulation that threw. */
export function isFailure(outcome: SimulationResult | SimFailure): outcome is SimFailure {
  return 'error' in outcome
}
