import test from 'ava'
import {
  FingerTable,
  findSuccessorStep,
  fingersFromRing,
  predecessorFromRing,
  Ring,
  type RingNode,
  sortById,
  successorIn,
  successorsFromRing,
} from '../src/index.js'

// Stoica et al., IEEE/ACM ToN 2003, Fig. 4: m = 6, ten nodes.
const ring = new Ring(6)
const PAPER = [1, 8, 14, 21, 32, 38, 42, 48, 51, 56]
const nodes: RingNode[] = sortById(PAPER.map((n) => ({ id: BigInt(n) })))
const byId = new Map(nodes.map((n) => [n.id, n]))
const node = (n: number) => byId.get(BigInt(n)) as RingNode
const ids = (list: readonly (RingNode | undefined)[]) => list.map((n) => (n ? Number(n.id) : undefined))

test("N8's finger table is N14, N14, N14, N21, N32, N42", (t) => {
  const table = fingersFromRing(ring, 8n, nodes)
  t.deepEqual(
    Array.from({ length: 6 }, (_, i) => Number(table.start(i))),
    [9, 10, 12, 16, 24, 40],
  )
  t.deepEqual(ids(Array.from({ length: 6 }, (_, i) => table.get(i))), [14, 14, 14, 21, 32, 42])
  t.deepEqual(ids(table.distinct()), [14, 21, 32, 42])
})

test('successor and predecessor from global knowledge wrap around', (t) => {
  t.is(successorIn(nodes, 10n).id, 14n)
  t.is(successorIn(nodes, 14n).id, 14n)
  t.is(successorIn(nodes, 57n).id, 1n)
  t.is(successorIn(nodes, 0n).id, 1n)
  t.deepEqual(ids(successorsFromRing(51n, nodes, 3)), [56, 1, 8])
  t.deepEqual(ids(successorsFromRing(8n, nodes, 20)), [14, 21, 32, 38, 42, 48, 51, 56, 1])
  t.is(predecessorFromRing(1n, nodes)?.id, 56n)
  t.is(predecessorFromRing(8n, nodes)?.id, 1n)
  t.is(predecessorFromRing(8n, [node(8)]), undefined)
})

test('a lookup for K54 from N8 goes N8 → N42 → N51 → N56', (t) => {
  const tables = new Map(nodes.map((n) => [n.id, fingersFromRing(ring, n.id, nodes)]))
  const path: number[] = [8]
  let at = node(8)
  for (let hop = 0; hop < 10; hop++) {
    const table = tables.get(at.id) as FingerTable<RingNode>
    const step = findSuccessorStep(table, successorsFromRing(at.id, nodes, 3), at, 54n)
    const next = step.nodes[0] as RingNode
    path.push(Number(next.id))
    if (step.done) break
    at = next
  }
  t.deepEqual(path, [8, 42, 51, 56])
})

test('every key, from every node, ends at its successor within m steps', (t) => {
  const tables = new Map(nodes.map((n) => [n.id, fingersFromRing(ring, n.id, nodes)]))
  for (const from of nodes) {
    for (let key = 0n; key < ring.size; key++) {
      let at = from
      let answer: RingNode | undefined
      for (let hop = 0; hop <= ring.bits && !answer; hop++) {
        const step = findSuccessorStep(
          tables.get(at.id) as FingerTable<RingNode>,
          successorsFromRing(at.id, nodes, 2),
          at,
          key,
        )
        if (step.done) answer = step.nodes[0]
        else at = step.nodes[0] as RingNode
      }
      if (answer?.id !== successorIn(nodes, key).id)
        t.fail(`key ${key} from N${from.id} ended at ${answer?.id}`)
    }
  }
  t.pass()
})

test('closest preceding nodes: in (n, key), closest first, fingers and successor list together', (t) => {
  const table = fingersFromRing(ring, 8n, nodes)
  t.deepEqual(ids(table.closestPreceding(54n)), [42])
  t.deepEqual(ids(table.closestPreceding(54n, [], 3)), [42, 32, 21])
  // the successor list can hold a closer node than any finger
  t.deepEqual(ids(table.closestPreceding(54n, [node(51)], 2)), [51, 42])
  // nothing precedes a key just after n
  t.deepEqual(table.closestPreceding(9n), [])
  // a key behind n: every finger precedes it, the farthest finger is the closest
  t.deepEqual(ids(table.closestPreceding(5n)), [42])
})

