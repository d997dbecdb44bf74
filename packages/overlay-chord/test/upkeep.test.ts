import '@peerkit/transport-memory'
import '@peerkit/index-memory'
import type { PeerId } from '@peerkit/core'
import test from 'ava'
import {
  CHORD_PROTOCOL,
  type ChordNode,
  ChordRouting,
  fingersFromRing,
  PROTECTED_SHARE,
  successorIn,
} from '../src/index.js'
import { wireRef } from '../src/messages.js'
import type { Rpc } from '../src/routing.js'
import { converged, ring } from './helpers/converged.js'
import { adoptConverged, FROZEN, startRing, type TestNode, virtualParent } from './helpers/ring.js'

// Upkeep that opens no connection it need not: fix_fingers asks a finger whether it still succeeds its start
// (its predecessor precedes the start) instead of looking the start up, and the overlay keeps its fingers'
// connections from being pruned.

/** The first finger index of `r` that names `want` (a finger whose start only `want` succeeds). */
function firstFingerOf(r: ChordRouting, want: bigint): number {
  for (let i = 0; i < r.fingers.length; i++) if (r.fingers.get(i)?.id === want) return i
  throw new Error('not a finger')
}

/** Places `r`'s fix_fingers cycle so that its next round refreshes finger `i` (beyond the successor). */
function nextRoundAt(r: ChordRouting, i: number): void {
  const successor = r.successors[0] as ChordNode
  let first = 0
  while (ring.within(r.fingers.start(first), r.id, successor.id, '(]')) first++
  r.placeFingerCycle(() => i - first)
}

/** A fresh routing of `self` with the converged state of `from`, over `rpc`. */
function copyOf(from: ChordRouting, self: ChordNode, rpc: Rpc): ChordRouting {
  const r = new ChordRouting(ring, () => self, 4, rpc, {
    predecessorChanged: () => {},
    neighborsChanged: () => {},
  })
  const state: Parameters<ChordRouting['adopt']>[0] = {
    successors: [...from.successors],
    fingers: Array.from({ length: ring.bits }, (_, i) => from.fingers.get(i)),
  }
  if (from.predecessor) state.predecessor = from.predecessor
  r.adopt(state)
  return r
}

test('on a converged ring a whole fix_fingers cycle asks each finger once (get_predecessor) and looks nothing up', async (t) => {
  const { nodes, routings, asked, types } = converged()
  const self = nodes[0] as ChordNode
  const r = routings.get(self.id) as ChordRouting
  await r.fixAllFingers()
  t.true(types.length > 0)
  t.deepEqual(new Set(types), new Set(['get_predecessor']), 'no find_successor')
  const fingers = new Set(r.fingers.distinct().map((n) => n.id))
  for (const id of asked) t.true(fingers.has(id), 'each request went to a finger')
  t.is(new Set(asked).size, asked.length, 'each finger once')
  const table = fingersFromRing(ring, self.id, nodes)
  for (let i = 0; i < ring.bits; i++) t.is(r.fingers.get(i)?.id, table.get(i)?.id, `finger ${i}`)
})

test('a finger past a node that joined before it is looked up again: its predecessor no longer precedes the start', async (t) => {
  const { nodes, routings, types } = converged()
  const self = nodes[0] as ChordNode
  const r = routings.get(self.id) as ChordRouting
  const table = fingersFromRing(ring, self.id, nodes)
  // the farthest finger; the table names the node after it, as it did before the true finger joined
  const i = ring.bits - 1
  const truth = table.get(i) as ChordNode
  const later = successorIn(nodes, truth.id + 1n)
  for (let j = firstFingerOf(r, truth.id); j <= i; j++) r.fingers.set(j, later)
  nextRoundAt(r, firstFingerOf(r, later.id))
  await r.fixFingers()
  t.is(types[0], 'get_predecessor')
  t.true(types.includes('find_successor'), 'the start was looked up')
  t.is(r.fingers.get(firstFingerOf(r, truth.id))?.id, truth.id, 'the finger is the node that joined')
})

test('a finger that lies about its predecessor to keep its place is looked up when a node this one knows succeeds the start before it', async (t) => {
  const { nodes, routings, rpc } = converged()
  // a node one of whose fingers is its second, third or fourth successor (known from its successor list)
  for (const self of nodes) {
    const honest = routings.get(self.id) as ChordRouting
    const list = honest.successors
    const k = list.findIndex(
      (s, n) => n > 0 && n < list.length - 1 && honest.fingers.distinct().some((f) => f.id === s.id),
    )
    if (k < 0) continue
    const truth = list[k] as ChordNode
    const liar = list[k + 1] as ChordNode
    const types: string[] = []
    // the liar claims this node as its predecessor: "every key from you to me is mine"
    const lying: Rpc = async (to, request, signal) => {
      types.push(request.type)
      if (to.id === liar.id && request.type === 'get_predecessor')
        return {
          type: 'neighbors',
          predecessor: wireRef(self.ref),
          successors: (routings.get(liar.id) as ChordRouting).successors.map((n) => wireRef(n.ref)),
        } as never
      return rpc(to, request, signal)
    }
    const r = copyOf(honest, self, lying)
    const i = firstFingerOf(r, truth.id)
    for (let j = i; r.fingers.get(j)?.id === truth.id; j++) r.fingers.set(j, liar)
    nextRoundAt(r, i)
    await r.fixFingers()
    t.is(types[0], 'get_predecessor')
    t.true(types.includes('find_successor'), 'the claim is not believed: the start was looked up')
    t.is(r.fingers.get(i)?.id, truth.id)
    return
  }
  t.fail('no node with a finger among its later successors')
})

