import { fileURLToPath } from 'node:url'
import { overlays } from '@peerkit/core'
import test from 'ava'
import {
  isFailure,
  loadOverlay,
  runSimulation,
  runSimulations,
  SIM_SEMI_SPACE_MB,
  SIM_V8_FLAGS,
  SIM_YOUNG_GENERATION_MB,
  type SimulationResult,
} from '../src/index.js'

/** What the same seed must reproduce: everything but the real time and memory. */
function outcome(r: SimulationResult) {
  const { cost: _cost, ...rest } = r
  return rest
}

test('runSimulations runs each simulation in a worker thread of its own with the same result as in-process, in the order of the list', async (t) => {
  const list = [
    { overlay: 'flooding', nodes: 24, queries: 6, seed: 3 },
    { overlay: 'central', nodes: 16, queries: 4, seed: 3 },
    { overlay: 'chord', nodes: 16, queries: 4, seed: 3 },
  ]
  const started: number[] = []
  const progressed = new Set<number>()
  const out = await runSimulations(list, {
    jobs: 2,
    order: [2, 0, 1],
    onStart: (i) => started.push(i),
    onProgress: (i) => progressed.add(i),
  })
  t.deepEqual(started, [2, 0, 1], 'started in the given order')
  t.deepEqual([...progressed].sort(), [0, 1, 2], 'every worker reported progress')
  t.deepEqual(
    out.map((r) => (isFailure(r) ? 'failed' : r.overlay)),
    ['flooding', 'central', 'chord'],
  )
  const inProcess = await runSimulation(list[0] as (typeof list)[number])
  t.deepEqual(outcome(out[0] as SimulationResult), outcome(inProcess))
})

test('runSimulations reports a failing simulation by name and still runs the others', async (t) => {
  const out = await runSimulations(
    [
      { overlay: 'chord', nodes: 4, queries: 1, overlayOptions: { successors: 0 } },
      { overlay: 'central', nodes: 4, queries: 1 },
    ],
    { jobs: 1 },
  )
  const [bad, good] = out
  t.true(bad !== undefined && isFailure(bad))
  if (bad && isFailure(bad)) {
    t.is(bad.error.name, 'InvalidOptionsError')
    t.regex(bad.error.message, /chord\.successors/)
  }
  t.true(good !== undefined && !isFailure(good) && good.queries.issued === 1)
  await t.throwsAsync(runSimulations([], { jobs: 0 }), { name: 'InvalidOptionsError', message: /sim\.jobs/ })
})

test('an overlay registered in this thread only (a third party) runs here, not in a process of its own', async (t) => {
  await loadOverlay('flooding')
  const name = 'pool-test-flooding'
  if (!overlays.has(name)) overlays.register(name, overlays.get('flooding'))
  const out = await runSimulations(
    [
      { overlay: name, nodes: 12, queries: 3, seed: 5 },
      { overlay: 'central', nodes: 8, queries: 2, seed: 5 },
    ],
    { jobs: 2 },
  )
  t.deepEqual(
    out.map((r) => (isFailure(r) ? r.error.message : r.overlay)),
    [name, 'central'],
  )
})

test('plugins are loaded in the workers: an overlay only a plugin registers runs in a worker like the built-in ones', async (t) => {
  const from = fileURLToPath(new URL('../../test/fixtures/', import.meta.url))
  t.false(overlays.has('pool-plugin-flooding'), 'this thread never loaded the plugin')
  const out = await runSimulations(
    [
      { overlay: 'pool-plugin-flooding', nodes: 12, queries: 3, seed: 5 },
      { overlay: 'pool-plugin-flooding', nodes: 12, queries: 3, seed: 6 },
    ],
    { jobs: 2, plugins: { list: ['./pool-plugin.mjs'], from } },
  )
  for (const r of out) {
    if (isFailure(r)) return t.fail(r.error.message)
    t.is(r.overlay, 'pool-plugin-flooding')
    t.is(r.queries.issued, 3)
    t.is(r.network.joinFailures, 0)
  }
  t.false(overlays.has('pool-plugin-flooding'), 'and still has not: both ran in workers of another process')
  const [broken] = await runSimulations([{ overlay: 'pool-plugin-flooding', nodes: 4, queries: 1 }], {
    plugins: { list: ['./broken-plugin.mjs'], from, field: '--plugin' },
  })
  t.true(broken !== undefined && isFailure(broken))
  if (broken && isFailure(broken)) {
    t.is(broken.error.name, 'InvalidOptionsError')
    t.regex(
      broken.error.message,
      /--plugin\[0\]: plugin '\.\/broken-plugin\.mjs' failed to load.*broken on purpose/,
    )
  }
})

