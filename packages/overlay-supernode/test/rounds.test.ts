import { TestClock } from '@peerkit/compliance'
import { sleep } from '@peerkit/core'
import test from 'ava'
import { Rounds } from '../src/rounds.js'

/** Rounds every 100 ms from 0, recording when each ran; `quiet` is what quietUntil answers. */
function rounds(quiet: () => number, work = 0) {
  const clock = new TestClock()
  const ran: number[] = []
  const errors: unknown[] = []
  const r = new Rounds(
    clock,
    100,
    async () => {
      ran.push(clock.now())
      if (work > 0) await sleep(clock, work)
    },
    quiet,
    (err) => errors.push(err),
  )
  return { clock, ran, errors, r }
}

test('with nothing quiet, a round every interval, as core every runs them', async (t) => {
  const { clock, ran, r } = rounds(() => 0)
  await clock.advance(550)
  t.deepEqual(ran, [100, 200, 300, 400, 500])
  r.stop()
  await clock.advance(500)
  t.is(ran.length, 5, 'none after stop')
  t.is(clock.pending, 0)
})

test('a round that takes time: the next one an interval after it ended', async (t) => {
  const { clock, ran } = rounds(() => 0, 30)
  await clock.advance(500)
  t.deepEqual(ran, [100, 230, 360, 490])
})

test('the rounds before the quiet time are not run; the first at or after it is, on the same grid', async (t) => {
  let quiet = 0
  const { clock, ran } = rounds(() => quiet)
  await clock.advance(100)
  t.deepEqual(ran, [100])
  quiet = 650 // rounds at 200 … 600 would do nothing
  await clock.advance(100) // the round at 200 runs (armed before), then learns the quiet time
  t.deepEqual(ran, [100, 200])
  await clock.advance(500)
  t.deepEqual(ran, [100, 200, 700], 'the first round on the grid at or after 650')
  quiet = 0
  await clock.advance(200)
  t.deepEqual(ran, [100, 200, 700, 800, 900])
})

test('wake(): the next round is the one every would have run next, not the one after the quiet time', async (t) => {
  let quiet = 10_000
  const { clock, ran, r } = rounds(() => quiet)
  await clock.advance(100)
  t.deepEqual(ran, [100])
  await clock.advance(250) // now 350: quiet, nothing runs
  t.deepEqual(ran, [100])
  quiet = 0
  r.wake()
  await clock.advance(50)
  t.deepEqual(ran, [100, 400], 'the round at 400, on the grid')
  await clock.advance(100)
  t.deepEqual(ran, [100, 400, 500])
  r.wake() // not quiet: the round at 600 is armed already, no second one
  await clock.advance(100)
  t.deepEqual(ran, [100, 400, 500, 600])
})

test('a round that fails is reported, and the rounds go on', async (t) => {
  const clock = new TestClock()
  const errors: unknown[] = []
  let n = 0
  const r = new Rounds(
    clock,
    100,
    async () => {
      n++
      if (n === 2) throw new Error('boom')
    },
    () => 0,
    (err) => errors.push(err),
  )
  await clock.advance(400)
  t.is(n, 4)
  t.is(errors.length, 1)
  t.is((errors[0] as Error).message, 'boom')
  r.stop()
})
