import '@peerkit/transport-memory'
import '@peerkit/index-memory'
import { IDENTITY, recordGrams, signRecord } from '@peerkit/core'
import test from 'ava'
import { CHORD_PROTOCOL, type Ring } from '../src/index.js'
import { adoptConverged, FROZEN, recordFor, startNode, type TestNode, virtualParent } from './helpers/ring.js'

test('a record stored as primary at a node that does not own any of its keys is passed on to the predecessor at once', async (t) => {
  const HOUR = 3_600_000
  // no timer runs during the test: only the pass-on can move the record
  // no n-gram keys: a record has two keys (hash, one word), so one with both at a is found in a few tries
  const chord = { ...FROZEN, refreshInterval: HOUR, recordTtl: 2 * HOUR, replication: 1, maxGramKeys: 0 }
  const { clock, parent } = virtualParent()
  const [first, second] = await Promise.all(
    ['a', 'b'].map((n) =>
      startNode(t, {
        transport: 'memory',
        listen: [`memory://chord-pass-on-${process.pid}-${n}`],
        chord,
        parent,
      }),
    ),
  )
  if (!first || !second) return t.fail('nodes did not start')
  const ring = first.overlay.ring as Ring
  adoptConverged([first, second])
  // a is the node that owns the larger arc (at least half the ring), so names whose every key it owns are common
  const arc = (n: TestNode, other: TestNode) => ring.distance(other.overlay.routing.id, n.overlay.routing.id)
  const [a, b] = arc(first, second) >= arc(second, first) ? [first, second] : [second, first]
  // a record of a's whose every key (content hash, keywords and their n-grams) a owns, so b owns none of them
  const ownedByA = (name: string) => {
    const r = recordFor(a.network.self(), name)
    const keys = [
      ring.contentKey(r.hash),
      ...r.keywords.map((k) => ring.keywordKey(k)),
      ...recordGrams(r.keywords, a.overlay.options.maxGramKeys).map((g) => ring.gramKey(g)),
    ]
    return keys.every((k) => a.overlay.routing.owns(k)) ? r : undefined
  }
  let record = ownedByA('stray')
  for (let i = 0; !record && i < 1000; i++) record = ownedByA(`stray${i}`)
  if (!record) return t.fail('no record with every key at a')
  t.is(a.overlay.stats().records, 0)
  // a stores it at b as if b were the key's successor (a newcomer, a, took the range over meanwhile)
  const identity = a.container.resolve(IDENTITY)
  const expires = clock.now() + HOUR
  const answer = await a.network.request(b.network.self(), CHORD_PROTOCOL, {
    type: 'store',
    records: [signRecord(identity, record, expires)],
    primary: true,
  })
  t.is(answer.type, 'ok')
  await clock.until(() => (a.overlay.stats().records as number) > 0, 5000, 'the record to reach its owner')
  t.is(a.overlay.stats().records, 1, 'the owner received the record from the node it was stored at')
  // a replica store (not primary) stays where it was sent
  const replica = signRecord(
    identity,
    { ...record, name: `${record.name} copy`, hash: record.hash.replace(/^./, '0') },
    expires,
  )
  await a.network.request(b.network.self(), CHORD_PROTOCOL, { type: 'store', records: [replica] })
  await clock.advance(300)
  t.is(a.overlay.stats().records, 1)
})
