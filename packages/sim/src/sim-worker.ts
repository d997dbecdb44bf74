import 'reflect-metadata'
/**
 * Entry point of the child process that runs one simulation for
 * `runSimulations`: its first message holds the `SimWorkerData`; the process
 * sends progress (at most every PROGRESS_EVERY_MS of real time, and at each
 * change of phase), then either the result or the error, and exits.
 */
import { loadPlugins } from '@peerkit/core'
import type { SimWorkerData, WorkerReply } from './sim-pool.js'
import { runSimulation, type SimulationProgress } from './simulation.js'

const PROGRESS_EVERY_MS = 100

if (process.send === undefined)
  throw new Error('sim-worker.js runs only as a child process of runSimulations (with an IPC channel)')
const post = (reply: WorkerReply, then?: () => void) => process.send?.(reply, undefined, {}, then)

let lastPhase = ''
let lastAt = 0
const onProgress = (progress: SimulationProgress) => {
  const now = performance.now()
  if (progress.phase === lastPhase && now - lastAt < PROGRESS_EVERY_MS && progress.done < progress.total)
    return
  lastPhase = progress.phase
  lastAt = now
  post({ kind: 'progress', progress })
}

async function run({ options, plugins }: SimWorkerData): Promise<WorkerReply> {
  try {
    if (plugins)
      await loadPlugins(plugins.list, {
        ...(plugins.from === undefined ? {} : { from: plugins.from }),
        field: plugins.field ?? 'sim.plugins',
      })
    return { kind: 'result', result: await runSimulation(options, { onProgress }) }
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err))
    return { kind: 'error', error: { name: e.name, message: e.message } }
  }
}

// A pool that is gone (its process ended or was killed) takes its simulations with it.
process.once('disconnect', () => process.exit(1))
process.once('message', (data: SimWorkerData) => {
  void run(data).then((reply) =>
    // Anything still running here after the teardown (a plugin's timer, a promise chain of a peer)
    // would only burn the core the pool's next simulation runs on: the process ends once the answer
    // is sent (the pool also ends it as the answer arrives).
    post(reply, () => process.exit(0)),
  )
})
