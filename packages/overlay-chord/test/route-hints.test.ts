import { SeededRandom } from '@peerkit/core'
import test from 'ava'
import {
  type ChordNode,
  ChordRouting,
  fingersFromRing,
  type LookupOptions,
  parseChordOptions,
  successorIn,
  successorsFromRing,
} from '../src/index.js'
import { Replication, type ReplicationContext } from '../src/replication.js'
import { MAX_ROUTE_HINTS, RouteHints } from '../src/route-hints.js'
import { CONNECTED_SNAPSHOT_LOOKUPS, type Rpc } from '../src/routing.js'
import { converged, node, ring } from './helpers/converged.js'
import { fakeSignedRecord } from './helpers/ring.js'

const ids = (list: readonly ChordNode[]) => list.map((n) => n.id)

test('hints: sorted by id, the nodes closest before a key first, wrapping round, never the key itself', (t) => {
  const hints = new RouteHints<{ id: bigint }>()
  for (const id of [40n, 10n, 30n, 20n]) hints.add({ id })
  hints.add({ id: 20n }) // again: kept once
  t.is(hints.size, 4)
  t.deepEqual(
    hints.preceding(25n, 3).map((n) => n.id),
    [20n, 10n, 40n],
  )
  t.deepEqual(
    hints.preceding(5n, 2).map((n) => n.id),
    [40n, 30n],
  )
  t.deepEqual(
    hints.preceding(30n, 2).map((n) => n.id),
    [20n, 10n],
    'a node at the key does not precede it',
  )
  hints.remove(20n)
  t.deepEqual(
    hints.preceding(25n, 1).map((n) => n.id),
    [10n],
  )
  t.deepEqual(new RouteHints().preceding(1n, 2), [])
})

test(`hints hold at most MAX_ROUTE_HINTS (${MAX_ROUTE_HINTS}) nodes: past it new ones are not added`, (t) => {
  const hints = new RouteHints<{ id: bigint }>()
  for (let i = 0; i < MAX_ROUTE_HINTS + 100; i++) hints.add({ id: BigInt(i) * 1000n })
  t.is(hints.size, MAX_ROUTE_HINTS)
  t.deepEqual(
    hints.preceding(BigInt(MAX_ROUTE_HINTS + 50) * 1000n, 1).map((n) => n.id),
    [BigInt(MAX_ROUTE_HINTS - 1) * 1000n],
    'the last node kept is the closest known',
  )
  const small = new RouteHints<{ id: bigint }>(2)
  for (const id of [3n, 1n, 2n]) small.add({ id })
  t.is(small.size, 2)
})

test('a batch lookup starts at the node that answered the one before: fewer requests, the same successors', (t) => {
  const { nodes, routings, asked } = converged()
  return (async () => {
    // A key owned by some node, looked up from a node whose own table needs at least two requests to reach it.
    let from: ChordRouting | undefined
    let key = 0n
    search: for (const owner of nodes) {
      key = owner.id - 2n
      for (const n of nodes) {
        const r = routings.get(n.id) as ChordRouting
        asked.length = 0
        await r.lookup(key)
        if (asked.length >= 2) {
          from = r
          break search
        }
      }
    }
    if (!from) return t.fail('no lookup took two requests')
    const hints = new RouteHints<ChordNode>()
    const first = await from.lookup(key, { hints })
    t.deepEqual(ids(first.nodes.slice(0, 1)), [successorIn(nodes, key).id])
    t.true(hints.size >= 2, 'the nodes that answered are hints')
    // the next key has the same owner: its predecessor answered the first lookup, and is asked at once
    const next = key + 1n
    asked.length = 0
    const plain = await from.lookup(next)
    const plainRequests = asked.length
    asked.length = 0
    const hinted = await from.lookup(next, { hints })
    t.is(asked.length, 1, 'one request: the key’s predecessor, known from the first lookup')
    t.true(plainRequests > 1)
    t.deepEqual(ids(hinted.nodes), ids(plain.nodes))
    t.is(hinted.hops, 1)
  })()
})

