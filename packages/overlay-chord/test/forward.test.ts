import '@peerkit/transport-memory'
import '@peerkit/index-memory'
import { TestClock } from '@peerkit/compliance'
import { CLOCK, IDENTITY, Identity, recordGrams, type SignedFileRecord, signRecord } from '@peerkit/core'
import { MemoryNetwork, memoryContainer } from '@peerkit/transport-memory'
import test, { type ExecutionContext } from 'ava'
import {
  CHORD_PROTOCOL,
  type ChordOptions,
  MAX_FORWARDS_IN_FLIGHT,
  type RecordStore,
  solvesPuzzle,
} from '../src/index.js'
import {
  adoptConverged,
  FROZEN,
  rawPeer,
  recordFor,
  signedFor,
  sorted,
  startRing,
  TEST_DIFFICULTY,
  type TestNode,
} from './helpers/ring.js'

// A provider's store goes to the node that answered its keys' lookups (their predecessor), with
// `forward`; that node hands the records on, one-way (`hand_on`), to the keys' holders among its
// successors. These tests mount it by hand against a real in-process ring in virtual time.

/** Within `recordTtl` (360 s by default): what a record is signed for here. */
const LIFE = 300_000
// No n-gram keys: a record has two keys (its hash, one word), so records with keys where a test wants them are found in a few tries.
const CHORD: ChordOptions = { ...FROZEN, successors: 4, replication: 2, replicaWindow: 4, maxGramKeys: 0 }

async function virtualRing(t: ExecutionContext, n: number, chord = CHORD) {
  const clock = new TestClock()
  const hub = new MemoryNetwork()
  const parent = memoryContainer(hub)
  parent.register(CLOCK, { useValue: clock })
  const nodes = await startRing(t, n, { chord, parent })
  adoptConverged(nodes, CHORD.successors)
  return { clock, hub, parent, nodes }
}

const storeOf = (node: TestNode) => (node.overlay as unknown as { store: RecordStore }).store

/** The record's keys: content hash, keywords, n-grams. */
function keysOf(node: TestNode, r: SignedFileRecord): bigint[] {
  const ring = node.overlay.ring
  return [
    ring.contentKey(r.hash),
    ...r.keywords.map((k) => ring.keywordKey(k)),
    ...recordGrams(r.keywords, node.overlay.options.maxGramKeys).map((g) => ring.gramKey(g)),
  ]
}

/** A record by `identity` whose keys `test` accepts, found by trying names. */
function recordWhere(
  identity: Identity,
  provider: TestNode['network'] | Awaited<ReturnType<typeof rawPeer>>['network'],
  node: TestNode,
  prefix: string,
  accept: (keys: bigint[]) => boolean,
  expires: number,
): SignedFileRecord | undefined {
  for (let i = 0; i < 20_000; i++) {
    const r = signedFor(identity, provider.self(), `${prefix}${i}`, expires)
    if (accept(keysOf(node, r))) return r
  }
  return undefined
}

