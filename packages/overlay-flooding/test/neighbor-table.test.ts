import { SeededRandom } from '@peerkit/core'
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
