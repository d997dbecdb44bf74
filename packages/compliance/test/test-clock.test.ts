import { sleep, withTimeout } from '@peerkit/core'
import test from 'ava'
import { TestClock } from '../src/index.js'

test('timers fire in time order, ties in the order they were set, only when the clock is driven', async (t) => {
  const clock = new TestClock()
  const fired: string[] = []
  clock.setTimeout(() => fired.push('b@20'), 20)
  clock.setTimeout(() => fired.push('a@10'), 10)
  clock.setTimeout(() => fired.push('c@20'), 20)
  const cleared = clock.setTimeout(() => fired.push('never'), 15)
  clock.clearTimeout(cleared)
  t.deepEqual(fired, [])
  await clock.advance(19)
  t.deepEqual(fired, ['a@10'])
  t.is(clock.now(), 19)
  await clock.advance(1)
  t.deepEqual(fired, ['a@10', 'b@20', 'c@20'])
  t.is(clock.pending, 0)
})

test('a chain of promises and timers runs to the end at each instant: an hour of sleeps costs nothing', async (t) => {
  const clock = new TestClock(1000)
  let rounds = 0
  const loop = (async () => {
    for (let i = 0; i < 3600; i++) {
      await sleep(clock, 1000)
      rounds++
    }
    return clock.now()
  })()
  t.is(await clock.settle(loop, 3_600_000), 1000 + 3_600_000)
  t.is(rounds, 3600)
})

test('until returns the virtual time a condition took, and throws naming it when it never holds', async (t) => {
  const clock = new TestClock()
  let ready = false
  clock.setTimeout(() => {
    ready = true
  }, 250)
  t.is(await clock.until(() => ready, 1000), 250)
  await t.throwsAsync(
    clock.until(() => false, 500, 'the ring to converge'),
    {
      message: 'the ring to converge did not hold within 500 virtual ms',
    },
  )
  t.is(clock.now(), 750)
})

test('settle gives a timeout on the virtual clock as the rejection it is', async (t) => {
  const clock = new TestClock()
  const never = new Promise<void>(() => {})
  await t.throwsAsync(clock.settle(withTimeout(clock, never, 5000), 10_000), { name: 'TimeoutError' })
  t.is(clock.now(), 5000)
  await t.throwsAsync(clock.settle(never, 100), { message: /still pending after 100 virtual ms/ })
})

test('fractional, negative and non-finite delays never fire early or in the past', async (t) => {
  const clock = new TestClock()
  const at: number[] = []
  clock.setTimeout(() => at.push(clock.now()), 0.2)
  clock.setTimeout(() => at.push(clock.now()), -5)
  clock.setTimeout(() => at.push(clock.now()), Number.NaN)
  await clock.advance(10)
  t.deepEqual(at.sort(), [0, 0, 1])
})