test('closest preceding nodes: an extra list changed in place or given as an iterable is read again, not taken from the last call', (t) => {
  const table = fingersFromRing(ring, 8n, nodes)
  const list = [node(51)]
  t.deepEqual(ids(table.closestPreceding(54n, list, 2)), [51, 42])
  list[0] = node(48) // the same array, another node: its distance is not the one kept for 51
  t.deepEqual(ids(table.closestPreceding(54n, list, 2)), [48, 42])
  list.push(node(51))
  t.deepEqual(ids(table.closestPreceding(54n, list, 2)), [51, 48])
  t.deepEqual(ids(table.closestPreceding(54n, new Set([node(38), node(51)]), 3)), [51, 42, 38])
  t.deepEqual(table.closestPreceding(54n, list, 0), [], 'no node asked for, none given')
})

test('a node alone answers every key with itself; a removed finger is skipped', (t) => {
  const alone = node(8)
  const empty = new FingerTable<RingNode>(ring, 8n)
  t.deepEqual(findSuccessorStep(empty, [], alone, 3n), { done: true, nodes: [alone] })
  t.deepEqual(findSuccessorStep(empty, [], alone, 8n), { done: true, nodes: [alone] })
  const table = fingersFromRing(ring, 8n, nodes)
  t.is(table.remove(14n), 3)
  t.deepEqual(ids(table.distinct()), [21, 32, 42])
  t.deepEqual(ids(table.closestPreceding(20n)), [])
  t.throws(() => table.set(6, node(1)), { instanceOf: RangeError })
  table.clear()
  t.deepEqual(table.distinct(), [])
})

test('a step told to avoid dead nodes answers with the next live successor, or routes around them', (t) => {
  const table = fingersFromRing(ring, 51n, nodes)
  const successors = successorsFromRing(51n, nodes, 3) // N56, N1, N8
  t.deepEqual(ids(findSuccessorStep(table, successors, node(51), 54n).nodes), [56, 1, 8])
  // N56 is dead: K54 now belongs to N1
  const step = findSuccessorStep(table, successors, node(51), 54n, 1, new Set([56n]))
  t.true(step.done)
  t.deepEqual(ids(step.nodes), [1, 8])
  // from N8, with N42 dead, the lookup for K54 goes through N32 instead
  const n8 = fingersFromRing(ring, 8n, nodes)
  t.deepEqual(
    ids(findSuccessorStep(n8, successorsFromRing(8n, nodes, 3), node(8), 54n, 2, new Set([42n])).nodes),
    [32, 21],
  )
})

/** closestPreceding as it was written first: `within` per node, a sort comparing distances to the key. */
function closestPrecedingByDefinition<T extends RingNode>(
  table: FingerTable<T>,
  key: bigint,
  extra: readonly T[],
  count: number,
  exclude?: ReadonlySet<bigint>,
): T[] {
  const seen = new Set<bigint>(exclude)
  const found: T[] = []
  const consider = (n: T | undefined) => {
    if (!n || seen.has(n.id)) return
    seen.add(n.id)
    if (table.ring.within(n.id, table.self, key, '()')) found.push(n)
  }
  for (let i = table.length - 1; i >= 0; i--) consider(table.get(i))
  for (const n of extra) consider(n)
  const d = (n: T) => table.ring.distance(n.id, key)
  return found.sort((a, b) => (d(a) < d(b) ? -1 : d(a) > d(b) ? 1 : 0)).slice(0, count)
}

test('closest preceding nodes are those of the definition, in its order, on random rings (repeated fingers, other objects of one id, avoided nodes, the key at n)', (t) => {
  const big = Ring.of(16)
  let seed = 7
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return seed % n
  }
  for (let round = 0; round < 300; round++) {
    const all = sortById(
      [...new Set(Array.from({ length: 2 + rand(40) }, () => BigInt(rand(2 ** 16))))].map((id) => ({ id })),
    )
    const self = all[rand(all.length)] as RingNode
    const table = fingersFromRing(big, self.id, all)
    for (let i = 0; i < big.bits; i++) if (table.get(i)?.id === self.id) table.set(i, undefined)
    // the successor list: other objects with the same ids as fingers (the first met is kept), and some not
    const extra = successorsFromRing(self.id, all, 1 + rand(8)).map((n) => ({ ...n, copy: true }))
    const exclude = rand(3) === 0 ? new Set(all.filter(() => rand(4) === 0).map((n) => n.id)) : undefined
    for (const key of [BigInt(rand(2 ** 16)), self.id, (self.id + 1n) % big.size, all[0]?.id ?? 0n]) {
      const count = 1 + rand(10)
      const got = table.closestPreceding(key, extra, count, exclude)
      const want = closestPrecedingByDefinition(table, key, extra, count, exclude)
      t.deepEqual(got, want, `round ${round}, key ${key}`)
      for (let i = 0; i < got.length; i++) t.is(got[i], want[i]) // the same objects
    }
  }
})