test('a finger that does not answer is forgotten and its start looked up', async (t) => {
  const { nodes, routings, dead, asked, types } = converged()
  const self = nodes[0] as ChordNode
  const r = routings.get(self.id) as ChordRouting
  const i = ring.bits - 1
  const finger = r.fingers.get(i) as ChordNode
  dead.add(finger.id)
  nextRoundAt(r, firstFingerOf(r, finger.id))
  await r.fixFingers()
  t.is(asked[0], finger.id)
  t.is(types[0], 'get_predecessor')
  t.is(types[1], 'find_successor')
  t.false(asked.slice(1).includes(finger.id), 'the dead finger is not asked again')
})

/** The peers a node protects from pruning (the overlay's own list, as it told its Network). */
const protectedBy = (n: TestNode): readonly PeerId[] =>
  (n.overlay as unknown as { protectedIds: readonly PeerId[] }).protectedIds

test('a node protects its neighbors and its fingers from pruning, together within PROTECTED_SHARE of maxConnections', async (t) => {
  const { parent } = virtualParent()
  const maxConnections = 10
  const nodes = await startRing(t, 24, {
    chord: { ...FROZEN, successors: 2, replication: 2 },
    parent,
    maxConnections,
  })
  adoptConverged(nodes, 2)
  const bound = Math.floor(maxConnections * PROTECTED_SHARE)
  for (const n of nodes) {
    const kept = protectedBy(n)
    const neighbors = n.overlay.neighbors().map((x) => x.id)
    for (const id of neighbors) t.true(kept.includes(id), 'every neighbor')
    const fingers = n.overlay.routing.fingers.distinct().map((f) => f.ref.id)
    for (const id of kept)
      t.true(neighbors.includes(id) || fingers.includes(id), 'nothing but neighbors and fingers')
    t.is(kept.length, Math.min(new Set([...neighbors, ...fingers]).size, Math.max(bound, neighbors.length)))
    t.true(
      kept.includes(n.overlay.routing.fingers.get(ring.bits - 1)?.ref.id as PeerId),
      'the farthest finger first',
    )
  }
})

test('connections to protected fingers outlast a burst of others, and the next fix_fingers cycle opens none to them', async (t) => {
  const { clock, parent } = virtualParent()
  const nodes = await startRing(t, 24, {
    chord: { ...FROZEN, successors: 2, replication: 2 },
    parent,
    maxConnections: 12,
  })
  adoptConverged(nodes, 2)
  const origin = nodes[0] as TestNode
  const routing = origin.overlay.routing
  await clock.settle(routing.fixAllFingers()) // asks every finger: their connections open
  const kept = protectedBy(origin)
  const fingers = routing.fingers.distinct().map((f) => f.ref.id)
  const keptFingers = fingers.filter(
    (id) => kept.includes(id) && !origin.overlay.neighbors().some((x) => x.id === id),
  )
  t.true(keptFingers.length > 0, 'fingers are protected besides the neighbors')
  for (const id of keptFingers) t.true(origin.network.isConnected(id), `connected to ${id}`)
  // a burst: a ping to every other node, about twice the connection limit
  for (const n of nodes.slice(1))
    await clock.settle(origin.network.request(n.network.self(), CHORD_PROTOCOL, { type: 'ping' }))
  await clock.advance(60_000) // pruned connections drain
  t.true(origin.network.peers().length < nodes.length - 1, 'others were pruned')
  for (const id of keptFingers) t.true(origin.network.isConnected(id), `still connected to ${id}`)
  const opened: PeerId[] = []
  origin.network.on('peer:connect', (ref) => opened.push(ref.id))
  await clock.settle(routing.fixAllFingers())
  for (const id of keptFingers)
    t.false(opened.includes(id), 'no connection to a protected finger opened again')
})

test('stabilize notifies its successor only when the successor does not name this node its predecessor at its addresses now', async (t) => {
  const { nodes, routings, types } = converged()
  const self = nodes[0] as ChordNode
  const r = routings.get(self.id) as ChordRouting
  const successor = routings.get((r.successors[0] as ChordNode).id) as ChordRouting
  await r.stabilize()
  t.deepEqual(types, ['get_predecessor'], 'the successor names it already: no notify')
  successor.forget(self) // the successor lost it (a failed ping)
  types.length = 0
  await r.stabilize()
  t.deepEqual(types, ['get_predecessor', 'notify'])
  t.is(successor.predecessor?.id, self.id, 'told again')
  // the successor knows it at other addresses (it moved): told its addresses now
  successor.notify({ id: self.id, ref: { id: self.ref.id, addresses: ['memory://where-it-was'] } })
  types.length = 0
  await r.stabilize()
  t.deepEqual(types, ['get_predecessor', 'notify'])
  t.deepEqual(successor.predecessor?.ref.addresses, self.ref.addresses)
})
