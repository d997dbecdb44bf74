import type { SignedFileRecord } from '@peerkit/core'
import test from 'ava'
import { type ChordNode, type LookupOptions, parseChordOptions, Ring } from '../src/index.js'
import { MAX_RECORDS_PER_MESSAGE, type RequestOf } from '../src/messages.js'
import { ForwardBatches, Replication, type ReplicationContext, STORE_ROUND_KEYS } from '../src/replication.js'
import { fakeSignedRecord } from './helpers/ring.js'

const ring = Ring.of(64)
const node = (name: string): ChordNode => ({ id: ring.nodeId(name), ref: { id: name, addresses: [] } })

const record = (i: number): SignedFileRecord =>
  fakeSignedRecord(`film number ${i}.mkv`, i.toString(16).padStart(64, '0'))

test('forward batches: one store per node that answered, each record once, the node found last first, all marked forward', (t) => {
  const [a, b, c] = [node('a'), node('b'), node('c')]
  const [r1, r2, r3] = [record(1), record(2), record(3)]
  const batches = new ForwardBatches()
  batches.add(a, [r1]) // a answered the lookup of a key of r1
  batches.add(b, [r1, r2])
  batches.add(a, [r1, r2]) // another key of r1 and r2: a again
  batches.add(c, [r3])
  t.is(batches.size, 3)
  const sent = batches.requests().map(({ node: n, request }) => ({
    to: n.ref.id,
    forward: request.forward === true,
    records: request.records.map((r) => r.name),
  }))
  t.deepEqual(sent, [
    { to: 'c', forward: true, records: [r3.name] },
    { to: 'b', forward: true, records: [r1.name, r2.name] },
    { to: 'a', forward: true, records: [r1.name, r2.name] },
  ])
  t.false(
    batches.requests().some(({ request }) => 'primary' in request),
    'a forwarded store carries no primary field',
  )
})

test(`forward batches: a store never carries more than MAX_RECORDS_PER_MESSAGE (${MAX_RECORDS_PER_MESSAGE}) records`, (t) => {
  const a = node('a')
  const many = Array.from({ length: MAX_RECORDS_PER_MESSAGE * 2 + 5 }, (_, i) => record(i))
  const batches = new ForwardBatches()
  batches.add(a, many)
  const sizes = batches.requests().map(({ request }) => request.records.length)
  t.deepEqual(sizes, [MAX_RECORDS_PER_MESSAGE, MAX_RECORDS_PER_MESSAGE, 5])
  t.deepEqual(
    batches.requests().flatMap(({ request }) => request.records),
    many,
    'every record once, in order',
  )
})

/**
 * A Replication over a ring of `names` (global knowledge), counting lookups and stores in the order they run,
 * and the most stores each node had in flight at once (each store's answer comes a turn of the event loop later).
 */
function publisher(names: string[], storeRoundKeys?: number) {
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
  const options = parseChordOptions({ idDifficulty: 0, replication: 3 })
  const replication = new Replication({
    ring,
    options,
    routing: {
      self: node('self'),
      lookup: async (key: bigint, _o: LookupOptions) => {
        log.push('lookup')
        return { nodes: successors(key), hops: 1, failures: 0, by: predecessor(key) }
      },
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
  return { replication, nodes, successors, log, stores, peak }
}

test('a publish sends each node that answered a round’s lookups one forwarded store with the records of its keys, each once', async (t) => {
  const { replication, successors, stores } = publisher(['n1', 'n2', 'n3', 'n4', 'n5'])
  const records = Array.from({ length: 12 }, (_, i) => record(i))
  await replication.store(records)
  const keys = new Set(records.flatMap((r) => replication.keysOf(r)))
  // before: one store per holder, primary and replica apart (up to 10); one per key and holder before that
  t.true(stores.length <= 5, `${stores.length} stores for ${keys.size} keys`)
  const got = new Map<string, Set<string>>()
  for (const { to, request } of stores) {
    t.true(request.forward, 'every store is forwarded')
    t.false(got.has(to), `one store to ${to}`)
    const set = new Set<string>()
    for (const r of request.records) {
      t.false(set.has(r.hash), `${r.name} sent twice to ${to}`)
      set.add(r.hash)
    }
    got.set(to, set)
  }
  for (const r of records)
    for (const key of replication.keysOf(r)) {
      const predecessor = successors(key).at(-1) as ChordNode
      t.true(
        got.get(predecessor.ref.id)?.has(r.hash),
        `${r.name} at ${predecessor.ref.id} for key ${ring.toHex(key)}`,
      )
    }
})

test(`a publish looks up at most STORE_ROUND_KEYS (${STORE_ROUND_KEYS}) keys before it sends their stores`, async (t) => {
  const { replication, log } = publisher(['n1', 'n2', 'n3', 'n4', 'n5'], 10)
  const records = Array.from({ length: 6 }, (_, i) => record(100 + i))
  const keys = new Set(records.flatMap((r) => replication.keysOf(r))).size
  await replication.store(records)
  t.true(keys > 20, `${keys} keys`)
  // rounds: up to 10 lookups, then that round's stores
  const rounds = log.join(' ').split(/(?<=store) (?=lookup)/)
  t.is(rounds.length, Math.ceil(keys / 10))
  for (const round of rounds) {
    const lookups = round.split(' ').filter((x) => x === 'lookup').length
    t.true(lookups <= 10, round)
    t.regex(round, /^(lookup )+(store ?)+$/, 'a round’s stores follow all its lookups')
  }
})

test('a publish sends one node its stores of a round one after another (it hands on at most MAX_FORWARDS_IN_FLIGHT of one sender’s at once), other nodes’ beside them', async (t) => {
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
