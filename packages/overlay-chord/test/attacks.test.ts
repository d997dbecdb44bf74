import '@peerkit/transport-memory'
import '@peerkit/index-memory'
import { heapAfterGc, TestClock } from '@peerkit/compliance'
import { CLOCK, collect, Identity, recordGrams, type SignedFileRecord, signRecord } from '@peerkit/core'
import { MemoryNetwork, memoryContainer } from '@peerkit/transport-memory'
import test, { type ExecutionContext } from 'ava'
import {
  CHORD_PROTOCOL,
  type ChordOptions,
  predecessorFromRing,
  type RecordStore,
  solvesPuzzle,
} from '../src/index.js'
import {
  adoptConverged,
  FAST,
  FROZEN,
  ownerOf,
  rawPeer,
  recordFor,
  ringIsCorrect,
  signedFor,
  sorted,
  startNode,
  startRing,
  TEST_DIFFICULTY,
  type TestNode,
} from './helpers/ring.js'

// Attacks on the chord overlay, each mounted by a peer that speaks peerkit/chord/3 by hand against a
// real in-process ring (memory transport, virtual clock). PEERKIT_LONG_ATTACKS=1 runs them at the sizes
// of the original reports (56,000 and 10,000 junk records); by default they are a few thousand.

const LONG = process.env.PEERKIT_LONG_ATTACKS === '1'
const HOUR = 3_600_000

/** A ring of `n` nodes on its own memory hub and virtual clock, routing state set from global knowledge. */
async function virtualRing(t: ExecutionContext, n: number, chord: ChordOptions) {
  const clock = new TestClock()
  const parent = memoryContainer(new MemoryNetwork())
  parent.register(CLOCK, { useValue: clock })
  const nodes = await startRing(t, n, { chord, parent })
  adoptConverged(nodes, chord.successors ?? 8)
  return { clock, parent, nodes }
}

/** The store a node holds for the ring (private to the overlay; tests read it, and one plays a compromised holder). */
const storeOf = (node: TestNode) => (node.overlay as unknown as { store: RecordStore }).store

/** The `r` nodes that hold `key`, from global knowledge. */
function holdersOf(nodes: readonly TestNode[], key: bigint, r: number): TestNode[] {
  const ring = sorted(nodes)
  const first = ring.findIndex((x) => x.node === ownerOf(nodes, key))
  return Array.from({ length: r }, (_, k) => (ring[(first + k) % ring.length] as (typeof ring)[0]).node)
}

/** A word whose keyword key `node` owns, so records named with it are held there. */
function wordOwnedBy(node: TestNode, prefix: string): string {
  for (let i = 0; ; i++) {
    const word = `${prefix}${i}`
    if (node.overlay.routing.owns(node.overlay.ring.keywordKey(word))) return word
  }
}

/** Sends `records` in `store` messages of 1,000; returns how many messages were refused, by error name. */
async function storeAll(
  from: Awaited<ReturnType<typeof rawPeer>>['network'],
  to: TestNode,
  records: SignedFileRecord[],
): Promise<Record<string, number>> {
  const refused: Record<string, number> = {}
  for (let i = 0; i < records.length; i += 1000) {
    await from
      .request(to.network.self(), CHORD_PROTOCOL, { type: 'store', records: records.slice(i, i + 1000) })
      .catch((err: Error) => {
        refused[err.name] = (refused[err.name] ?? 0) + 1
      })
  }
  return refused
}

