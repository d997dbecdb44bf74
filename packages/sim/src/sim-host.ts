/**
 * Entry point of the process in which `runSimulations` runs its simulations,
 * started with `SIM_V8_FLAGS`: each `HostRequest` starts a worker thread
 * (`sim-worker.js`) with the heap limits of a simulation, and every reply of
 * that worker goes back to the pool with the simulation's index. A worker
 * ends as soon as it has answered; one that ends before (it called
 * `process.exit`, ran out of memory) is answered for with an error.
 */
import { Worker } from 'node:worker_threads'
import {
  type HostReply,
  type HostRequest,
  SIM_OLD_GENERATION_MB,
  SIM_YOUNG_GENERATION_MB,
  type WorkerReply,
} from './sim-limits.js'

if (process.send === undefined)
  throw new Error('sim-host.js runs only as the child process of runSimulations (with an IPC channel)')
const send = (message: HostReply) => process.send?.(message)

function start({ index, data }: HostRequest): void {
  const worker = new Worker(new URL('./sim-worker.js', import.meta.url), {
    workerData: data,
    resourceLimits: {
      maxYoungGenerationSizeMb: SIM_YOUNG_GENERATION_MB,
      maxOldGenerationSizeMb: SIM_OLD_GENERATION_MB,
    },
  })
  let answered = false
  const answer = (reply: WorkerReply) => {
    if (answered) return
    if (reply.kind !== 'progress') {
      answered = true
      // Whatever still runs in the worker after its answer (a plugin's timer, the peers' reactions to
      // the teardown) would share the cores with the next simulation.
      void worker.terminate()
    }
    send({ index, reply })
  }
  worker.on('message', answer)
  worker.on('error', (e) => answer({ kind: 'error', error: { name: e.name, message: e.message } }))
  worker.on('exit', (code) =>
    answer({
      kind: 'error',
      error: {
        name: 'Error',
        message: `the simulation's worker exited with code ${code} before it answered`,
      },
    }),
  )
}

process.on('message', (request: HostRequest) => start(request))
// A pool that is gone takes its simulations with it.
process.once('disconnect', () => process.exit(1))
