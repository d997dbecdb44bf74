import '@peerkit/index-memory'
import '@peerkit/transfer'
import '@peerkit/transport-memory'
import '../src/index.js'
import { collect, keywords, type Peer } from '@peerkit/core'
import test, { type ExecutionContext } from 'ava'
import {
  infoSchema,
  SUPERNODE,
  type SupernodeOptions,
  type SupernodeOverlay,
  supernodeMessageSchema,
} from '../src/index.js'
import { virtualNet } from './helpers/virtual-net.js'

const ID = 'ab'.repeat(16)

test('the schemas accept each message kind and reject malformed ones', (t) => {
  const ok = [
    { kind: 'hello', addresses: ['memory://a'], capacity: 1, capable: true, supernodes: [] },
    { kind: 'query', id: ID, ttl: 2, hops: 0, query: { keywords: ['harry'] } },
    { kind: 'done', id: ID },
    { kind: 'move', to: [] },
    { kind: 'alive', known: 3 },
    { kind: 'attach', addresses: [], capacity: 1, capable: true, supernodes: [], alive: true },
    { kind: 'bye', reason: 'leaving' },
  ]
  for (const m of ok) t.true(supernodeMessageSchema.safeParse(m).success, m.kind)
  const bad = [
    { kind: 'query', id: 'short', ttl: 2, hops: 0, query: { keywords: ['x'] } },
    { kind: 'query', id: ID, ttl: 99, hops: 0, query: { keywords: ['x'] } },
    { kind: 'query', id: ID, ttl: 1, hops: 0, query: { keywords: ['x'], hash: 'a'.repeat(64) } },
    { kind: 'hit', id: ID, hops: 1, hits: [] },
    { kind: 'attach', addresses: [], capacity: -1, capable: true, supernodes: [] },
    { kind: 'alive', known: -1 },
    { kind: 'alive' },
    { kind: 'shout' },
  ]
  for (const m of bad) t.false(supernodeMessageSchema.safeParse(m).success, JSON.stringify(m))
  t.false(
    infoSchema.safeParse({
      kind: 'info',
      role: 'boss',
      accepted: true,
      leaves: 0,
      supernodes: [],
      candidates: [],
    }).success,
  )
})

test('a malformed message closes that connection; the supernode goes on serving the others', async (t) => {
  const { peers, clock } = await virtualNet(t, 3, {
    hopTimeout: 80,
    heartbeatInterval: 200,
    failoverTimeout: 400,
    maintenanceInterval: 100,
  })
  const [sn, liar, honest] = peers as [Peer, Peer, Peer]
  const snRef = { id: sn.id, addresses: sn.addresses() }
  const conn = await liar.network.connect(snRef)
  const closed = new Promise<void>((resolve) => conn.on('close', () => resolve()))
  // biome-ignore lint/suspicious/noExplicitAny: a lying peer sends what the types forbid
  await liar.network.send(snRef, SUPERNODE, { kind: 'query', id: 'nope', ttl: 99 } as any)
  await closed
  t.true(conn.closed, 'the connection that carried it is closed')
  await honest.overlay.publish([
    {
      hash: 'c'.repeat(64),
      name: 'still here.txt',
      size: 10,
      chunkSize: 65_536,
      keywords: keywords('still here.txt'),
      provider: { id: honest.id, addresses: honest.addresses() },
    },
  ])
  t.true(
    await clock.until(
      3000,
      async () =>
        (await collect(sn.overlay.search({ keywords: ['still', 'here'] }, { timeout: 500 }))).length === 1,
    ),
  )
  t.is((sn.overlay as SupernodeOverlay).role(), 'supernode')
})

/**
 * Two linked supernodes `a` and `b` of a 7-peer network, `b` holding one record named `word test.bin`,
 * and a `query` for `word` (id ID, TTL 1) for `a` to send `b` by hand.
 */
async function linkedPair(t: ExecutionContext, word: string, hash: string, options: SupernodeOptions = {}) {
  const { peers, clock } = await virtualNet(t, 7, {
    leavesPerSupernode: 2,
    hopTimeout: 80,
    heartbeatInterval: 200,
    maintenanceInterval: 100,
    demoteAfter: 0,
    ...options,
  })
  const sns = () => peers.filter((p) => (p.overlay as SupernodeOverlay).role() === 'supernode')
  const linked = () => sns().find((p) => (p.overlay as SupernodeOverlay).supernodes.size >= 1)
  t.true(await clock.until(8000, () => linked() !== undefined), 'two linked supernodes')
  const a = linked() as Peer
  const b = peers.find((p) => p.id === (a.overlay as SupernodeOverlay).supernodes.ids()[0]) as Peer
  await b.overlay.publish([
    {
      hash: hash.repeat(64),
      name: `${word} test.bin`,
      size: 10,
      chunkSize: 65_536,
      keywords: [word, 'test', 'bin'],
      provider: { id: b.id, addresses: b.addresses() },
    },
  ])
  const hitsAtA = () => ((a.overlay as SupernodeOverlay).stats().received.hit ?? 0) as number
  const atB = () => (b.overlay as SupernodeOverlay).stats()
  const query = { kind: 'query' as const, id: ID, ttl: 1, hops: 0, query: { keywords: [word] } }
  return { a, b, clock, hitsAtA, atB, query }
}

test('a query id seen before is dropped (duplicate suppression); a fresh one is answered', async (t) => {
  const { a, b, clock, hitsAtA, atB, query } = await linkedPair(t, 'loop', 'd')
  const dupsAtB = () => atB().duplicates as number
  const before = { hits: hitsAtA(), dups: dupsAtB() }
  await a.network.send(b.id, SUPERNODE, query)
  await a.network.send(b.id, SUPERNODE, query)
  await a.network.send(b.id, SUPERNODE, { ...query, id: 'cd'.repeat(16) })
  t.true(
    await clock.until(3000, () => hitsAtA() - before.hits === 2),
    'two answers: the first copy and the fresh id',
  )
  t.true(
    await clock.until(3000, () => dupsAtB() - before.dups === 1),
    'the second copy was dropped as a duplicate',
  )
  await clock.sleep(10 * 80) // ten hop timeouts of virtual time: anything still under way has arrived
  t.is(hitsAtA() - before.hits, 2, 'and nothing more came')
})

test('a duplicate is dropped before the rate: copies of a query a link sent take none of its tokens', async (t) => {
  // A burst of 3 and almost no refill: five copies of one query would take the link's last tokens
  // and throttle the fresh query after them, were a duplicate charged as a query.
  const { a, b, clock, hitsAtA, atB, query } = await linkedPair(t, 'rate', 'e', {
    queryRate: 0.001,
    queryBurst: 3,
  })
  const before = { hits: hitsAtA(), dups: atB().duplicates as number, throttled: atB().throttled as number }
  for (let i = 0; i < 6; i++) await a.network.send(b.id, SUPERNODE, query)
  await a.network.send(b.id, SUPERNODE, { ...query, id: 'ef'.repeat(16) })
  t.true(
    await clock.until(3000, () => hitsAtA() - before.hits === 2),
    'two answers: the first copy and the fresh id after the copies',
  )
  t.true(await clock.until(3000, () => (atB().duplicates as number) - before.dups === 5), 'five duplicates')
  t.is(atB().throttled, before.throttled, 'nothing throttled')
})