test('a forged replicate, from outside the ring or from a neighbor, changes no record and attributes no file to anyone', async (t) => {
  const chord: ChordOptions = { ...FROZEN, successors: 4, replication: 2, replicaWindow: 1 }
  const { clock, parent, nodes } = await virtualRing(t, 16, chord)
  const ring = (nodes[0] as TestNode).overlay.ring
  const provider = nodes[3] as TestNode
  const record = recordFor(provider.network.self(), 'Honest.Original.Release.iso')
  await provider.overlay.publish([record])
  const holders = holdersOf(nodes, ring.contentKey(record.hash), 2)
  const primary = holders[0] as TestNode
  const honestCopy = () => storeOf(primary).signed(record)
  // The replica keeps its copy only when a key of the record lies within replication × replicaWindow
  // (here 2) mean gaps before it: with random ids the arc from the key to the second holder is wider
  // in about half the rings, and the replica then holds none (why the CI run that expected a copy
  // at every holder failed; see the README's replicaWindow).
  // The record's keys: its hash, its keywords, and its n-gram keys (for prefix and substring search).
  const grams = recordGrams(record.keywords, (nodes[0] as TestNode).overlay.options.maxGramKeys)
  const admitted = (h: TestNode) =>
    [
      ring.contentKey(record.hash),
      ...record.keywords.map((k) => ring.keywordKey(k)),
      ...grams.map((g) => ring.gramKey(g)),
    ].some((k) => h.overlay.routing.mayHold(k, 2, 1))
  // each key's predecessor hands the record on, one-way, as it answers the provider's forwarded store
  await clock.until(() => honestCopy() !== undefined, 5000, 'the record to reach its key')
  await clock.advance(1000)
  const before = await Promise.all(holders.map((h) => storeOf(h).get(record.hash)))
  const honest = honestCopy()
  if (!honest) return t.fail('the record was not stored at its key')
  // The replica takes a hand_on only from a node within replication × replicaWindow (here 2) mean gaps
  // too, and the key's predecessor lies one node further before it than the key: at this narrow window
  // it refuses some copies its key window would take (see forward.test.ts and the README).
  t.deepEqual(
    before.map((records) => records.length),
    holders.map((h, i) => (i === 0 ? 1 : admitted(h) ? before[i]?.length : 0)),
    'the primary holds the honest record, the replica only when its window admits it',
  )

  // the attacker: a key that solves the puzzle, off the ring, far from the record's holders
  const far = (id: Identity) =>
    solvesPuzzle(id.peerId, TEST_DIFFICULTY) &&
    !holders.some((h) => h.overlay.routing.isNeighbor(ring.nodeId(id.peerId), 2 * 1))
  let identity = Identity.generate()
  for (let i = 0; !far(identity); i++) {
    if (i > 50_000) return t.fail('no key far from the holders')
    identity = Identity.generate()
  }
  const { network: evil } = await rawPeer(t, { identity, parent })
  const expires = clock.now() + (nodes[0] as TestNode).overlay.options.recordTtl
  const moved: SignedFileRecord = {
    ...honest,
    provider: { id: provider.network.peerId, addresses: ['memory://attacker'] },
  }
  const neverHad = recordFor(provider.network.self(), 'Never.Had.This.File.iso')
  const attributed: SignedFileRecord = {
    ...signRecord(identity, { ...neverHad, provider: evil.self() }, expires),
    provider: provider.network.self(),
  }
  const own = signedFor(identity, evil.self(), 'Attacker.Own.File.iso', expires)
  for (const h of holders)
    for (const records of [[moved], [attributed], [own]])
      await t.throwsAsync(
        evil.request(h.network.self(), CHORD_PROTOCOL, { type: 'replicate', records, ttls: [HOUR] }),
        { name: 'ProtocolError', message: /shares no key range/ },
      )
  // the same forgeries from a ring member next to the holder: the signatures give them away
  const neighbor = holders[1] as TestNode
  for (const records of [[moved], [attributed]])
    await t.throwsAsync(
      neighbor.network.request(primary.network.self(), CHORD_PROTOCOL, {
        type: 'replicate',
        records,
        ttls: [HOUR],
      }),
      { name: 'ProtocolError', message: /signature does not check/ },
    )

  // nothing changed: the honest record is intact at every holder, nothing is attributed to the provider
  t.deepEqual(
    await Promise.all(holders.map((h) => storeOf(h).get(record.hash))),
    before,
    'the addresses stand',
  )
  t.deepEqual((await storeOf(primary).get(record.hash))[0]?.provider, provider.network.self())
  for (const n of nodes) {
    t.deepEqual(await storeOf(n).get(neverHad.hash), [])
    t.is(storeOf(n).usageOf(evil.peerId).records, 0)
  }
  // honest traffic: the search finds the provider at its own address, the forged file has no provider
  const hits = await collect((nodes[0] as TestNode).overlay.search({ keywords: ['original', 'release'] }))
  t.deepEqual(
    hits.map((h) => h.providers),
    [[provider.network.self()]],
  )
  t.deepEqual(await collect((nodes[9] as TestNode).overlay.providers(neverHad.hash)), [])

  // a compromised holder answering with a forged record: the asker verifies and drops it
  const forgedHolders = holdersOf(nodes, ring.contentKey(neverHad.hash), 2)
  for (const h of forgedHolders) storeOf(h).put(attributed, clock.now() + HOUR)
  const asker = nodes.find((n) => !forgedHolders.includes(n)) as TestNode
  t.deepEqual(await collect(asker.overlay.providers(neverHad.hash)), [])
  t.true((asker.overlay.stats().dropped as number) >= 1)
})