test('a hint that does not answer is dropped, and the lookup still ends at the live successor', async (t) => {
  const { nodes, routings, dead, asked } = converged()
  const from = routings.get((nodes[0] as ChordNode).id) as ChordRouting
  // a key far from the origin, just after some node: that node is a dead hint
  const target = nodes[12] as ChordNode
  const owner = successorIn(nodes, target.id + 1n)
  const key = target.id + 1n
  const hints = new RouteHints<ChordNode>()
  hints.add(target)
  dead.add(target.id)
  const result = await from.lookup(key, { hints })
  t.is(asked[0], target.id, 'the hint was tried first')
  t.false(
    hints.preceding(key, nodes.length).some((n) => n.id === target.id),
    'and dropped; the nodes that answered are hints now',
  )
  t.true(hints.size > 0)
  t.is(result.failures, 1)
  t.is(result.nodes[0]?.id, owner.id)
})

test('attack: a node that lies on a path never makes its made-up nodes hints; lookups it does not answer stay right', async (t) => {
  const { nodes, routings, asked } = converged()
  const origin = routings.get((nodes[0] as ChordNode).id) as ChordRouting
  const liar = nodes[9] as ChordNode
  const ghost = node('ghost') // in no routing table: it never answers
  // every key: "done, the successor is the ghost"
  ;(routings.get(liar.id) as ChordRouting).step = () => ({ done: true, nodes: [ghost] })
  const keys = Array.from({ length: 200 }, (_, i) => ring.hash(`key-${i}`))
  const batch = async (hints?: RouteHints<ChordNode>) => {
    let astray = 0
    let viaLiar = 0
    for (const key of keys) {
      asked.length = 0
      const result = await origin.lookup(key, { hints })
      const lied = asked.includes(liar.id)
      if (lied) viaLiar++
      if (result.nodes[0]?.id !== successorIn(nodes, key).id) {
        astray++
        t.true(lied, `key ${ring.toHex(key)} went astray without asking the liar`)
      }
    }
    return { astray, viaLiar }
  }
  const plain = await batch()
  const hints = new RouteHints<ChordNode>()
  const hinted = await batch(hints)
  t.true(hinted.astray > 0, 'the liar answered some of the batch')
  t.false(
    hints.preceding(ghost.id + 1n, nodes.length).some((n) => n.id === ghost.id),
    'a node only named, never answering, is no hint',
  )
  t.log(
    `of ${keys.length} lookups, ${plain.viaLiar} asked the liar without hints (${plain.astray} astray), ${hinted.viaLiar} with (${hinted.astray} astray)`,
  )
})

test('a publish shares one RouteHints among its lookups; with disjointPaths above 1 it shares none', async (t) => {
  const seen = async (disjointPaths: number) => {
    const hints: (RouteHints<ChordNode> | undefined)[] = []
    const options = parseChordOptions({ idDifficulty: 0, disjointPaths })
    const replication = new Replication({
      ring,
      options,
      routing: {
        lookup: async (_key: bigint, o: LookupOptions) => {
          hints.push(o.hints)
          return { nodes: [], hops: 0, failures: 0 }
        },
      },
      running: () => true,
      signal: () => new AbortController().signal,
    } as unknown as ReplicationContext)
    await replication.store([fakeSignedRecord('a b c.iso', 'ab'.repeat(32))])
    return hints
  }
  const shared = await seen(1)
  t.true(shared.length > 3, 'one lookup per key')
  t.true(shared[0] instanceof RouteHints)
  t.true(shared.every((h) => h === shared[0]))
  t.true((await seen(3)).every((h) => h === undefined))
})

test('attack: a hint whose "done" does not check (its successor is not after the key) is dropped, and the lookup goes on to the right node', async (t) => {
  const { nodes, routings, asked, rpc } = converged()
  // an origin that knows only its successor, so the hint is the closest node it knows before the key
  const origin = nodes[0] as ChordNode
  const bare = new ChordRouting(ring, () => origin, 4, rpc, {
    predecessorChanged: () => {},
    neighborsChanged: () => {},
  })
  bare.adopt({ successors: [nodes[1] as ChordNode], fingers: [] })
  const liar = nodes[12] as ChordNode
  const next = nodes[13] as ChordNode
  const key = (nodes[15] as ChordNode).id - 1n // two nodes past the liar's successor
  ;(routings.get(liar.id) as ChordRouting).step = () => ({ done: true, nodes: [next] })
  const hints = new RouteHints<ChordNode>()
  hints.add(liar)
  const result = await bare.lookup(key, { hints })
  t.is(asked[0], liar.id, 'the hint was asked first')
  t.is(result.nodes[0]?.id, successorIn(nodes, key).id)
  t.false(
    hints.preceding(key, nodes.length).some((n) => n.id === liar.id),
    'and is no hint any more',
  )
})

