import { every, sleep } from '@peerkit/core'
import { TestClock } from '@peerkit/core/testing'
import test from 'ava'
import { Heartbeat } from '../src/heartbeat.js'

/** Heartbeats every 100 ms from 0, each taking `work` ms, recording when each began. */
function beats(work = 0) {
  const clock = new TestClock()
  const ran: number[] = []
  const errors: unknown[] = []
  const h = new Heartbeat(
    clock,
    100,
    async () => {
      ran.push(clock.now())
      if (work > 0) await sleep(clock, work)
    },
    (err) => errors.push(err),
  )
  return { clock, ran, errors, h }
}

test('without heard(), a beat every interval after the last one ended, as core every runs a task', async (t) => {
  const { clock, ran, h } = beats(30)
  const clock2 = new TestClock()
  const ran2: number[] = []
  every(clock2, 100, async () => {
    ran2.push(clock2.now())
    await sleep(clock2, 30)
  })
  await clock.advance(600)
  await clock2.advance(600)
  t.deepEqual(ran, [100, 230, 360, 490])
  t.deepEqual(ran, ran2)
  h.stop()
  await clock.advance(500)
  t.is(ran.length, 4, 'none after stop')
  t.is(clock.pending, 0)
})

test('heard() moves the next beat to a whole interval after it; a silent directory is asked within the interval', async (t) => {
  const { clock, ran, h } = beats()
  await clock.advance(150)
  t.deepEqual(ran, [100])
  h.heard() // at 150: the beat due at 200 moves to 250
  await clock.advance(100)
  t.deepEqual(ran, [100, 250])
  // Heard every 50 ms from 300 to 500: no beat is needed.
  for (let i = 0; i < 5; i++) {
    await clock.advance(50)
    h.heard()
  }
  t.deepEqual(ran, [100, 250], 'no beat while the directory is heard from within the interval')
  // Silent from 500 on: asked at 600, then every interval.
  await clock.advance(300)
  t.deepEqual(ran, [100, 250, 600, 700, 800])
})

test('a beat that fails is reported and the beats go on', async (t) => {
  const clock = new TestClock()
  const errors: unknown[] = []
  let n = 0
  const h = new Heartbeat(
    clock,
    100,
    async () => {
      n++
      throw new Error('unanswered')
    },
    (err) => errors.push(err),
  )
  await clock.advance(350)
  t.is(n, 3)
  t.is(errors.length, 3)
  h.stop()
})

test('stop() during a beat: no beat after it', async (t) => {
  const { clock, ran, h } = beats(50)
  await clock.advance(120) // the first beat runs until 150
  h.stop()
  await clock.advance(1000)
  t.deepEqual(ran, [100])
  t.is(clock.pending, 0)
})