// Serial: it measures the process's heap, which the other tests would disturb.
test.serial(
  'one key storing junk records is held to its quota; the victim memory stays bounded',
  async (t) => {
    const quota = LONG ? {} : { maxRecordsPerProvider: 1000, maxBytesPerProvider: 1024 * 1024 }
    const chord: ChordOptions = { ...FROZEN, successors: 4, replication: 2, ...quota }
    const { clock, parent, nodes } = await virtualRing(t, 8, chord)
    const victim = nodes[2] as TestNode
    const limits = victim.overlay.options
    const word = wordOwnedBy(victim, 'junk')
    const { network: evil, identity } = await rawPeer(t, { parent })
    const expires = clock.now() + (nodes[0] as TestNode).overlay.options.recordTtl
    const count = LONG ? 56_000 : 3000
    // names as heavy as the schema lets a record be: long, with many keywords
    const padding = [
      ...Array.from({ length: 40 }, (_, i) => `w${i}`),
      ...'abcd'.split('').map((c) => c.repeat(100)),
    ].join(' ')
    const heap0 = heapAfterGc()
    let refused: Record<string, number> = {}
    for (let i = 0; i < count; i += 1000) {
      const batch = Array.from({ length: Math.min(1000, count - i) }, (_, k) =>
        signedFor(identity, evil.self(), `${word} ${i + k} ${padding}`, expires),
      )
      const r = await storeAll(evil, victim, batch)
      for (const [name, n] of Object.entries(r)) refused[name] = (refused[name] ?? 0) + n
    }
    const grown = heapAfterGc() - heap0
    const held = storeOf(victim).usageOf(evil.peerId)
    t.log(
      `${count} junk records sent; victim holds ${held.records} (${(held.bytes / 1e6).toFixed(2)} MB accounted), heap grew ${(grown / 1e6).toFixed(1)} MB; refused messages: ${JSON.stringify(refused)}`,
    )
    t.true(held.records <= limits.maxRecordsPerProvider)
    t.true(held.bytes <= limits.maxBytesPerProvider)
    t.true((refused.RateLimitError ?? 0) > 0, 'the attacker was told it is over its quota')
    // about 1 KB of heap per accounted byte-budget KB, with room: far from the 1.5 GB of the report
    t.true(grown < 4 * limits.maxBytesPerProvider + 16e6, `heap grew ${grown} bytes`)
    refused = {}

    // honest traffic: another provider still stores at the victim and is found
    const honest = nodes[5] as TestNode
    const record = recordFor(honest.network.self(), `${word} honest holiday film.mkv`)
    await honest.overlay.publish([record])
    t.is(storeOf(victim).usageOf(honest.network.peerId).records, 1)
    const hits = await collect((nodes[0] as TestNode).overlay.search({ keywords: [word, 'holiday'] }))
    t.deepEqual(
      hits.map((h) => h.hash),
      [record.hash],
    )
  },
)