test('a batch lookup also starts at the connected peer closest before its key; a lookup outside a batch does not', async (t) => {
  const { nodes, asked, rpc } = converged()
  const origin = nodes[0] as ChordNode
  const key = (nodes[15] as ChordNode).id - 1n
  const near = nodes[14] as ChordNode // connected: the key's predecessor
  const far = nodes[5] as ChordNode // connected, further before it
  const connected = [far.ref, near.ref, (nodes[15] as ChordNode).ref] // the key's successor itself is no start
  const bare = new ChordRouting(ring, () => origin, 4, rpc, {
    predecessorChanged: () => {},
    neighborsChanged: () => {},
    connected: () => connected,
  })
  bare.adopt({ successors: [nodes[1] as ChordNode], fingers: [] })
  const batch = await bare.lookup(key, { hints: new RouteHints<ChordNode>() })
  t.is(asked[0], near.id, 'the connected peer closest before the key was asked first')
  t.is(batch.nodes[0]?.id, successorIn(nodes, key).id)
  t.is(batch.hops, 1)
  asked.length = 0
  const single = await bare.lookup(key)
  t.is(asked[0], (nodes[1] as ChordNode).id, 'from its own table')
  t.is(single.nodes[0]?.id, successorIn(nodes, key).id)
  t.true(single.hops > 1)
  // a connected peer that may not enter the tables (its id puzzle unsolved) is no start either
  const unsolved = nodes[12] as ChordNode
  const picky = new ChordRouting(ring, () => origin, 4, rpc, {
    predecessorChanged: () => {},
    neighborsChanged: () => {},
    admits: (ref) => ref.id !== unsolved.ref.id,
    connected: () => [far.ref, unsolved.ref],
  })
  picky.adopt({ successors: [nodes[1] as ChordNode], fingers: [] })
  asked.length = 0
  const without = await picky.lookup(key, { hints: new RouteHints<ChordNode>() })
  t.is(asked[0], far.id, 'the next closest connected peer')
  t.is(without.nodes[0]?.id, successorIn(nodes, key).id)
})

test(`the connected peers a batch lookup may start from are taken again every ${CONNECTED_SNAPSHOT_LOOKUPS} batch lookups`, async (t) => {
  const { nodes, asked, rpc } = converged()
  const origin = nodes[0] as ChordNode
  const key = (nodes[15] as ChordNode).id - 1n
  const connected = [(nodes[5] as ChordNode).ref]
  const routing = new ChordRouting(ring, () => origin, 4, rpc, {
    predecessorChanged: () => {},
    neighborsChanged: () => {},
    connected: () => connected,
  })
  routing.adopt({ successors: [nodes[1] as ChordNode], fingers: [] })
  const firstAsked = async () => {
    asked.length = 0
    await routing.lookup(key, { hints: new RouteHints<ChordNode>() })
    return asked[0]
  }
  t.is(await firstAsked(), (nodes[5] as ChordNode).id)
  connected.push((nodes[14] as ChordNode).ref) // a new connection, to the key's predecessor
  for (let i = 1; i < CONNECTED_SNAPSHOT_LOOKUPS; i++) t.is(await firstAsked(), (nodes[5] as ChordNode).id)
  t.is(await firstAsked(), (nodes[14] as ChordNode).id, 'the next snapshot has it')
  routing.reset()
  connected.length = 0
  t.is(await firstAsked(), undefined, 'none after a reset: no connection, no table')
})

/** The finger whose start is `key` for node `id` (`key = id + 2^i`), from the first request of a fix_fingers round. */
function fingerOf(id: bigint, key: bigint): number {
  return ((key - id + ring.size) % ring.size).toString(2).length - 1
}

