import { type Random, SeededRandom, shuffle, TokenBucket } from '@peerkit/core'
import test from 'ava'
import { NeighborTable } from '../src/index.js'

const limits = { minNeighbors: 2, maxNeighbors: 3, maxCandidates: 4, queryRate: 10, queryBurst: 10 }
const ref = (n: number) => ({ id: `peer-${n}`, addresses: [`memory://p${n}`] })

test('keeps between min and max neighbors, never itself or a duplicate', (t) => {
  const table = new NeighborTable('me', limits)
  t.true(table.wantsMore)
  t.false(table.add({ id: 'me', addresses: ['memory://me'] }, 0))
  t.true(table.add(ref(1), 0))
  t.false(table.add(ref(1), 0))
  t.true(table.add(ref(2), 0))
  t.false(table.wantsMore)
  t.true(table.add(ref(3), 0))
  t.true(table.full)
  t.false(table.add(ref(4), 0))
  t.deepEqual(table.ids(), ['peer-1', 'peer-2', 'peer-3'])
})

test('a removed neighbor becomes a candidate to replace it with, unless forgotten', (t) => {
  const table = new NeighborTable('me', limits)
  table.add(ref(1), 0)
  table.add(ref(2), 0)
  t.is(table.remove('peer-1')?.ref.id, 'peer-1')
  t.is(table.remove('peer-1'), undefined)
  t.is(table.candidateCount(), 1)
  table.remove('peer-2', true)
  t.is(table.candidateCount(), 1)
  t.true(table.add(ref(1), 0))
  t.is(table.candidateCount(), 0, 'a candidate that becomes a neighbor leaves the pool')
})

test('the candidate pool is bounded and holds no neighbors, no self, no address-less peers', (t) => {
  const table = new NeighborTable('me', limits)
  table.add(ref(0), 0)
  for (let i = 0; i < 10; i++) table.learn(ref(i))
  table.learn({ id: 'me', addresses: ['memory://me'] })
  table.learn({ id: 'nowhere', addresses: [] })
  t.is(table.candidateCount(), 4)
  const ids = table.shuffledCandidates(new SeededRandom(1)).map((r) => r.id)
  t.deepEqual(ids.sort(), ['peer-6', 'peer-7', 'peer-8', 'peer-9'])
})

test('sample() draws from neighbors and candidates, excluding the asker', (t) => {
  const table = new NeighborTable('me', limits)
  table.add(ref(1), 0)
  table.add(ref(2), 0)
  table.learn(ref(3))
  const random = new SeededRandom(3)
  const s = table.sample(random, 10, 'peer-2')
  t.deepEqual(s.map((r) => r.id).sort(), ['peer-1', 'peer-3'])
  t.is(table.sample(random, 1).length, 1)
  t.deepEqual(table.sample(random, 0), [])
})

test('sample() of fewer than the pool is a uniform choice in random order, made with one draw each', (t) => {
  const big = { ...limits, maxNeighbors: 8, maxCandidates: 256 }
  const table = new NeighborTable('me', big)
  for (let i = 0; i < 4; i++) table.add(ref(i), 0)
  for (let i = 4; i < 40; i++) table.learn(ref(i))
  const seeded = new SeededRandom(11)
  let draws = 0
  const random: Random = {
    next: () => seeded.next(),
    int: (n) => {
      draws++
      return seeded.int(n)
    },
    bytes: (n) => seeded.bytes(n),
    fork: () => seeded.fork(),
  }
  const picked = new Map<string, number>()
  const first = new Map<string, number>()
  const rounds = 20_000
  for (let r = 0; r < rounds; r++) {
    const s = table.sample(random, 5, 'peer-7')
    t.is(s.length, 5)
    t.is(new Set(s.map((x) => x.id)).size, 5, 'no peer twice')
    for (const x of s) picked.set(x.id, (picked.get(x.id) ?? 0) + 1)
    first.set(s[0]?.id as string, (first.get(s[0]?.id as string) ?? 0) + 1)
  }
  t.is(draws, 5 * rounds, 'five draws a sample, not one per peer of the pool')
  t.false(picked.has('peer-7'), 'never the excluded peer')
  t.is(picked.size, 39, 'every other peer of the pool, neighbors and candidates')
  // Each of the 39 is chosen 5/39 of the time, and first 1/39 of the time (within 4.5 standard deviations).
  for (const [counts, p, n] of [
    [picked, 5 / 39, rounds],
    [first, 1 / 39, rounds],
  ] as const) {
    const sd = Math.sqrt(n * p * (1 - p))
    for (const [id, c] of counts)
      t.true(Math.abs(c - n * p) < 4.5 * sd, `${id}: ${c} of ${n}, expected ${n * p}`)
  }
})

