import test from 'ava'
import { TokenBucket } from '../src/index.js'

test('allows a burst, then refuses until tokens refill at the rate', (t) => {
  const b = new TokenBucket(10, 5, 0)
  for (let i = 0; i < 5; i++) t.true(b.take(0))
  t.false(b.take(0))
  t.false(b.take(50))
  t.true(b.take(100), '10/s refills one token per 100 ms')
  t.false(b.take(100))
})

test('never holds more than the burst', (t) => {
  const b = new TokenBucket(10, 3, 0)
  t.is(b.available(60_000), 3)
  let taken = 0
  while (b.take(60_000)) taken++
  t.is(taken, 3)
})

test('counts refusals until the bucket is full again', (t) => {
  const b = new TokenBucket(10, 2, 0)
  b.take(0)
  b.take(0)
  b.take(0)
  b.take(0)
  t.is(b.refusedSinceFull, 2)
  // A sender at twice the rate never lets the bucket fill: refusals keep adding up.
  for (let ms = 50; ms <= 1000; ms += 50) b.take(ms)
  t.true(b.refusedSinceFull >= 10)
  // A pause long enough to refill the burst forgives.
  t.is(b.available(2000), 2)
  t.is(b.refusedSinceFull, 0)
})

test('a clock that goes backwards takes nothing extra', (t) => {
  const b = new TokenBucket(1, 1, 1000)
  t.true(b.take(1000))
  t.false(b.take(0))
  t.false(b.take(1500))
  t.true(b.take(2000))
})
