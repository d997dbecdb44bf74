import { fork } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { InvalidOptionsError } from '@peerkit/core'
import { eachAtMost } from './each-at-most.js'
import type { SimulationOptions } from './options.js'
import { OVERLAY_PACKAGES } from './sim-network.js'
import { runSimulation, type SimulationProgress, type SimulationResult } from './simulation.js'

/** Plugin modules a simulation's process imports before its simulation (see `SimPoolOptions.plugins`). */
export interface SimPlugins {
  /** Package names or paths, as `loadPlugins` takes them. */
  list: readonly string[]
  /** Folder that relative paths and package names are resolved from. @default process.cwd() */
  from?: string
  /** How the list is named in errors. @default 'sim.plugins' */
  field?: string
}

/** What `runSimulations` hands a simulation's process (its first message). */
export interface SimWorkerData {
  options: SimulationOptions
  plugins?: SimPlugins
}

/** What a simulation's process sends its pool. */
export type WorkerReply =
  | { kind: 'progress'; progress: SimulationProgress }
  | { kind: 'result'; result: SimulationResult }
  | { kind: 'error'; error: SimFailure['error'] }

/**
 * Young generation of each simulation's process, in MB (V8 makes it of three
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
 * maximum and collected twice as often.
 */
export const SIM_SEMI_SPACE_MB = SIM_YOUNG_GENERATION_MB / 3
/** Old generation of each simulation's process, in MB: a 10,000-peer run keeps a few GB, above V8's default limit. */
export const SIM_OLD_GENERATION_MB = 12_288
/**
 * The V8 flags each simulation's process runs with: the heap above, and the
 * collector on the simulation's own thread only (`--single-threaded-gc`).
 * With V8's helper threads, the collector of one simulation ran on the core
 * the other simulation was using: at 10^4 peers × 10^4 queries, two at once
 * on 2 cores, the four overlays took 1,511 s of CPU and 12 min 51 s in worker
 * threads of one process, and 1,251 s and 11 min 26 s with the collector on
 * one thread (flooding 698 → 511 s, chord 479 → 449 s), with the same
 * figures. Alone, the flag is within a few per cent either way (chord at
 * 2,000 peers −4.5 %, flooding at 10^4 +1.8 %). It is a process-wide flag
 * that V8 cannot change once a heap exists, hence a process per simulation.
 */
export const SIM_V8_FLAGS: readonly string[] = Object.freeze([
  '--single-threaded-gc',
  `--min-semi-space-size=${SIM_SEMI_SPACE_MB}`,
  `--max-semi-space-size=${SIM_SEMI_SPACE_MB}`,
  `--max-old-space-size=${SIM_OLD_GENERATION_MB}`,
])

/** A simulation that threw: its overlay's name and nodes, and the error. */
export interface SimFailure {
  options: SimulationOptions
  error: { name: string; message: string }
}

export interface SimPoolOptions {
  /**
   * Simulations run at once, each in its own process. More than the
   * cores costs more than it gains: time-shared, the simulations evict each
   * other's data from the caches (the four overlays at 10^4 peers, four at
   * once on 2 cores: 14 min 34 s and 1,558 s of CPU, against 12 min 51 s and
   * 1,511 s two at once, both in worker threads). @default os.availableParallelism()
   */
  jobs?: number
  /** Called with every simulation's progress (several may be running). */
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
   * each simulation's process imports before its simulation, so an overlay
   * they register runs in its own process like the built-in ones. Without them such an overlay runs
   * in this thread (where its plugin was loaded), one simulation at a time.
   */
  plugins?: SimPlugins
}

function runInProcess(
  options: SimulationOptions,
  plugins: SimPlugins | undefined,
  onProgress: (p: SimulationProgress) => void,
): Promise<SimulationResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL('./sim-worker.js', import.meta.url)), [], {
      execArgv: [...SIM_V8_FLAGS],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    // The first answer is the outcome; it settles the promise once the process is gone.
    let answer: { result: SimulationResult } | { error: Error } | undefined
    const end = (a: { result: SimulationResult } | { error: Error }) => {
      if (answer !== undefined) return
      answer = a
      // Whatever still runs in the process after its result (before SimNetwork.dispose froze the peers,
      // every survivor of the kills redialed the dead: 4.4 s of CPU after a 2,000-peer flood's 29.8)
      // would share the cores with the next simulation. The process exits by itself after sending;
      // this also ends one whose plugins keep its event loop busy. Its memory goes with it.
      child.kill('SIGKILL')
    }
    child.on('message', (reply: WorkerReply) => {
      if (reply.kind === 'progress') onProgress(reply.progress)
      else if (reply.kind === 'result') end({ result: reply.result })
      else end({ error: Object.assign(new Error(reply.error.message), { name: reply.error.name }) })
    })
    child.on('error', (error) => end({ error }))
    child.on('exit', (code, signal) => {
      if (answer === undefined)
        reject(
          new Error(
            `the simulation's process exited with ${signal === null ? `code ${code}` : signal} before it answered`,
          ),
        )
      else if ('result' in answer) resolve(answer.result)
      else reject(answer.error)
    })
    const data: SimWorkerData = { options, ...(plugins ? { plugins } : {}) }
    child.send(data)
  })
}

/**
 * Runs simulations in child processes, `jobs` at a time: the overlays of a
 * comparison are independent runs, each deterministic on its own, so a
 * 2-core machine runs two of them in the time of one. Each process has its
 * own heap and event loop (the virtual clock drains its own microtasks), a
 * larger young generation than V8's default, and its collector on its own
 * thread (`SIM_V8_FLAGS`). An overlay that is not one of `OVERLAY_PACKAGES`
 * (a third party's, registered in this thread) runs in this thread instead,
 * one such simulation at a time, unless `plugins` names the modules that
 * register it.
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
  // process imports itself) exists only in this thread: it runs here, one at a time.
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
        ? runInProcess(options, pool.plugins, onProgress)
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
