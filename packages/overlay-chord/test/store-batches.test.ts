import type { SignedFileRecord } from '@peerkit/core'
import test from 'ava'
import { type ChordNode, type LookupOptions, parseChordOptions, Ring } from '../src/index.js'
import { MAX_RECORDS_PER_MESSAGE, type RequestOf } from '../src/messages.js'
import { Replication, type ReplicationContext, STORE_ROUND_KEYS } from '../src/replication.js'
import { fakeSignedRecord } from './helpers/ring.js'

const ring = Ring.of(64)
const node = (name: string): ChordNode => ({ id: ring.nodeId(name), ref: { id: name, addresses: [] } })

const record = (i: number): SignedFileRecord =>
  fakeSignedRecord(`film number ${i}.mkv`, i.toString(16).padStart(64, '0'))

/**
 * A Replication over a ring of `names` (global knowledge), counting lookups and stores in the order they run,
 * and the most stores each node had in flight at once (each store's answer comes a turn of the event loop later).
 */
function publisher(names: string[], storeRoundKeys?: number, concurrency?: number) {
  const nodes = names.map(node).sort((x, y) => (x.id < y.id ? -1 : 1))
  const successors = (key: bigint) => {
    const i = nodes.findIndex((n) => n.id >= key)
    const at = Math.max(i, 0)
    return [...nodes.slice(at), ...nodes.slice(0, at)]
  }
  const predecessor = (key: bigint) => successors(key).at(-1) as ChordNode
  const log: string[] = []
  const stores: { to: string; request: RequestOf<'store'> }[] = []
  const inFlight = new Map<string, number>()
  const peak = new Map<string, number>()
  const options = parseChordOptions({
    idDifficulty: 0,
    replication: 3,
    ...(concurrency ? { concurrency } : {}),
  })
  const replication = new Replication({
    ring,
    options,
    routing: {
      self: node('self'),
      lookup: async (key: bigint, o: LookupOptions) => {
        log.push('lookup')
        o.hints?.add(predecessor(key)) // it answered
        return { nodes: successors(key), hops: 1, failures: 0, by: predecessor(key) }
      },
      // knows no node inside an arc: the whole arc, but the successor's own id
      claimedSpan: (n: ChordNode, s: ChordNode) => ring.distance(n.id, s.id) - 1n,
    },
    call: async (to: ChordNode, request: RequestOf<'store'>) => {
      log.push('store')
      stores.push({ to: to.ref.id, request })
      const busy = (inFlight.get(to.ref.id) ?? 0) + 1
      inFlight.set(to.ref.id, busy)
      peak.set(to.ref.id, Math.max(peak.get(to.ref.id) ?? 0, busy))
      await new Promise((resolve) => setImmediate(resolve))
      inFlight.set(to.ref.id, busy - 1)
      return { type: 'ok' }
    },
    running: () => true,
    signal: () => new AbortController().signal,
    ...(storeRoundKeys === undefined ? {} : { storeRoundKeys }),
  } as unknown as ReplicationContext)
  return { replication, nodes, successors, predecessor, log, stores, peak }
}

test('a publish sends the predecessor of every key the records of its keys, each once a round, and looks up only one key of each arc a run meets', async (t) => {
  const { replication, predecessor, stores, log } = publisher(['n1', 'n2', 'n3', 'n4', 'n5'])
  const records = Array.from({ length: 12 }, (_, i) => record(i))
  await replication.store(records)
  const keys = new Set(records.flatMap((r) => replication.keysOf(r)))
  const lookups = log.filter((x) => x === 'lookup').length
  // eight runs of consecutive keys, each meeting some of the five arcs (the last node's arc wraps round)
  t.true(lookups <= 5 + 8, `${lookups} lookups for ${keys.size} keys`)
  t.true(stores.length <= lookups, `${stores.length} stores`)
  const got = new Map<string, Set<string>>()
  for (const { to, request } of stores) {
    t.true(request.forward, 'every store is forwarded')
    t.false('primary' in request, 'a forwarded store carries no primary field')
    const set = new Set<string>()
    for (const r of request.records) {
      t.false(set.has(r.hash), `${r.name} twice in one store to ${to}`)
      set.add(r.hash)
    }
    const all = got.get(to) ?? new Set<string>()
    for (const h of set) {
      t.false(all.has(h), `a record sent ${to} twice in one round`)
      all.add(h)
    }
    got.set(to, all)
  }
  for (const r of records)
    for (const key of replication.keysOf(r)) {
      const p = predecessor(key)
      t.true(got.get(p.ref.id)?.has(r.hash), `${r.name} at ${p.ref.id} for key ${ring.toHex(key)}`)
    }
})