test('junk records for "ubuntu desktop" do not crowd out the real hit', async (t) => {
  const chord: ChordOptions = { ...FROZEN, successors: 4, replication: 2 }
  const { clock, parent, nodes } = await virtualRing(t, 8, chord)
  const ring = (nodes[0] as TestNode).overlay.ring
  const honest = nodes[1] as TestNode
  const real = recordFor(honest.network.self(), 'Ubuntu.Desktop.24.04.LTS.amd64.iso')
  await honest.overlay.publish([real])
  // the search asks the node of its longest word's first trigram, "des" (gram keys): the junk goes there and to its replica
  const { network: evil, identity } = await rawPeer(t, { parent })
  const expires = clock.now() + (nodes[0] as TestNode).overlay.options.recordTtl
  const count = LONG ? 10_000 : 3000
  const junk = Array.from({ length: count }, (_, i) =>
    signedFor(identity, evil.self(), `Ubuntu Desktop ${i} free download.iso`, expires),
  )
  for (const h of holdersOf(nodes, ring.gramKey('des'), 2)) {
    const refused = await storeAll(evil, h, junk)
    const held = storeOf(h).usageOf(evil.peerId).records
    t.log(`a holder of "des" took ${held} junk records (refused messages: ${JSON.stringify(refused)})`)
    t.true(held >= 3000, 'the junk is there, up to the quota')
  }
  for (const asker of [nodes[0], nodes[4], nodes[7]] as TestNode[]) {
    const top = await collect(asker.overlay.search({ keywords: ['ubuntu', 'desktop'], limit: 10 }))
    t.is(top.length, 10)
    t.is(top[0]?.hash, real.hash, 'the real release comes first')
    const all = await collect(asker.overlay.search({ keywords: ['ubuntu', 'desktop'] }))
    t.true(all.length <= 1 + asker.overlay.options.maxAnswerPerProvider, `${all.length} hits`)
    t.true(all.some((h) => h.hash === real.hash))
  }
})

test('ids ground onto a content key without solving the puzzle are refused; lookups and searches stay honest', async (t) => {
  const chord: ChordOptions = {
    ...FAST,
    successors: 4,
    replication: 2,
    refreshInterval: HOUR,
    recordTtl: 2 * HOUR,
  }
  const clock = new TestClock()
  const parent = memoryContainer(new MemoryNetwork())
  parent.register(CLOCK, { useValue: clock })
  const nodes = await startRing(t, 8, { chord, parent })
  for (let i = 0; i < 400 && !ringIsCorrect(nodes); i++) await clock.advance(50)
  t.true(ringIsCorrect(nodes), 'the honest ring converged')
  const ring = (nodes[0] as TestNode).overlay.ring
  const provider = nodes[2] as TestNode
  const record = recordFor(provider.network.self(), 'Target.Content.Key.iso')
  await provider.overlay.publish([record])
  const key = ring.contentKey(record.hash)
  const owner = ownerOf(nodes, key)

  // three keys ground to sit just before the content key's owner, each with no puzzle solved
  const before = predecessorFromRing(owner.overlay.routing.id, sorted(nodes))?.id as bigint
  const ground: Identity[] = []
  let tries = 0
  while (ground.length < 3) {
    tries++
    const id = Identity.generate()
    const at = ring.nodeId(id.peerId)
    if (ring.within(at, before, key, '(]') && !solvesPuzzle(id.peerId, TEST_DIFFICULTY)) ground.push(id)
  }
  t.log(`3 ids ground into the arc before the content key in ${tries} tries`)
  const bootstrap = (nodes[0] as TestNode).network.addresses()
  const sybils: TestNode[] = []
  for (const identity of ground) {
    const sybil = await startNode(t, {
      identity,
      parent,
      transport: 'memory',
      listen: [`memory://chord-sybil-${process.pid}-${sybils.length}`],
      bootstrap,
      chord: { ...chord, idDifficulty: 0 },
    })
    sybils.push(sybil)
  }
  for (let i = 0; i < 100; i++) await clock.advance(50)

  const sybilIds = new Set(sybils.map((s) => s.overlay.routing.id))
  for (const n of nodes) {
    const r = n.overlay.routing
    const known = [...r.successors, ...(r.predecessor ? [r.predecessor] : []), ...r.fingers.distinct()]
    t.false(
      known.some((k) => sybilIds.has(k.id)),
      `node ${ring.toHex(r.id)} admitted a Sybil`,
    )
  }
  t.true(ringIsCorrect(nodes), 'the honest ring is unchanged')
  // the Sybils cannot store either
  const sybil = sybils[0] as TestNode
  const theirs = signRecord(
    ground[0] as Identity,
    recordFor(sybil.network.self(), 'Sybil.File.iso'),
    clock.now() + HOUR,
  )
  await t.throwsAsync(
    sybil.network.request(owner.network.self(), CHORD_PROTOCOL, { type: 'store', records: [theirs] }),
    { name: 'ProtocolError', message: /id puzzle/ },
  )
  // honest lookups of the key end at its honest owner, and every node finds the record
  for (const n of nodes) {
    const found = await n.overlay.lookup(key)
    t.is(found.nodes[0]?.id, owner.overlay.routing.id)
    const hits = await collect(n.overlay.search({ hash: record.hash }))
    t.deepEqual(
      hits.map((h) => h.providers.map((p) => p.id)),
      [[provider.network.peerId]],
    )
  }
})

