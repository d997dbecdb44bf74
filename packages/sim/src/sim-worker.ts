import 'reflect-metadata'
/**
 * Entry point of the worker thread that runs one simulation for
 * `runSimulations`, in its pool's process (`sim-host.js`): `workerData` holds
 * the `SimWorkerData`; the worker posts progress (at most every
 * PROGRESS_EVERY_MS of real time, and at each change of phase), then either
 * the result or the error, and ends.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { loadPlugins } from '@peerkit/core'
import type { SimWorkerData, WorkerReply } from './sim-limits.js'
import { runSimulation, type SimulationProgress } from './simulation.js'

const PROGRESS_EVERY_MS = 100

const port = parentPort
if (port === null) throw new Error('sim-worker.js runs only as a worker thread of the simulations process')
const post = (reply: WorkerReply) => port.postMessage(reply)

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

const { options, plugins } = workerData as SimWorkerData
try {
  if (plugins)
    await loadPlugins(plugins.list, {
      ...(plugins.from === undefined ? {} : { from: plugins.from }),
      field: plugins.field ?? 'sim.plugins',
    })
  post({ kind: 'result', result: await runSimulation(options, { onProgress }) })
} catch (err) {
  const e = err instanceof Error ? err : new Error(String(err))
  post({ kind: 'error', error: { name: e.name, message: e.message } })
}
// The answer is posted (a message posted before the exit is delivered). Anything still running here
// after the teardown (a plugin's timer, a promise chain of a peer) would only burn the core the
// pool's next simulation runs on: the thread ends here (its pool also ends it as the answer arrives),
// and its heap with it.
process.exit(0)