test('a forwarded store reaches the first replication successors of the predecessor it was sent to, the first as primary; the predecessor keeps none', async (t) => {
  const { clock, parent, nodes } = await virtualRing(t, 16)
  const order = sorted(nodes).map((x) => x.node)
  const p = order[5] as TestNode
  const [s0, s1, s2] = [order[6], order[7], order[8]] as [TestNode, TestNode, TestNode]
  const ring = p.overlay.ring
  const { network: provider, identity } = await rawPeer(t, { parent })
  const expires = clock.now() + LIFE
  // a record with a key in (p, s0] and none further on to s2 (its other keys are other predecessors' to forward);
  // s1 may hold that key (its replica window, measured in its own estimate of the mean gap, can miss a key of a
  // wide arc with random ids)
  const within = (k: bigint, a: TestNode, b: TestNode) =>
    ring.within(k, a.overlay.routing.id, b.overlay.routing.id, '(]')
  const { replication, replicaWindow } = s1.overlay.options
  const record = recordWhere(
    identity,
    provider,
    p,
    'forwarded',
    (keys) =>
      keys.some((k) => within(k, p, s0) && s1.overlay.routing.mayHold(k, replication, replicaWindow)) &&
      !keys.some((k) => within(k, s0, s2)),
    expires,
  )
  if (!record) return t.fail('no record with a key in (p, s0]')
  const answer = await provider.request(p.network.self(), CHORD_PROTOCOL, {
    type: 'store',
    records: [record],
    forward: true,
  })
  t.is(answer.type, 'ok')
  await clock.advance(100)
  t.truthy(storeOf(s0).signed(record), 'the key’s successor holds it')
  t.truthy(storeOf(s1).signed(record), 'its replica holds it')
  t.falsy(storeOf(p).signed(record), 'the predecessor only passed it on')
  t.falsy(storeOf(s2).signed(record), 'replication 2: no third holder')
  t.is(p.overlay.stats().sent.hand_on, 2)
  t.is(s0.overlay.stats().received.hand_on, 1)
})

test('attack: forwarded stores carry only the sender’s own records, signed; a node hands on only what it precedes; a hand_on from outside the key range keeps nothing', async (t) => {
  // replicaWindow 1: a node takes a hand_on only from within 2 mean gaps of it
  const { clock, parent, nodes } = await virtualRing(t, 16, { ...CHORD, replicaWindow: 1 })
  const order = sorted(nodes).map((x) => x.node)
  const p = order[3] as TestNode
  const ring = p.overlay.ring
  const honest = order[10] as TestNode
  const target = order[12] as TestNode
  // the attacker: a key that solves the puzzle, off the ring, no neighbor of the target
  const far = (id: Identity) =>
    solvesPuzzle(id.peerId, TEST_DIFFICULTY) && !target.overlay.routing.isNeighbor(ring.nodeId(id.peerId), 2)
  let identity = Identity.generate()
  for (let i = 0; !far(identity); i++) {
    if (i > 50_000) return t.fail('no key far from the target')
    identity = Identity.generate()
  }
  const { network: evil } = await rawPeer(t, { identity, parent })
  const expires = clock.now() + LIFE

  // someone else's record, or one whose signature does not check: refused, nothing handed on
  const theirs = signRecord(
    honest.container.resolve(IDENTITY),
    recordFor(honest.network.self(), 'Honest.Release.iso'),
    expires,
  )
  await t.throwsAsync(
    evil.request(p.network.self(), CHORD_PROTOCOL, { type: 'store', records: [theirs], forward: true }),
    { name: 'ProtocolError', message: /tried to store a record of provider/ },
  )
  const mine = signedFor(identity, evil.self(), 'Attacker.Own.iso', expires)
  const forged = { ...mine, name: 'Attacker.Renamed.iso', keywords: ['attacker', 'renamed', 'iso'] }
  await t.throwsAsync(
    evil.request(p.network.self(), CHORD_PROTOCOL, { type: 'store', records: [forged], forward: true }),
    { name: 'ProtocolError', message: /signature does not check/ },
  )

  // its own records with no key the node precedes (in (p, its last successor]): answered, handed on to nobody
  const last = p.overlay.routing.successors.at(-1)?.id as bigint
  const elsewhere = recordWhere(
    identity,
    evil,
    p,
    'elsewhere',
    (keys) => !keys.some((k) => ring.within(k, p.overlay.routing.id, last, '(]')),
    expires,
  )
  if (!elsewhere) return t.fail('no record without a key near p')
  t.is(
    (
      await evil.request(p.network.self(), CHORD_PROTOCOL, {
        type: 'store',
        records: [elsewhere],
        forward: true,
      })
    ).type,
    'ok',
  )
  await clock.advance(100)
  t.is(p.overlay.stats().sent.hand_on, undefined, 'nothing handed on')

  // a one-way hand_on straight from the attacker (no neighbor of the target): the target keeps nothing of it
  const held = recordWhere(
    identity,
    evil,
    target,
    'handed',
    (keys) => keys.some((k) => target.overlay.routing.owns(k)),
    expires,
  )
  if (!held) return t.fail('no record with a key at the target')
  await evil.send(target.network.self(), CHORD_PROTOCOL, {
    type: 'hand_on',
    records: [held],
    ttls: [LIFE],
    primary: true,
  })
  await clock.advance(100)
  t.is(target.overlay.stats().received.hand_on, 1, 'the message arrived')
  for (const n of nodes) t.is(storeOf(n).usageOf(evil.peerId).records, 0)
})