test('a run sends a node its store as soon as it meets a key past that node’s arc, before its next lookup (over the connection the lookup just used)', async (t) => {
  const { replication, log, stores, predecessor } = publisher(['n1', 'n2', 'n3', 'n4', 'n5'], undefined, 1)
  const records = Array.from({ length: 6 }, (_, i) => record(100 + i))
  const keys = [...new Set(records.flatMap((r) => replication.keysOf(r)))].sort((a, b) => (a < b ? -1 : 1))
  await replication.store(records)
  t.true(keys.length > 20, `${keys.length} keys`)
  t.regex(log.join(' '), /^(lookup store ?)+$/, 'each lookup’s store follows it at once')
  // one run: one lookup per arc met in ring order (the first node's arc holds both ends of the ring)
  const arcs = keys.map((k) => predecessor(k).ref.id).filter((p, i, a) => i === 0 || p !== a[i - 1])
  t.is(log.filter((x) => x === 'lookup').length, arcs.length)
  t.deepEqual(
    stores.map((s) => s.to),
    arcs,
  )
})

test(`a publish looks up at most STORE_ROUND_KEYS (${STORE_ROUND_KEYS}) keys a round, and sends every store of a round before the next`, async (t) => {
  const { replication, log } = publisher(['n1', 'n2', 'n3', 'n4', 'n5'], 10, 1)
  const records = Array.from({ length: 6 }, (_, i) => record(100 + i))
  const keys = new Set(records.flatMap((r) => replication.keysOf(r))).size
  await replication.store(records)
  // a round of 10 keys in ring order meets at most 5 arcs (6 when it wraps): at least one lookup, at most 6
  const lookups = log.filter((x) => x === 'lookup').length
  const rounds = Math.ceil(keys / 10)
  t.true(lookups >= rounds && lookups <= rounds * 6, `${lookups} lookups in ${rounds} rounds`)
  t.regex(log.join(' '), /^(lookup store ?)+$/)
})

test('attack: a node that answered a lookup but is not among the batch’s hints, or whose arc does not hold the key, claims no other key: each is looked up', async (t) => {
  const names = ['n1', 'n2', 'n3']
  const nodes = names.map(node).sort((x, y) => (x.id < y.id ? -1 : 1))
  const successors = (key: bigint) => {
    const at = Math.max(
      nodes.findIndex((n) => n.id >= key),
      0,
    )
    return [...nodes.slice(at), ...nodes.slice(0, at)]
  }
  const run = async (answer: (key: bigint, o: LookupOptions) => { nodes: ChordNode[]; by: ChordNode }) => {
    let lookups = 0
    let spans = 0
    const replication = new Replication({
      ring,
      options: parseChordOptions({ idDifficulty: 0, concurrency: 1 }),
      routing: {
        self: node('self'),
        lookup: async (key: bigint, o: LookupOptions) => {
          lookups++
          return { ...answer(key, o), hops: 1, failures: 0 }
        },
        claimedSpan: (n: ChordNode, s: ChordNode) => {
          spans++
          return ring.distance(n.id, s.id) - 1n
        },
      },
      call: async () => ({ type: 'ok' }),
      running: () => true,
      signal: () => new AbortController().signal,
    } as unknown as ReplicationContext)
    const records = Array.from({ length: 5 }, (_, i) => record(200 + i))
    await replication.store(records)
    return { lookups, spans, keys: new Set(records.flatMap((r) => replication.keysOf(r))).size }
  }
  const liar = nodes[0] as ChordNode
  // a node that answered but was not made a hint (a lookup would not start there): no arc
  const unhinted = await run((key) => ({ nodes: successors(key), by: successors(key).at(-1) as ChordNode }))
  t.is(unhinted.lookups, unhinted.keys)
  t.is(unhinted.spans, 0)
  // an answer whose arc misses the key asked: no arc either
  const missing = await run((_key, o) => {
    o.hints?.add(liar)
    return { nodes: [liar], by: liar }
  })
  t.is(missing.lookups, missing.keys)
  // an answer that holds the key: its arc (as `claimedSpan` bounds it) saves lookups
  const honest = await run((key, o) => {
    const p = successors(key).at(-1) as ChordNode
    o.hints?.add(p)
    return { nodes: successors(key), by: p }
  })
  t.true(honest.lookups < honest.keys / 4, `${honest.lookups} lookups for ${honest.keys} keys`)
})

test('a publish sends one node its stores one after another (it hands on at most MAX_FORWARDS_IN_FLIGHT of one sender’s at once), other nodes’ beside them', async (t) => {
  const { replication, stores, peak } = publisher(['n1', 'n2'])
  // 2,500 records of one keyword: that key's predecessor gets them in three stores, the other node at least two
  const records = Array.from({ length: 2500 }, (_, i) => record(1000 + i))
  await replication.store(records)
  const to = new Map<string, number>()
  for (const s of stores) to.set(s.to, (to.get(s.to) ?? 0) + 1)
  t.log(JSON.stringify([...to]), stores.map((s) => s.request.records.length).join(' '))
  t.true([...to.values()].every((n) => n >= 2) && to.size === 2, JSON.stringify([...to]))
  t.true(stores.every((s) => s.request.records.length <= MAX_RECORDS_PER_MESSAGE))
  t.deepEqual([...peak.values()], [1, 1], 'one store in flight to a node at a time')
})