test('sample() of the whole pool and shuffledCandidates() give what core shuffle gives, with the same draws', (t) => {
  const big = { ...limits, maxNeighbors: 8, maxCandidates: 256 }
  const table = new NeighborTable('me', big)
  for (let i = 0; i < 6; i++) table.add(ref(i), 0)
  for (let i = 6; i < 300; i++) table.learn(i % 7 === 0 ? { id: `peer-${i}`, addresses: [] } : ref(i))
  // The candidates in the order learned (the address-less ones are not kept).
  const candidates = [...Array(300).keys()].filter((i) => i >= 6 && i % 7 !== 0).map(ref)
  t.is(table.candidateCount(), candidates.length)
  const pool = (exclude?: string) => [...table.refs(), ...candidates].filter((r) => r.id !== exclude)
  for (const [seed, n, exclude] of [
    [1, 1000, undefined],
    [2, 300, 'peer-3'],
    [3, 1000, 'peer-299'],
    [4, candidates.length + 6, undefined],
  ] as const) {
    const a = new SeededRandom(seed)
    const b = new SeededRandom(seed)
    t.deepEqual(table.sample(a, n, exclude), shuffle(b, pool(exclude)).slice(0, n))
    t.deepEqual(table.shuffledCandidates(a), shuffle(b, candidates))
    t.is(a.int(1 << 30), b.int(1 << 30), 'the same draws were made')
  }
  // A neighbor or candidate that left is never sampled again (the pool array is reused between calls).
  const before = table.sample(new SeededRandom(5), 1000).length
  table.remove('peer-1', true)
  for (let i = 290; i < 300; i++) table.forget(`peer-${i}`)
  const after = table.sample(new SeededRandom(5), 1000)
  t.is(after.length, before - 10)
  t.false(after.some((r) => r.id === 'peer-1' || r.id === 'peer-295'))
})

test('a candidate learned again with the same addresses keeps the ref held (the new one is not kept)', (t) => {
  const table = new NeighborTable('me', limits)
  const held = ref(1)
  table.learn(held)
  table.learn(ref(2))
  const copy = ref(1)
  table.learn(copy)
  const [oldest, newest] = table.sample(new SeededRandom(1), 10).sort((a, b) => (a.id < b.id ? -1 : 1))
  t.is(oldest, held, 'the same object, not the copy')
  t.not(oldest, copy)
  t.is(newest?.id, 'peer-2')
  // It became the newest all the same: the oldest is forgotten first past maxCandidates.
  for (let i = 3; i <= 5; i++) table.learn(ref(i))
  t.deepEqual(
    table
      .shuffledCandidates(new SeededRandom(1))
      .map((r) => r.id)
      .sort(),
    ['peer-1', 'peer-3', 'peer-4', 'peer-5'],
  )
  const moved = { id: 'peer-1', addresses: ['memory://elsewhere'] }
  table.learn(moved)
  t.is(
    table.sample(new SeededRandom(1), 10).find((r) => r.id === 'peer-1'),
    moved,
    'new addresses: the new ref',
  )
})

test('a candidate learned again becomes the newest (the last forgotten) with its new addresses', (t) => {
  const table = new NeighborTable('me', limits)
  const ids = () =>
    table
      .shuffledCandidates(new SeededRandom(1))
      .map((r) => r.id)
      .sort()
  for (let i = 1; i <= 4; i++) table.learn(ref(i))
  table.learn({ id: 'peer-1', addresses: ['memory://new'] })
  table.learn(ref(5))
  t.deepEqual(ids(), ['peer-1', 'peer-3', 'peer-4', 'peer-5'], 'peer-2 was the oldest')
  const one = table.shuffledCandidates(new SeededRandom(1)).find((r) => r.id === 'peer-1')
  t.deepEqual(one?.addresses, ['memory://new'])
  table.forget('peer-3')
  table.forget('peer-5')
  table.forget('nobody')
  t.is(table.candidateCount(), 2)
  for (const i of [6, 7, 8]) table.learn(ref(i))
  t.deepEqual(ids(), ['peer-1', 'peer-6', 'peer-7', 'peer-8'], 'then peer-4')
  table.add(ref(7), 0)
  t.deepEqual(ids(), ['peer-1', 'peer-6', 'peer-8'], 'a candidate that becomes a neighbor leaves the list')
  for (const i of [9, 10]) table.learn(ref(i))
  t.deepEqual(ids(), ['peer-10', 'peer-6', 'peer-8', 'peer-9'])
})