test('a lying node on the path sends a plain lookup astray; disjoint paths still end at the honest successor', async (t) => {
  const chord: ChordOptions = { ...FROZEN, successors: 4, replication: 2, disjointPaths: 3 }
  const { nodes } = await virtualRing(t, 16, chord)
  const origin = nodes[0] as TestNode
  const ring = origin.overlay.ring
  const order = sorted(nodes)
  const predecessorOf = (k: bigint) => predecessorFromRing(ownerOf(nodes, k).overlay.routing.id, order)?.id
  // a key whose first hop from the origin is a router on the way, not the key's own predecessor (which alone
  // can answer "done"; its answer is checked by the replicas, not by other paths)
  let key = ring.add(origin.overlay.routing.id, ring.size / 2n)
  const firstHop = (k: bigint) => origin.overlay.routing.step(k).nodes[0]?.id
  while (firstHop(key) === predecessorOf(key)) key = ring.add(key, ring.size / 97n)
  const owner = ownerOf(nodes, key)
  const later = order[(order.findIndex((x) => x.node === owner) + 2) % order.length]?.node as TestNode
  // the first hop the origin takes towards the key lies: "done, the successor is a node two past the owner"
  const liar = nodes.find((n) => n.overlay.routing.id === firstHop(key)) as TestNode
  const wrong = later.overlay.routing.self
  const honestStep = liar.overlay.routing.step.bind(liar.overlay.routing)
  liar.overlay.routing.step = () => ({ done: true, nodes: [wrong] })
  const plain = await origin.overlay.lookup(key)
  t.is(plain.nodes[0]?.id, wrong.id, 'one path believes the liar')
  const disjoint = await origin.overlay.lookup(key, { disjoint: 3 })
  t.is(disjoint.nodes[0]?.id, owner.overlay.routing.id)
  // searches use disjointPaths: the record at the key's owner is found from the origin
  const provider = nodes[5] as TestNode
  let record = recordFor(provider.network.self(), 'disjoint-0.iso')
  const viaLiar = (r: typeof record) =>
    ownerOf(nodes, ring.contentKey(r.hash)) === owner &&
    firstHop(ring.contentKey(r.hash)) === liar.overlay.routing.id &&
    predecessorOf(ring.contentKey(r.hash)) !== liar.overlay.routing.id
  for (let i = 1; !viaLiar(record); i++) {
    if (i > 100_000) return t.fail('no record whose key the liar routes')
    record = recordFor(provider.network.self(), `disjoint-${i}.iso`)
  }
  liar.overlay.routing.step = honestStep // the record is published where it belongs
  await provider.overlay.publish([record])
  t.is((await storeOf(owner).get(record.hash)).length, 1)
  liar.overlay.routing.step = (k) => ({
    done: true,
    nodes: [ownerOf(nodes, k) === owner ? wrong : ownerOf(nodes, k).overlay.routing.self],
  })
  const astray = await origin.overlay.lookup(ring.contentKey(record.hash))
  t.is(astray.nodes[0]?.id, wrong.id, 'a plain lookup of the content key believes the liar')
  const hits = await collect(origin.overlay.search({ hash: record.hash }))
  t.is(hits[0]?.hash, record.hash)
})
