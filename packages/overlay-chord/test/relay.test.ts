import '@peerkit/transport-memory'
import '@peerkit/index-memory'
import { decode, encode, validate } from '@peerkit/core/wire'
import test from 'ava'
import { CHORD_PROTOCOL, type ChordNode, type ChordRouting, successorIn } from '../src/index.js'
import { MAX_RELAY, type RequestOf, type ResponseOf, wireRef } from '../src/messages.js'
import { answerRequest, type HandlerContext } from '../src/request-handler.js'
import { converged, ring } from './helpers/converged.js'
import { publishingRing, recordFor } from './helpers/ring.js'

// A batch's lookups (a publish's) ask each node to pass the request on itself (`find_successor.relay`,
// `LookupOptions.relay`): the nodes further on are reached over the connections of the nodes before them.

const keys = Array.from({ length: 60 }, (_, i) => ring.hash(`relay-${i}`))

test('a relayed lookup finds the same successor, answered by the same node in as many hops, as an iterative one; the asker sends one request', async (t) => {
  const { nodes, routings, asked } = converged()
  let relayed = 0
  for (const origin of nodes) {
    const from = routings.get(origin.id) as ChordRouting
    for (const key of keys.slice(0, 20)) {
      const iterative = await from.lookup(key, { answers: 1 })
      asked.length = 0
      const direct: bigint[] = []
      const rpc = from as unknown as { rpc: (to: ChordNode, ...rest: unknown[]) => Promise<unknown> }
      const send = rpc.rpc
      rpc.rpc = (to, ...rest) => {
        direct.push(to.id)
        return send(to, ...rest)
      }
      const found = await from.lookup(key, { answers: 1, relay: true }).finally(() => {
        rpc.rpc = send
      })
      t.is(found.nodes[0]?.id, successorIn(nodes, key).id)
      t.is(found.by?.id, iterative.by?.id)
      t.is(found.hops, iterative.hops)
      t.is(asked.length, iterative.hops, 'every node on the way asked once')
      if (iterative.hops > 0) t.is(direct.length, 1, 'the asker itself asked only the first node')
      if (iterative.hops > 1) relayed++
    }
  }
  t.true(relayed > nodes.length * 5, `${relayed} lookups were passed on`)
})

test('a node that cannot pass a relayed request on answers its own step, and the lookup goes on from it', async (t) => {
  const { nodes, routings, dead } = converged()
  const victims = [nodes[4], nodes[12], nodes[20]] as ChordNode[]
  for (const v of victims) dead.add(v.id)
  let failures = 0
  let checked = 0
  for (const origin of nodes) {
    if (dead.has(origin.id)) continue
    const from = routings.get(origin.id) as ChordRouting
    for (const key of [...victims.map((v) => v.id - 1n), ...keys.slice(0, 10)]) {
      // The answer names the successor as the tables know it (a dead one among them: no `verify`).
      const iterative = await from.lookup(key, { answers: 1 }).catch(() => undefined)
      const found = await from.lookup(key, { answers: 1, relay: true }).catch(() => undefined)
      if (iterative === undefined) continue
      t.is(found?.nodes[0]?.id, iterative.nodes[0]?.id)
      failures += found?.failures ?? 0
      checked++
    }
  }
  t.true(checked > 100)
  t.true(failures > 0, 'some relayed lookups met a dead node and went round it')
})