test('fix_fingers starts its cycle at a random finger beyond the successor, once a life: nodes started together refresh apart', async (t) => {
  // How far past its first finger beyond the successor each node's first round asks (0: that finger itself).
  const offsets = async (place?: (r: ChordRouting) => void): Promise<number[]> => {
    const { nodes, routings, keys } = converged()
    const out: number[] = []
    for (const n of nodes) {
      const r = routings.get(n.id) as ChordRouting
      const successor = r.successors[0] as ChordNode
      let first = 0
      while (ring.within(r.fingers.start(first), r.id, successor.id, '(]')) first++
      place?.(r)
      r.fingers.clear() // a round with no finger to ask looks its start up: its key tells which finger it is
      keys.length = 0
      await r.fixFingers()
      out.push(fingerOf(r.id, keys[0] as bigint) - first)
    }
    return out
  }
  const unplaced = await offsets()
  t.deepEqual(
    new Set(unplaced),
    new Set([0]),
    'from finger 0, every node asks its nearest finger beyond the successor first',
  )
  const random = new SeededRandom(7)
  let draws = 0
  const placed = await offsets((r) => {
    r.placeFingerCycle((k) => {
      draws++
      return random.int(k)
    })
    r.placeFingerCycle(() => {
      draws++
      return 0
    })
  })
  t.is(draws, 24, 'placed once a node: its second call draws nothing')
  const spread = [...new Set(placed)].sort((a, b) => a - b)
  t.true(
    spread.length >= 3,
    `placed, the first rounds ask ${spread.length} different fingers (offsets ${spread.join(', ')})`,
  )
  t.true(
    placed.filter((o) => o === 0).length < placed.length / 2,
    'most nodes start past their nearest finger',
  )
})

test('fix_fingers places its cycle only once the node has a successor, and again after reset', (t) => {
  const { nodes, rpc } = converged()
  const self = nodes[0] as ChordNode
  const routing = new ChordRouting(ring, () => self, 4, rpc, {
    predecessorChanged: () => {},
    neighborsChanged: () => {},
  })
  const state = { successors: successorsFromRing(self.id, nodes, 4), fingers: [] }
  let draws = 0
  const draw = (k: number) => {
    draws++
    t.true(k >= 1 && k <= ring.bits)
    return k - 1
  }
  routing.placeFingerCycle(draw)
  t.is(draws, 0, 'alone: nothing to place')
  routing.adopt(state)
  routing.placeFingerCycle(draw)
  routing.placeFingerCycle(draw)
  t.is(draws, 1)
  routing.reset()
  routing.adopt(state)
  routing.placeFingerCycle(draw)
  t.is(draws, 2, 'a new life places its cycle again')
})

test('fix_fingers does not place its cycle while a whole-table fill (a join’s fixAllFingers) runs: the fill skips no finger', async (t) => {
  const { nodes, rpc } = converged()
  const self = nodes[0] as ChordNode
  // every request answered a turn of the event loop later, so that a fix_fingers round comes in the middle of the fill
  const later: Rpc = async (to, request, signal) => {
    await new Promise((resolve) => setImmediate(resolve))
    return rpc(to, request, signal)
  }
  const routing = new ChordRouting(ring, () => self, 4, later, {
    predecessorChanged: () => {},
    neighborsChanged: () => {},
  })
  routing.adopt({ successors: successorsFromRing(self.id, nodes, 4), fingers: [] }) // just joined
  const fill = routing.fixAllFingers()
  await new Promise((resolve) => setImmediate(resolve))
  let draws = 0
  const last = (k: number) => {
    draws++
    return k - 1
  }
  routing.placeFingerCycle(last) // the first fix_fingers round, during the fill
  t.is(draws, 0, 'not placed during the fill')
  await fill
  const table = fingersFromRing(ring, self.id, nodes)
  for (let i = 0; i < ring.bits; i++) t.is(routing.fingers.get(i)?.id, table.get(i)?.id, `finger ${i}`)
  routing.placeFingerCycle(last)
  t.is(draws, 1, 'placed at the first round after it')
})
