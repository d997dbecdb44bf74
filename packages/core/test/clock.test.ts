import test from 'ava'
import { every, RealClock, SeededRandom, shuffle, sleep, withTimeout } from '../src/index.js'

const clock = new RealClock()

test('withTimeout rejects with TimeoutError and runs onCancel', async (t) => {
  let cancelled = false
  const never = new Promise<void>(() => {})
  await t.throwsAsync(withTimeout(clock, never, 20, { onCancel: () => (cancelled = true) }), {
    name: 'TimeoutError',
  })
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

test('every repeats until stopped and survives a failing task', async (t) => {
  let runs = 0
  const task = every(clock, 5, () => {
    runs++
    if (runs === 1) throw new Error('first run fails')
  })
  await sleep(clock, 100)
  task.stop()
  const seen = runs
  t.true(seen >= 3)
  await sleep(clock, 30)
  t.is(runs, seen)
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