/** True while a process with this id exists. */
function exists(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false
    throw err
  }
}

test("the simulations' process is gone once the pool has every answer, even when their event loops would go on (the teardown's aftermath)", async (t) => {
  const from = fileURLToPath(new URL('../../test/fixtures/', import.meta.url))
  const list = [
    { overlay: 'pool-lingering-flooding', nodes: 8, queries: 2, seed: 5 },
    { overlay: 'pool-lingering-flooding', nodes: 8, queries: 2, seed: 6 },
  ]
  const ended: number[] = []
  const pids = new Map<number, number>()
  const threads = new Map<number, number>()
  const out = await runSimulations(list, {
    jobs: 1,
    plugins: { list: ['./lingering-plugin.mjs'], from },
    onProgress: (i, p) => {
      if (p.overlay === 'pid') pids.set(i, p.done)
      if (p.overlay === 'thread') threads.set(i, p.done)
    },
    onEnd: (i) => ended.push(i),
  })
  t.deepEqual(ended, [0, 1])
  for (const r of out) {
    if (isFailure(r)) return t.fail(r.error.message)
    t.is(r.queries.issued, 2)
  }
  t.is(threads.size, 2, 'each simulation ran in a worker thread of its own')
  t.not(threads.get(0), threads.get(1))
  t.is(pids.size, 2)
  t.is(pids.get(0), pids.get(1), 'both in one process')
  t.not(pids.get(0), process.pid, 'not this one')
  // A process whose timers never stop would still be there (and keep its memory).
  const pid = pids.get(0) as number
  t.false(exists(pid), `process ${pid} has exited`)
})

test('a simulation whose worker ends before it answers is reported as failed, and the others still run', async (t) => {
  const from = fileURLToPath(new URL('../../test/fixtures/', import.meta.url))
  const out = await runSimulations(
    [
      { overlay: 'central', nodes: 4, queries: 1 },
      { overlay: 'central', nodes: 4, queries: 1 },
    ],
    { jobs: 2, plugins: { list: ['./exiting-plugin.mjs'], from } },
  )
  for (const r of out) {
    t.true(isFailure(r))
    if (isFailure(r))
      t.regex(r.error.message, /the simulation's worker exited with code 7 before it answered/)
  }
  const [good] = await runSimulations([{ overlay: 'central', nodes: 4, queries: 1 }], { jobs: 1 })
  t.true(good !== undefined && !isFailure(good) && good.queries.issued === 1)
})

test("when the simulations' process dies, the simulations it ran fail and the next ones run in a new process", async (t) => {
  const from = fileURLToPath(new URL('../../test/fixtures/', import.meta.url))
  const out = await runSimulations(
    [
      { overlay: 'pool-killing-flooding', nodes: 12, queries: 3, seed: 13 },
      { overlay: 'pool-killing-flooding', nodes: 12, queries: 3, seed: 5 },
      { overlay: 'pool-killing-flooding', nodes: 12, queries: 3, seed: 13 },
      { overlay: 'pool-killing-flooding', nodes: 12, queries: 3, seed: 6 },
    ],
    { jobs: 1, plugins: { list: ['./killing-plugin.mjs'], from } },
  )
  t.deepEqual(
    out.map((r) => (isFailure(r) ? r.error.message : r.queries.issued)),
    [
      "the simulations' process exited with SIGKILL before the simulation answered",
      3,
      "the simulations' process exited with SIGKILL before the simulation answered",
      3,
    ],
  )
})

test("the simulations' process runs with SIM_V8_FLAGS: a worker's young generation starts at its full size, not at V8's 1 or 2 MB", async (t) => {
  t.is(SIM_SEMI_SPACE_MB * 3, SIM_YOUNG_GENERATION_MB)
  const from = fileURLToPath(new URL('../../test/fixtures/', import.meta.url))
  const sizes: number[] = []
  const flags: string[] = []
  const [r] = await runSimulations([{ overlay: 'central', nodes: 4, queries: 1 }], {
    plugins: { list: ['./heap-plugin.mjs'], from },
    onProgress: (_, p) => {
      if (p.overlay === 'new_space') sizes.push(p.done)
      if (p.overlay === 'execArgv') flags.push(p.phase)
    },
  })
  t.true(r !== undefined && !isFailure(r))
  t.deepEqual(sizes, [SIM_SEMI_SPACE_MB])
  t.deepEqual(flags, [SIM_V8_FLAGS.join(' ')])
  t.true(SIM_V8_FLAGS.includes('--single-threaded-gc'))
})