test('a primary hand_on at a node that owns none of the record’s keys is passed on to its predecessor', async (t) => {
  const { clock, nodes } = await virtualRing(t, 8)
  const order = sorted(nodes).map((x) => x.node)
  const ring = (order[0] as TestNode).overlay.ring
  // a: the node with the widest arc (records all of whose keys it owns are then found in a few tries); b: its successor
  const arc = (i: number) =>
    ring.distance(
      (order[(i + order.length - 1) % order.length] as TestNode).overlay.routing.id,
      (order[i] as TestNode).overlay.routing.id,
    )
  let widest = 0
  for (let i = 1; i < order.length; i++) if (arc(i) > arc(widest)) widest = i
  const [a, b] = [order[widest], order[(widest + 1) % order.length]] as [TestNode, TestNode]
  const identity = a.container.resolve(IDENTITY)
  // a record of a's every key of which a owns: handed to b as if b were their successor (a stale list at the sender);
  // b keeps, and so passes on, only a record it may hold as a replica (its replica window is estimated from its
  // successor list: random ids may leave a's far keys outside it)
  const { replication, replicaWindow } = b.overlay.options
  const record = recordWhere(
    identity,
    a.network,
    a,
    'stray',
    (keys) =>
      keys.every((k) => a.overlay.routing.owns(k)) &&
      keys.some((k) => b.overlay.routing.mayHold(k, replication, replicaWindow)),
    clock.now() + LIFE,
  )
  if (!record) return t.fail('no record with every key at a')
  t.false(b.overlay.routing.owns(ring.contentKey(record.hash)), 'b owns none of its keys')
  await a.network.send(b.network.self(), CHORD_PROTOCOL, {
    type: 'hand_on',
    records: [record],
    ttls: [LIFE],
    primary: true,
  })
  await clock.until(() => storeOf(a).signed(record) !== undefined, 5000, 'the record to reach its owner')
  t.truthy(storeOf(a).signed(record), 'the owner received it from the node it was handed to')
})