test('idList() is ids() without a copy per call, and a new array after each change', (t) => {
  const table = new NeighborTable('me', limits)
  table.add(ref(1), 0)
  table.add(ref(2), 0)
  const list = table.idList()
  t.deepEqual(list, table.ids())
  t.is(table.idList(), list, 'unchanged table: the same array')
  table.add(ref(3), 0)
  t.deepEqual(list, ['peer-1', 'peer-2'], 'a loop over the old list sees the neighbors as they were')
  t.deepEqual(table.idList(), ['peer-1', 'peer-2', 'peer-3'])
  table.remove('peer-2')
  t.deepEqual(table.idList(), ['peer-1', 'peer-3'])
  t.is(table.touch('peer-1', 5)?.heard, 5)
  t.is(table.touch('peer-1', 3)?.heard, 5, 'heard never goes back')
  t.is(table.touch('peer-9', 5), undefined)
})

test('drawShuffle() makes the draws shuffledCandidates() makes, and nothing else', (t) => {
  const big = { ...limits, maxNeighbors: 8, maxCandidates: 64 }
  for (const count of [0, 1, 2, 17, 64]) {
    const table = new NeighborTable('me', big)
    for (let i = 0; i < count; i++) table.learn(ref(i))
    const a = new SeededRandom(count)
    const b = new SeededRandom(count)
    table.drawShuffle(a)
    table.shuffledCandidates(b)
    t.is(a.int(1 << 30), b.int(1 << 30), `the same draws with ${count} candidates`)
    t.is(table.candidateCount(), count)
  }
})

test('quiet() lists the neighbors not heard from since a time', (t) => {
  const table = new NeighborTable('me', limits)
  t.deepEqual(table.quiet(100), [])
  table.add(ref(1), 0)
  table.add(ref(2), 0)
  table.touch('peer-2', 150)
  t.deepEqual(table.quiet(100), ['peer-1'])
  t.deepEqual(table.quiet(200), ['peer-1', 'peer-2'])
  t.deepEqual(table.quiet(0), [])
})

test("update() refreshes a neighbor's addresses", (t) => {
  const table = new NeighborTable('me', limits)
  table.add({ id: 'peer-1', addresses: [] }, 0)
  table.update(ref(1))
  t.deepEqual(table.refs(), [ref(1)])
  table.update({ id: 'peer-1', addresses: [] })
  t.deepEqual(table.refs(), [ref(1)])
})

test('evictable(): never the longest-standing, the old or the useful; richerThan keeps only those known to have more', (t) => {
  const table = new NeighborTable('me', { ...limits, maxNeighbors: 6 })
  for (let i = 1; i <= 6; i++) table.add(ref(i), i * 100)
  table.setDegree('peer-4', 9)
  table.setDegree('peer-5', 1)
  table.markUseful('peer-6')
  // protect the 2 longest-standing (1, 2); anchored before 300: peer-3 (since 300) is not, 1–2 are.
  t.deepEqual(table.evictable(2, 250, undefined), ['peer-3', 'peer-4', 'peer-5'])
  t.deepEqual(table.evictable(2, 350, undefined), ['peer-4', 'peer-5'], 'peer-3 became an anchor by age')
  t.deepEqual(table.evictable(2, 250, 2), ['peer-4'], 'only the one known to have more than 2')
  t.deepEqual(table.evictable(6, 0, undefined), [])
  table.remove('peer-1')
  table.add(ref(1), 700)
  t.deepEqual(
    table.evictable(2, 250, undefined),
    ['peer-4', 'peer-5', 'peer-1'],
    'a returning neighbor starts anew',
  )
})

test('inGroup() counts the neighbors that joined from a network group', (t) => {
  const table = new NeighborTable('me', { ...limits, maxNeighbors: 6 })
  table.add(ref(1), 0, '198.51.0.0/16')
  table.add(ref(2), 0, '198.51.0.0/16')
  table.add(ref(3), 0)
  table.add(ref(4), 0, '203.0.0.0/16')
  t.is(table.inGroup('198.51.0.0/16'), 2)
  t.is(table.inGroup('203.0.0.0/16'), 1)
  table.remove('peer-1')
  t.is(table.inGroup('198.51.0.0/16'), 1)
})

test('a neighbor is its own query rate limit (queryRate, queryBurst), as a TokenBucket of its own would be', (t) => {
  const table = new NeighborTable('me', limits)
  table.add(ref(1), 1000, 'group-a')
  const n = table.get('peer-1')
  if (n === undefined) return t.fail('no neighbor')
  t.is(n.bucket, n)
  t.like(n, { heard: 1000, since: 1000, useful: false, degree: undefined, group: 'group-a' })
  const alone = new TokenBucket(limits.queryRate, limits.queryBurst, 1000)
  for (const now of [
    1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1100, 1250, 1250,
  ]) {
    t.is(n.take(now), alone.take(now), `at ${now}`)
    t.is(n.refusedSinceFull, alone.refusedSinceFull)
  }
  t.is(
    n.refusedSinceFull,
    3,
    'the burst of 10 spent at once (2 refused), 1 token back by 1100, 1.5 by 1250 (1 refused)',
  )
})