test('a relay answers with the answer of the node it passed the request on to, naming it (by) and the hops; one relay fewer further on, none at 1', async (t) => {
  const { nodes, routings } = converged()
  const at = routings.get((nodes[0] as ChordNode).id) as ChordRouting
  const key = keys.find((k) => !at.step(k).done) as bigint
  const next = at.step(key).nodes[0] as ChordNode
  const passed: RequestOf<'find_successor'>[] = []
  const deeper: ResponseOf<'find_successor'> = {
    type: 'step',
    done: true,
    nodes: [wireRef((nodes[5] as ChordNode).ref)],
  }
  const context = (relay: HandlerContext['relay']) =>
    ({ ring, routing: at, clock: { now: () => 0 }, relay }) as unknown as HandlerContext
  const ok = context(async (to, request) => {
    t.is(to.id, next.id)
    passed.push(request)
    return deeper
  })
  const request: RequestOf<'find_successor'> = { type: 'find_successor', key: ring.toHex(key), max: 1 }
  const answer = await answerRequest(ok, { ...request, relay: 3 }, (nodes[1] as ChordNode).ref)
  t.deepEqual(answer, { type: 'step', done: true, nodes: deeper.nodes, by: wireRef(next.ref), hops: 1 })
  t.deepEqual(passed[0], { ...request, relay: 2 })
  await answerRequest(ok, { ...request, relay: 1 }, (nodes[1] as ChordNode).ref)
  t.deepEqual(passed[1], request, 'relay 1: passed on without relay (no field set to undefined)')
  // An answer that was itself relayed keeps its author and counts one hop more.
  const far = wireRef((nodes[7] as ChordNode).ref)
  const relayedOn = context(async () => ({ ...deeper, by: far, hops: 2 }))
  const twice = await answerRequest(relayedOn, { ...request, relay: 3 }, (nodes[1] as ChordNode).ref)
  t.like(twice, { by: far, hops: 3 })
  // The node passed on to fails: this node's own step answers.
  const failing = context(async () => {
    throw new Error('gone')
  })
  const own = await answerRequest(failing, { ...request, relay: 3 }, (nodes[1] as ChordNode).ref)
  t.deepEqual(own, { type: 'step', done: false, nodes: [wireRef(next.ref)] })
  // Without relay: no pass on.
  const never = context(async () => {
    t.fail('passed on without relay')
    return deeper
  })
  t.like(await answerRequest(never, request, (nodes[1] as ChordNode).ref), { done: false })
  // A request passed on passes the wire's schema as it decodes (the compiled check's fast path: the same object).
  for (const m of passed) {
    const decoded = decode(encode(m))
    t.true(validate(CHORD_PROTOCOL.request, decoded, 'chord request') === decoded)
  }
  t.throws(() => validate(CHORD_PROTOCOL.request, { ...request, relay: MAX_RELAY + 1 }, 'chord request'), {
    name: 'ProtocolError',
  })
})

test('attack: a relayed answer whose author (by) does not lie between the node asked and the key is not believed', async (t) => {
  const { nodes, routings } = converged()
  const origin = routings.get((nodes[0] as ChordNode).id) as ChordRouting
  const liar = origin as unknown as {
    rpc: (to: ChordNode, request: RequestOf<'find_successor'>) => Promise<unknown>
  }
  const honest = liar.rpc
  let lies = 0
  let checked = 0
  for (const key of keys) {
    const first = origin.step(key).nodes[0] as ChordNode
    if (origin.step(key).done) continue
    // The first node asked claims, for a relayed request, that the origin itself (behind it) answered done for the key.
    liar.rpc = async (to, request) => {
      if (to.id === first.id && request.relay !== undefined) {
        lies++
        return {
          type: 'step',
          done: true,
          nodes: [wireRef((nodes[1] as ChordNode).ref)],
          by: wireRef((nodes[0] as ChordNode).ref),
          hops: 1,
        }
      }
      return honest(to, request)
    }
    const found = await origin.lookup(key, { answers: 1, relay: true }).catch(() => undefined)
    liar.rpc = honest
    if (found === undefined) continue
    t.not(found.by?.id, (nodes[0] as ChordNode).id)
    t.is(found.nodes[0]?.id, successorIn(nodes, key).id, 'found through the other nodes it knows')
    checked++
  }
  t.true(lies > 10 && checked > 10, `${lies} lies, ${checked} lookups checked`)
})

test('published over a ring, a publish relays its lookups: every request it sends asks for one node and to be passed on, and each store goes to the node that answered done', async (t) => {
  const { clock, order, provider } = await publishingRing(t)
  const relays: (number | undefined)[] = []
  const storedAt: string[] = []
  const request = provider.network.request.bind(provider.network)
  provider.network.request = (async (to, protocol, message, opts) => {
    const m = message as RequestOf<'find_successor' | 'store'>
    if (m.type === 'find_successor') relays.push(m.relay)
    if (m.type === 'store') storedAt.push(typeof to === 'string' ? to : to.id)
    return request(to, protocol, message, opts)
  }) as typeof provider.network.request
  const records = ['ubuntu desktop amd64.iso', 'the big film 2002.mkv'].map((name) =>
    recordFor(provider.network.self(), name),
  )
  await clock.settle(provider.overlay.publish(records))
  t.true(relays.length > 0)
  t.deepEqual(
    relays.filter((r) => r !== MAX_RELAY),
    [],
    'every lookup request asks to be passed on',
  )
  // Every store went to the predecessor of one of the records' keys (global knowledge).
  const predecessors = new Set<string>()
  for (const r of records)
    for (const key of provider.overlay.keysOf(r)) {
      const s = order.findIndex((x) => x.id === successorIn(order, key).id)
      predecessors.add(
        (order[(s - 1 + order.length) % order.length] as (typeof order)[0]).node.network.peerId,
      )
    }
  t.true(storedAt.length > 0)
  for (const to of storedAt) t.true(predecessors.has(to), `a store to ${to}, a key's predecessor`)
})
