import { TestClock } from '@peerkit/compliance'
import test from 'ava'
import { SeenCache } from '../src/index.js'

test('add() is true once per key, then false (a duplicate)', (t) => {
  const seen = new SeenCache<string, number>(new TestClock(), 10, 1000)
  t.true(seen.add('q1', 1))
  t.false(seen.add('q1', 2))
  t.is(seen.get('q1'), 1)
  t.true(seen.has('q1'))
  t.false(seen.has('q2'))
})

test('holds at most maxSize entries, forgetting the oldest first', (t) => {
  const seen = new SeenCache<number, number>(new TestClock(), 3, 1000)
  for (let i = 0; i < 10; i++) seen.add(i, i)
  t.is(seen.size, 3)
  t.deepEqual(
    [7, 8, 9].map((i) => seen.has(i)),
    [true, true, true],
  )
  t.false(seen.has(6))
})

test('forgets entries after maxAge on its clock, without timers', async (t) => {
  const clock = new TestClock()
  const seen = new SeenCache<string, string>(clock, 100, 1000)
  seen.add('old', 'a')
  await clock.advance(600)
  seen.add('young', 'b')
  t.is(clock.pending, 0)
  await clock.advance(500)
  t.is(seen.get('old'), undefined)
  t.is(seen.get('young'), 'b')
  t.true(seen.add('old', 'again'))
  await clock.advance(1000)
  seen.add('new', 'c')
  t.is(seen.size, 1, 'expired entries are pruned on insert')
})

test('set() refreshes an entry, making it the youngest', async (t) => {
  const clock = new TestClock()
  const seen = new SeenCache<string, number>(clock, 2, 1000)
  seen.set('a', 1)
  seen.set('b', 2)
  seen.set('a', 3)
  seen.set('c', 4)
  t.false(seen.has('b'))
  t.is(seen.get('a'), 3)
  t.true(seen.delete('a'))
  seen.clear()
  t.is(seen.size, 0)
})

test('set skips its pruning scan only when nothing could be pruned: the same entries as a cache that always scans', async (t) => {
  // A reference that scans the oldest entries on every set, as SeenCache did before it kept a bound on the oldest.
  class Scanning<K, V> {
    readonly entries = new Map<K, { value: V; at: number }>()
    constructor(
      private readonly clock: TestClock,
      private readonly maxSize: number,
      private readonly maxAge: number,
    ) {}
    get(key: K): V | undefined {
      const e = this.entries.get(key)
      if (!e) return undefined
      if (this.clock.now() - e.at >= this.maxAge) {
        this.entries.delete(key)
        return undefined
      }
      return e.value
    }
    set(key: K, value: V): void {
      const now = this.clock.now()
      this.entries.delete(key)
      this.entries.set(key, { value, at: now })
      for (const [k, e] of this.entries) {
        if (this.entries.size > this.maxSize || now - e.at >= this.maxAge) this.entries.delete(k)
        else break
      }
    }
  }
  const clock = new TestClock()
  const seen = new SeenCache<number, number>(clock, 40, 500)
  const ref = new Scanning<number, number>(clock, 40, 500)
  let x = 12345
  const next = (n: number) => {
    x = (x * 1103515245 + 12345) % 2 ** 31
    return x % n
  }
  for (let i = 0; i < 20_000; i++) {
    const op = next(10)
    const key = next(120)
    if (op < 4) {
      seen.set(key, i)
      ref.set(key, i)
    } else if (op < 5) {
      // add(): set unless the reference holds it (reused entries must not bring back an old value)
      const known = ref.get(key) !== undefined
      if (!known) ref.set(key, i)
      if (seen.add(key, i) === known) return t.fail(`step ${i}: add(${key}) disagrees with the reference`)
    } else if (op < 8) t.is(seen.get(key), ref.get(key))
    else if (op < 9) {
      seen.delete(key)
      ref.entries.delete(key)
    } else await clock.advance(next(60))
    if (seen.size !== ref.entries.size)
      return t.fail(`step ${i}: ${seen.size} entries, the reference ${ref.entries.size}`)
  }
  t.pass()
})
