import { SeededRandom } from '@peerkit/core'
import test from 'ava'
import { Backoff } from '../src/index.js'

test('delays double up to the maximum, jittered within [d/2, d]', (t) => {
  const backoff = new Backoff(new SeededRandom(7), 100, 1000)
  const bounds = [100, 200, 400, 800, 1000, 1000]
  for (const d of bounds) {
    const delay = backoff.next()
    t.true(delay >= d / 2 && delay <= d, `${delay} in [${d / 2}, ${d}]`)
  }
  backoff.reset()
  const first = backoff.next()
  t.true(first >= 50 && first <= 100)
})

test('the same seed gives the same delays', (t) => {
  const a = new Backoff(new SeededRandom(42), 10, 10_000)
  const b = new Backoff(new SeededRandom(42), 10, 10_000)
  const da = Array.from({ length: 8 }, () => a.next())
  t.deepEqual(
    Array.from({ length: 8 }, () => b.next()),
    da,
  )
  t.true(new Set(da.map((d, i) => d / 2 ** i)).size > 1, 'jittered, not a fixed schedule')
})
