import { TestClock } from '@peerkit/compliance'
import { SeededRandom } from '@peerkit/core'
import test from 'ava'
import { QueryIdCache, SeenCache } from '../src/index.js'

const idOf = (random: SeededRandom) => Buffer.from(random.bytes(16)).toString('hex')

test('holds the same entries as SeenCache through adds, sets, gets, expiry and eviction (random operations)', async (t) => {
  for (const [maxSize, maxAge] of [
    [1, 1000],
    [3, 50],
    [16, 400],
    [100, 10_000],
  ] as const) {
    const random = new SeededRandom(maxSize)
    const clock = new TestClock()
    const ids = new QueryIdCache<number | null>(clock, maxSize, maxAge)
    const ref = new SeenCache<string, number | null>(clock, maxSize, maxAge)
    // Ids that share their first 32 bits (the table's hash) with others collide on purpose.
    const pool = Array.from({ length: maxSize * 3 + 4 }, (_, i) =>
      i % 4 === 0 ? `0000abcd${idOf(random).slice(8)}` : idOf(random),
    )
    for (let step = 0; step < 4000; step++) {
      const id = pool[random.int(pool.length)] as string
      const roll = random.next()
      if (roll < 0.45) t.is(ids.add(id, step), ref.add(id, step), `add at step ${step}`)
      else if (roll < 0.6) {
        const value = random.next() < 0.2 ? null : step
        ids.set(id, value)
        ref.set(id, value)
      } else if (roll < 0.85) t.is(ids.get(id), ref.get(id), `get at step ${step}`)
      else if (roll < 0.998) await clock.advance(random.int(Math.ceil(maxAge / 3)))
      else {
        ids.clear()
        ref.clear()
      }
      t.is(ids.size, ref.size, `size at step ${step}`)
    }
    for (const id of pool) t.is(ids.has(id), ref.has(id))
  }
})

test('its ring holds at most twice the power of two at or above maxSize, however many ids pass', (t) => {
  const random = new SeededRandom(1)
  const clock = new TestClock()
  const ids = new QueryIdCache<null>(clock, 100, 60_000)
  t.is(ids.capacity, 0, 'nothing is allocated before the first id')
  for (let i = 0; i < 20_000; i++) {
    ids.add(idOf(random), null)
    // Entries leaving out of order (a refreshed id) leave gaps in the ring: compacted, not grown.
    if (i % 3 === 0) ids.set(idOf(random), null)
  }
  t.is(ids.size, 100)
  t.true(ids.capacity <= 256, `capacity ${ids.capacity}`)
})

test('attack: ids chosen to share their first 32 bits, or all but one word, do not make one probe run', (t) => {
  const random = new SeededRandom(7)
  for (const shape of [
    (i: number) => `0000abcd${i.toString(16).padStart(24, '0')}`,
    (i: number) => `${'0'.repeat(24)}${i.toString(16).padStart(8, '0')}`,
  ]) {
    const ids = new QueryIdCache<null>(new TestClock(), 2048, 60_000)
    for (let i = 0; i < 2048; i++) t.true(ids.add(shape(i), null))
    // 2,048 of 4,096 slots in a table of 8,192 places: random homes give runs of a few places (a run of
    // 2,048 when the home was the first word, and every look-up of such an id walked most of it).
    t.true(ids.longestProbe <= 64, `longest probe run ${ids.longestProbe}`)
    for (let i = 0; i < 2048; i++) t.true(ids.has(shape(i)))
    t.false(ids.has(idOf(random)))
  }
})

test('an id that is not 32 lowercase hex digits is refused with a ProtocolError', (t) => {
  const ids = new QueryIdCache<null>(new TestClock(), 10, 1000)
  // \u0130 and \u0161 end in the bytes of '0' and 'a': a digit is read from the whole UTF-16 unit.
  for (const bad of [
    '',
    'abc',
    'A'.repeat(32),
    `${'0'.repeat(31)}g`,
    '0'.repeat(33),
    `${'0'.repeat(31)}\u0130`,
    `\u0161${'0'.repeat(31)}`,
    `${'0'.repeat(16)}-${'0'.repeat(15)}`,
  ])
    t.throws(() => ids.add(bad, null), { name: 'ProtocolError' }, bad)
  t.true(ids.add('0'.repeat(32), null))
  t.false(ids.add('0'.repeat(32), null))
})