test('attack: a peer that sends forwarded stores one-way, waiting for no answer, has at most MAX_FORWARDS_IN_FLIGHT of them handed on at once; the rest are refused and nothing of them is sent', async (t) => {
  const { clock, hub, parent, nodes } = await virtualRing(t, 16)
  const order = sorted(nodes).map((x) => x.node)
  // p: order[5], or the next node whose arc is not narrow and whose hand_ons its second successor s1 takes. Random
  // ids can make an arc too narrow to find 100 records with a key in it ("too few records", once in about a
  // hundred runs), or put p outside the span s1 takes hand_ons from (replication x replicaWindow of s1's own
  // estimate of the mean gap: s1 refuses them and "the records to reach s1" fails, 3 runs in 100)
  const ring = (order[0] as TestNode).overlay.ring
  const node = (i: number) => order[i % order.length] as TestNode
  const narrow = ring.size / BigInt(order.length * 4)
  const fits = (i: number) => {
    const { replication, replicaWindow } = node(i + 2).overlay.options
    return (
      ring.distance(node(i).overlay.routing.id, node(i + 1).overlay.routing.id) >= narrow &&
      node(i + 2).overlay.routing.isNeighbor(node(i).overlay.routing.id, replication * replicaWindow)
    )
  }
  let at = 5
  while (!fits(at)) {
    at = (at + 1) % order.length
    if (at === 5)
      return t.fail('no node whose arc is wide enough and whose hand_ons its second successor takes')
  }
  const p = node(at)
  const [s0, s1] = [node(at + 1), node(at + 2)]
  const { network: evil, identity } = await rawPeer(t, { parent })
  const expires = clock.now() + LIFE
  // 100 of its own records with a key in (p, s0] that s1 may hold as a replica: each forwarded store hands about
  // 40 KB on to s0 and s1 (s1's replica window, measured in its own estimate of the mean gap, can miss a key of
  // a wide arc: then s1 would keep nothing of it, as it failed once at another p)
  const { replication, replicaWindow } = s1.overlay.options
  const records: SignedFileRecord[] = []
  for (let i = 0; records.length < 100; i++) {
    if (i > 20_000) return t.fail('too few records with a key in (p, s0] that s1 may hold')
    const r = signedFor(identity, evil.self(), `flood${i}`, expires)
    if (
      keysOf(p, r).some(
        (k) =>
          ring.within(k, p.overlay.routing.id, s0.overlay.routing.id, '(]') &&
          s1.overlay.routing.mayHold(k, replication, replicaWindow),
      )
    )
      records.push(r)
  }
  // p's links out are slow (10 kB/s): once a megabyte waits in a link's buffer, p's hand-ons wait for room
  const name = hub.names().find((n) => p.network.addresses()[0]?.endsWith(n))
  if (!name) return t.fail('p has no memory name')
  hub.setBandwidth((from) => (from === name ? 10_000 : Number.POSITIVE_INFINITY))
  const forward = { type: 'store', records, forward: true } as const
  const handedOn = () => p.overlay.stats().sent.hand_on ?? 0
  // sends without waiting, then lets p take every message in (no virtual time passes: p's links stay full)
  const burst = async (n: number) => {
    for (let i = 0; i < n; i++) void evil.send(p.network.self(), CHORD_PROTOCOL, forward)
    for (let seen = -1; seen !== p.overlay.stats().received.store; ) {
      seen = p.overlay.stats().received.store ?? 0
      await clock.advance(0)
    }
  }
  // bursts of 20 until one hands nothing on: each lets the stores whose hand-ons found room finish, until
  // p's links hold a megabyte each and MAX_FORWARDS_IN_FLIGHT stores wait for room (unbounded, it never stops)
  let sent = 0
  for (let before = -1; handedOn() !== before; sent += 20) {
    if (sent >= 400)
      return t.fail(`p handed on ${handedOn()} hand-ons of ${sent} forwarded stores and goes on`)
    before = handedOn()
    await burst(20)
  }
  t.is(p.overlay.stats().received.store, sent)
  t.true(
    handedOn() < sent,
    `p handed on fewer than half of the stores (${handedOn()} hand-ons of ${sent} stores)`,
  )
  // (p's answer crosses its slow link too: the clock runs until it arrives)
  t.log(`${handedOn()} hand-ons for ${sent} forwarded stores`)
  const stuck = handedOn()
  await t.throwsAsync(clock.settle(evil.request(p.network.self(), CHORD_PROTOCOL, forward), 60_000), {
    name: 'RateLimitError',
    message: new RegExp(`${MAX_FORWARDS_IN_FLIGHT} of its forwarded stores are still being handed on`),
  })
  t.is(handedOn(), stuck, 'nothing handed on for the refused store')
  // the links drain (at most 8 stores x 2 holders x 40 KB waited): the sender's stores are taken again, and arrive
  await clock.advance(200_000)
  t.is((await clock.settle(evil.request(p.network.self(), CHORD_PROTOCOL, forward), 60_000)).type, 'ok')
  await clock.until(
    () => storeOf(s1).signed(records[0] as SignedFileRecord) !== undefined,
    200_000,
    'the records to reach s1',
  )
  t.truthy(storeOf(s0).signed(records[0] as SignedFileRecord), 'the key’s successor holds them')
  t.is(handedOn(), stuck + 2)
})
