import { createHash } from 'node:crypto'
import { type FileRecord, keywords } from '@peerkit/core'
import test from 'ava'
import { ChordRouting, parseChordOptions, Ring } from '../src/index.js'
import { Replication, type ReplicationContext } from '../src/replication.js'
import { RECORD_KEY_CACHE } from '../src/ring.js'
import { HOLDS, HOLDS_NOT, OWNS } from '../src/routing.js'

const ring = Ring.of(64)

const named = (name: string): FileRecord => ({
  hash: createHash('sha256').update(name).digest('hex'),
  name,
  size: 1,
  chunkSize: 1024,
  keywords: keywords(name),
  provider: { id: 'p', addresses: [] },
})

test('a holder tests a received record’s keys in keysOf’s order, up to the first one it may hold', (t) => {
  const options = parseChordOptions({ idDifficulty: 0 })
  const replication = new Replication({ ring, options } as unknown as ReplicationContext)
  const record = named('the quick brown fox jumps.mkv')
  const all = replication.keysOf({ ...record }) // another object: nothing cached for `record`
  t.true(all.length > 10)
  const wanted = all[2] as bigint // the second keyword's key
  const tried: bigint[] = []
  t.true(
    replication.someKey(record, (k) => {
      tried.push(k)
      return k === wanted
    }),
  )
  t.deepEqual(tried, all.slice(0, 3))
  // a record it may hold under none: every key tried, in the order keysOf gives
  tried.length = 0
  t.false(
    replication.someKey(record, (k) => {
      tried.push(k)
      return false
    }),
  )
  t.deepEqual(tried, all)
})

test('a maintenance pass over the records held keeps no key array per record: the ring’s cache of records’ keys is bounded', async (t) => {
  const options = parseChordOptions({ idDifficulty: 0 })
  const counting = new Ring(64)
  let hashed = 0
  const contentKey = counting.contentKey.bind(counting)
  counting.contentKey = (h: string) => {
    hashed++
    return contentKey(h)
  }
  const held = named('held for another.iso')
  const node = (id: bigint) => ({ id, ref: { id: `n${id}`, addresses: [] } })
  const pushed: unknown[] = []
  const replication = new Replication({
    ring: counting,
    options,
    routing: { predecessor: node(1n), successors: [node(2n), node(3n)], ownsTest: () => () => true },
    store: {
      records: () => [held],
      signed: (r: FileRecord) => ({ ...r, expires: 10, signature: 's' }),
      remaining: () => 5,
    },
    clock: { now: () => 0 },
    call: async (_n: unknown, request: unknown) => {
      pushed.push(request)
      return { type: 'ok' }
    },
    running: () => true,
    signal: () => new AbortController().signal,
  } as unknown as ReplicationContext)
  replication.maintain() // two fresh replicas: the primary records (all: it owns every key) are pushed
  await Promise.resolve()
  t.is(pushed.length, 2, 'to each of the two fresh replicas')
  t.is(hashed, 1, 'its content key was tested')
  replication.someKey(held, () => true)
  t.is(hashed, 1, 'tested again at once: its keys come from the ring’s cache')
  for (let i = 0; i < RECORD_KEY_CACHE; i++) {
    const other = named(`other ${i}.iso`)
    counting.recordKeys(other.hash, other.keywords, options.maxGramKeys)
  }
  t.is(hashed, 1 + RECORD_KEY_CACHE)
  replication.someKey(held, () => true)
  t.is(hashed, 2 + RECORD_KEY_CACHE, 'after as many other records: its keys were dropped, and computed again')
})

test('keyRole and ownsTest say what owns and mayHold say of every key: owned, held as a replica, or neither', (t) => {
  const small = Ring.of(12)
  const node = (id: bigint) => ({ id, ref: { id: `n${id}`, addresses: [] } })
  const routing = (self: bigint, predecessor: bigint | undefined, successors: bigint[]) => {
    const r = new ChordRouting(
      small,
      () => node(self),
      3,
      (() => Promise.reject(new Error('no rpc'))) as never,
      {
        predecessorChanged: () => {},
        neighborsChanged: () => {},
      },
    )
    r.adopt({
      ...(predecessor !== undefined ? { predecessor: node(predecessor) } : {}),
      successors: successors.map(node),
      fingers: [],
    })
    return r
  }
  const cases = [
    routing(2100n, 1500n, [2900n, 3300n, 3900n]), // a full list: mayHold reaches holders × window gaps back
    routing(40n, 3900n, [700n, 1500n, 2100n]), // the arc (predecessor, n] wraps round 0
    routing(300n, 40n, [900n, 1500n, 2100n]), // the arc of the replicas' keys wraps round 0, not the owned one
    routing(2000n, 100n, [2100n, 2200n, 2300n]), // the predecessor lies farther back than the replicas' arc reaches
    routing(700n, 40n, [1500n]), // too few successors: no mean gap, every key may be held
    routing(1500n, undefined, [2100n, 2900n, 3300n]), // no predecessor: owns every key
    routing(2900n, 2900n, [3300n, 3900n, 40n]), // itself as predecessor: the whole ring
  ]
  let roles = 0
  // Every key; with a window of 4 the replicas' arc covers the whole ring at the first node, and nearly at the third.
  for (const window of [1, 2, 4]) {
    for (const r of cases) {
      const role = r.keyRole(2, window)
      const hold = r.holdTest(2, window)
      const owns = r.ownsTest()
      const gap = r.meanGap() // by definition: within 2 × window mean gaps before the node, or any key without a mean gap
      for (let key = 0n; key < small.size; key++) {
        const near = gap === undefined || small.distance(key, r.id) <= gap * 2n * BigInt(window)
        const want = r.owns(key) ? OWNS : near ? HOLDS : HOLDS_NOT
        if (role(key) !== want)
          t.fail(`node ${r.id}, window ${window}, key ${key}: ${role(key)}, not ${want}`)
        if (hold(key) !== (want !== HOLDS_NOT)) t.fail(`node ${r.id}, key ${key}: holdTest disagrees`)
        if (owns(key) !== r.owns(key)) t.fail(`node ${r.id}, key ${key}: ownsTest disagrees`)
        roles |= 1 << role(key)
      }
    }
  }
  t.is(roles, 0b111, 'every role is met')
})
