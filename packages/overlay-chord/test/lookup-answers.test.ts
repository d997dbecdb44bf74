import '@peerkit/transport-memory'
import '@peerkit/index-memory'
import { decode, encode, validate } from '@peerkit/core/wire'
import test from 'ava'
import {
  CHORD_PROTOCOL,
  type ChordNode,
  type ChordRouting,
  type LookupOptions,
  parseChordOptions,
  type RecordStore,
  successorIn,
} from '../src/index.js'
import type { RequestOf } from '../src/messages.js'
import { Replication, type ReplicationContext } from '../src/replication.js'
import { CLOSER_NODES } from '../src/routing.js'
import { converged, ring } from './helpers/converged.js'
import { publishingRing, recordFor, type TestNode } from './helpers/ring.js'

// A batch's lookups ask each node for a few nodes (`find_successor.max`, `LookupOptions.answers`):
// a publish needs only the node that answers `done`, a withdrawal the key's holders.

const keys = Array.from({ length: 120 }, (_, i) => ring.hash(`answers-${i}`))

test('a step names at most max nodes: the first of the successor list when done, the closest preceding otherwise', (t) => {
  const { nodes, routings } = converged()
  const at = routings.get((nodes[0] as ChordNode).id) as ChordRouting
  let done = 0
  let closer = 0
  for (const key of keys) {
    const full = at.step(key)
    for (const max of [1, 2, 3, 64]) {
      const cut = at.step(key, undefined, max)
      t.is(cut.done, full.done)
      t.deepEqual(
        cut.nodes.map((n) => n.id),
        full.nodes.slice(0, max).map((n) => n.id),
        'the first max nodes of the full answer, in its order',
      )
    }
    if (full.done) done++
    else {
      closer++
      t.true(full.nodes.length <= CLOSER_NODES)
    }
  }
  t.true(done > 0 && closer > 0, `${done} done, ${closer} not`)
})

test('a lookup that asks for one node per answer finds the same successor through the same nodes in as many hops', async (t) => {
  const { nodes, routings, asked, named } = converged()
  let requests = 0
  for (const origin of nodes) {
    const from = routings.get(origin.id) as ChordRouting
    for (const key of keys.slice(0, 30)) {
      asked.length = 0
      const full = await from.lookup(key)
      const fullPath = [...asked]
      asked.length = 0
      named.length = 0
      const few = await from.lookup(key, { answers: 1 })
      t.deepEqual(asked, fullPath, 'the same nodes asked, in the same order')
      t.true(
        named.every((n) => n === 1),
        'every answer named one node',
      )
      t.is(few.hops, full.hops)
      t.is(few.by?.id, full.by?.id)
      t.is(few.nodes[0]?.id, successorIn(nodes, key).id)
      requests += asked.length
    }
  }
  t.true(requests > nodes.length * 30, 'most lookups asked some node')
})

test('a publish asks for one node per answer, a withdrawal for the key’s holders (replication)', async (t) => {
  const answers: (number | undefined)[] = []
  const options = parseChordOptions({ idDifficulty: 0, replication: 3 })
  const replication = new Replication({
    ring,
    options,
    routing: {
      self: { id: 0n, ref: { id: 'self', addresses: [] } },
      lookup: async (_key: bigint, o: LookupOptions) => {
        answers.push(o.answers)
        return { nodes: [], hops: 0, failures: 0 }
      },
    },
    running: () => true,
    signal: () => new AbortController().signal,
    call: async () => ({ type: 'ok' }),
  } as unknown as ReplicationContext)
  const record = recordFor({ id: 'p', addresses: [] }, 'the answers test.iso')
  await replication.store([{ ...record, expires: 1, signature: 's'.repeat(86) }])
  t.true(answers.length > 3, 'one lookup per key')
  t.true(answers.every((a) => a === 1))
  answers.length = 0
  await replication.remove([record])
  t.true(answers.length > 3)
  t.true(answers.every((a) => a === 3))
})

