import test from 'ava'
import { every, RealClock, SeededRandom, shuffle, sleep, withTimeout } from '../src/index.js'
import { TestClock } from '../src/testing.js'

const clock = new TestClock()

test('withTimeout rejects with TimeoutError and runs onCancel', async (t) => {
  let cancelled = false
  const never = new Promise<void>(() => {})
  const timed = withTimeout(clock, never, 20, { onCancel: () => (cancelled = true) })
  await t.throwsAsync(clock.settle(timed, 100), { name: 'TimeoutError' })
  t.true(cancelled)
})

test('withTimeout passes a value through and an abort rejects with AbortError', async (t) => {
  t.is(await withTimeout(clock, Promise.resolve(3), 1000), 3)
  const ac = new AbortController()
  const p = withTimeout(clock, new Promise(() => {}), 10_000, { signal: ac.signal })
  ac.abort()
  await t.throwsAsync(p, { name: 'AbortError' })
})

test('sleep is cancelled by its signal', async (t) => {
  const ac = new AbortController()
  const p = sleep(clock, 10_000, ac.signal)
  ac.abort()
  await t.throwsAsync(p, { name: 'AbortError' })
})

test('the real clock reads Date.now() and its timers fire', async (t) => {
  const real = new RealClock()
  const before = Date.now()
  t.true(real.now() >= before)
  await new Promise<void>((resolve) => real.setTimeout(resolve, 1))
  const cleared = real.setTimeout(() => t.fail('a cleared timer fired'), 1)
  real.clearTimeout(cleared)
  await sleep(real, 5)
})

test('every repeats until stopped and survives a failing task', async (t) => {
  const virtual = new TestClock()
  let runs = 0
  const failures: unknown[] = []
  const task = every(
    virtual,
    5,
    async () => {
      runs++
      if (runs === 1) throw new Error('first run fails')
    },
    (err) => failures.push(err),
  )
  await virtual.advance(100)
  task.stop()
  t.is(runs, 20, 'every 5 ms for 100 ms, the failed first run included')
  t.deepEqual(
    failures.map((e) => (e as Error).message),
    ['first run fails'],
    'onError heard of the failure',
  )
  await virtual.advance(30)
  t.is(runs, 20, 'nothing runs after stop')
  t.is(virtual.pending, 0)
})

test('the same seed gives the same sequence; forks are independent', (t) => {
  const a = new SeededRandom(42)
  const b = new SeededRandom(42)
  const xs = Array.from({ length: 5 }, () => a.next())
  t.deepEqual(
    xs,
    Array.from({ length: 5 }, () => b.next()),
  )
  t.true(xs.every((x) => x >= 0 && x < 1))
  t.deepEqual(shuffle(new SeededRandom(7), [1, 2, 3, 4, 5]), shuffle(new SeededRandom(7), [1, 2, 3, 4, 5]))
  const ints = Array.from({ length: 200 }, () => a.int(10))
  t.true(ints.every((n) => Number.isInteger(n) && n >= 0 && n < 10))
  t.not(a.fork().next(), a.fork().next())
  t.is(new SeededRandom(1).bytes(7).length, 7)
})
