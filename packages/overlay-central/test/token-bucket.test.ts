import type { Clock } from '@peerkit/core'
import test from 'ava'
import { TokenBucket } from '../src/index.js'

/** A clock that moves only when told. */
function manualClock(): Clock & { advance(ms: number): void } {
  let now = 0
  return {
    now: () => now,
    setTimeout: () => undefined,
    clearTimeout: () => {},
    advance(ms: number) {
      now += ms
    },
  }
}

test('a burst is allowed, then the rate applies', (t) => {
  const clock = manualClock()
  const bucket = new TokenBucket(clock, 2, 3)
  t.true(bucket.take())
  t.true(bucket.take())
  t.true(bucket.take())
  t.false(bucket.take())
  clock.advance(499)
  t.false(bucket.take(), 'not yet a whole token at 2/s')
  clock.advance(1)
  t.true(bucket.take())
  t.false(bucket.take())
})

test('tokens never pile up beyond the burst', (t) => {
  const clock = manualClock()
  const bucket = new TokenBucket(clock, 10, 2)
  clock.advance(60_000)
  t.true(bucket.take())
  t.true(bucket.take())
  t.false(bucket.take())
})