test('published over a ring, every record lands at the holders of each of its keys, while every lookup answer names one node', async (t) => {
  const { clock, chord, order, provider } = await publishingRing(t)
  // Every answer to the provider's find_successor requests, as the wire carried it.
  const stepSizes: number[] = []
  const maxes: (number | undefined)[] = []
  const request = provider.network.request.bind(provider.network)
  provider.network.request = (async (to, protocol, message, opts) => {
    const answer = await request(to, protocol, message, opts)
    if ((message as { type: string }).type === 'find_successor') {
      maxes.push((message as RequestOf<'find_successor'>).max)
      stepSizes.push((answer as { nodes: unknown[] }).nodes.length)
    }
    return answer
  }) as typeof provider.network.request
  const records = ['ubuntu desktop amd64.iso', 'debian netinst arm64.iso', 'the big film 2002.mkv'].map(
    (name) => recordFor(provider.network.self(), name),
  )
  const done = provider.overlay.publish(records)
  await clock.settle(done)
  await clock.advance(1000)
  t.true(stepSizes.length > 0, 'the provider asked other nodes')
  t.deepEqual(
    maxes.filter((m) => m !== 1),
    [],
    'every request asked for one node',
  )
  t.true(
    stepSizes.every((n) => n === 1),
    'every answer named one node',
  )
  // The holders of each key (global knowledge): its successor and the next two, each unless it may not hold the key
  // or does not take hand_ons from the key's predecessor, who hands the records on. A holder takes them only from a
  // sender within replication x replicaWindow of its own estimate of the mean gap: random ids can put the
  // predecessor outside it (the replicaWindow tail, docs/overlays/chord.md; it failed CI48 once at holder 1).
  const storeOf = (n: TestNode) => (n.overlay as unknown as { store: RecordStore }).store
  let copies = 0
  for (const r of records) {
    for (const key of provider.overlay.keysOf(r)) {
      const first = order.findIndex((x) => x.id === successorIn(order, key).id)
      const predecessor = (order[(first - 1 + order.length) % order.length] as (typeof order)[0]).node
      for (let i = 0; i < chord.replication; i++) {
        const holder = (order[(first + i) % order.length] as (typeof order)[0]).node
        const { replicaWindow } = holder.overlay.options
        const may = holder.overlay.routing.mayHold(key, chord.replication, replicaWindow)
        const takes = holder.overlay.routing.isNeighbor(
          predecessor.overlay.routing.id,
          chord.replication * replicaWindow,
        )
        if (!may || !takes) continue
        t.truthy(storeOf(holder).signed(r), `${r.name} at holder ${i} of key ${key}`)
        copies++
      }
    }
  }
  t.true(copies > records.length * 10, `${copies} copies checked`)
})

test('a find_successor request has no field set to undefined: it decodes on the wire codec’s fast path and passes the compiled check', async (t) => {
  const { nodes, routings, dead, requests } = converged()
  // Lookups of keys just past a dead node meet it on their way, and ask the node that named it again with `avoid`.
  const victims = [nodes[4], nodes[12], nodes[20]] as ChordNode[]
  for (const v of victims) dead.add(v.id)
  const targets = [...victims.map((v) => v.id + 1n), ...keys.slice(0, 10)]
  for (const origin of nodes) {
    const from = routings.get(origin.id) as ChordRouting
    for (const key of targets) {
      await from.lookup(key).catch(() => {}) // the dead node's own lookups fail: they are not what is checked
      await from.lookup(key, { answers: 1 }).catch(() => {}) // as above
    }
  }
  t.true(requests.some((r) => r.avoid !== undefined))
  t.true(requests.some((r) => r.avoid === undefined && r.max === 1))
  for (const r of requests) {
    t.deepEqual(
      Object.entries(r).filter(([, v]) => v === undefined),
      [],
    )
    // a field set to undefined travels as a msgpack extension (decoded as a key with no value, which the
    // compiled check leaves to zod: a new object); without one the check passes the decoded object as it is
    const decoded = decode(encode(r))
    t.true(validate(CHORD_PROTOCOL.request, decoded, 'chord request') === decoded)
  }
})
