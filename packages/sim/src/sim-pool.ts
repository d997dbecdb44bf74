import { type ChildProcess, fork } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { InvalidOptionsError } from '@peerkit/core'
import { eachAtMost } from './each-at-most.js'
import type { SimulationOptions } from './options.js'
import {
  type HostReply,
  type HostRequest,
  SIM_V8_FLAGS,
  type SimFailure,
  type SimPlugins,
  type SimWorkerData,
} from './sim-limits.js'
import { isBuiltInOverlay } from './sim-network.js'
import { runSimulation, type SimulationProgress, type SimulationResult } from './simulation.js'

export interface SimPoolOptions {
  /**
   * Simulations run at once, each in its own worker thread. More than the
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
   * each simulation's worker imports before its simulation, so an overlay
   * they register runs in a worker like the built-in ones. Without them such an overlay runs
   * in this thread (where its plugin was loaded), one simulation at a time.
   */
  plugins?: SimPlugins
}

/**
 * The process the simulations of one `runSimulations` call run in, as worker
 * threads (`sim-host.js`), started at its first simulation with `SIM_V8_FLAGS`
 * and ended with the call. A process that ends fails the simulations it was
 * running; the next simulation starts another.
 */
class SimHost {
  private child: ChildProcess | undefined
  private readonly running = new Map<
    number,
    {
      resolve: (r: SimulationResult) => void
      reject: (e: Error) => void
      onProgress: (p: SimulationProgress) => void
    }
  >()

  run(
    index: number,
    data: SimWorkerData,
    onProgress: (p: SimulationProgress) => void,
  ): Promise<SimulationResult> {
    const child = this.child ?? this.start()
    return new Promise((resolve, reject) => {
      this.running.set(index, { resolve, reject, onProgress })
      const request: HostRequest = { index, data }
      child.send(request)
    })
  }

  private start(): ChildProcess {
    const child = fork(fileURLToPath(new URL('./sim-host.js', import.meta.url)), [], {
      execArgv: [...SIM_V8_FLAGS],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    this.child = child
    child.on('message', ({ index, reply }: HostReply) => {
      const run = this.running.get(index)
      if (run === undefined) return
      if (reply.kind === 'progress') return run.onProgress(reply.progress)
      this.running.delete(index)
      if (reply.kind === 'result') run.resolve(reply.result)
      else run.reject(Object.assign(new Error(reply.error.message), { name: reply.error.name }))
    })
    const gone = (why: string) => {
      if (this.child === child) this.child = undefined
      for (const run of this.running.values())
        run.reject(new Error(`the simulations' process ${why} before the simulation answered`))
      this.running.clear()
    }
    child.on('error', (e) => gone(`failed (${e.message})`))
    child.on('exit', (code, signal) => gone(`exited with ${signal === null ? `code ${code}` : signal}`))
    return child
  }

  /** Ends the process (its workers with it) and resolves once it is gone. */
  async close(): Promise<void> {
    const child = this.child
    if (child === undefined) return
    this.child = undefined
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill('SIGKILL')
    await exited
  }
}

/**
 * Runs simulations in worker threads of a child process, `jobs` at a time:
 * the overlays of a comparison are independent runs, each deterministic on
 * its own, so a 2-core machine runs two of them in the time of one. Each
 * worker has its own heap and event loop (the virtual clock drains its own
 * microtasks) with a larger young generation than V8's default; the process
 * runs with `SIM_V8_FLAGS`, each simulation's collector on its own thread.
 * An overlay that is not one of `OVERLAY_PACKAGES` (a third party's,
 * registered in this thread) runs in this thread instead, one such
 * simulation at a time, unless `plugins` names the modules that register it.
 * Resolves, in the order of `list`, to each simulation's result or its
 * failure, once the process is gone.
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
  const host = new SimHost()
  try {
    await eachAtMost(order, jobs, async (index) => {
      const options = list[index] as SimulationOptions
      pool.onStart?.(index, options)
      let outcome: SimulationResult | SimFailure
      try {
        const onProgress = (p: SimulationProgress) => pool.onProgress?.(index, p)
        outcome = await (isBuiltInOverlay(options.overlay) || withPlugins
          ? host.run(index, { options, ...(pool.plugins ? { plugins: pool.plugins } : {}) }, onProgress)
          : inThisThread(options, onProgress))
      } catch (err) {
        const e = err as Error
        outcome = { options, error: { name: e.name, message: e.message } }
      }
      out[index] = outcome
      pool.onEnd?.(index, outcome)
    })
  } finally {
    await host.close()
  }
  return out
}

/** True for what `runSimulations` gives for a simulation that threw. */
export function isFailure(outcome: SimulationResult | SimFailure): outcome is SimFailure {
  return 'error' in outcome
}
