import '@peerkit/transport-memory'
import '@peerkit/index-memory'
import type { TestClock } from '@peerkit/compliance'
import { collect, createLogger, Identity, LOGGER, type LogEntry } from '@peerkit/core'
import test from 'ava'
import { predecessorFromRing, type Ring, successorIn, successorsFromRing } from '../src/index.js'
import {
  adoptConverged,
  clockOf,
  FAST,
  FROZEN,
  fingersAreCorrect,
  hashOf,
  ownerOf,
  recordFor,
  ringIsCorrect,
  SETTLE,
  solvedIdentity,
  sorted,
  startNode,
  startRing,
  type TestNode,
  until,
  virtualParent,
} from './helpers/ring.js'

test('a ring of 16 nodes converges: successors, predecessors and fingers match global knowledge', async (t) => {
  const nodes = await startRing(t, 16, { chord: FAST, virtual: true })
  await until(() => ringIsCorrect(nodes), SETTLE, 'the ring to stabilise', clockOf(nodes))
  await until(() => fingersAreCorrect(nodes), SETTLE, 'the finger tables', clockOf(nodes))
  for (const n of nodes) {
    t.is(n.overlay.role(), 'peer')
    const ids = n.overlay.neighbors().map((p) => p.id)
    t.true(ids.includes(n.overlay.routing.successors[0]?.ref.id as string))
    t.true(ids.includes(n.overlay.routing.predecessor?.ref.id as string))
    t.false(ids.includes(n.network.peerId))
  }
})

test('lookups from every node find the right successor, in at most log2 N + 1 hops', async (t) => {
  const nodes = await startRing(t, 16, { chord: FAST, virtual: true })
  await until(
    () => ringIsCorrect(nodes) && fingersAreCorrect(nodes),
    SETTLE,
    'the ring to stabilise',
    clockOf(nodes),
  )
  const ring = nodes[0]?.overlay.ring
  let hops = 0
  let lookups = 0
  for (const from of nodes) {
    for (let k = 0; k < 8; k++) {
      const key = ring?.hash(`key ${k} from ${from.network.peerId}`) as bigint
      const result = await from.overlay.lookup(key)
      t.is(result.nodes[0]?.id, ownerOf(nodes, key).overlay.routing.id)
      t.true(result.hops <= 5)
      hops += result.hops
      lookups++
    }
  }
  // ½·log2 16 = 2 on average; allow a wide margin for 128 samples.
  t.true(hops / lookups < 3, `mean hops ${hops / lookups}`)
  const stats = nodes[0]?.overlay.stats()
  t.true((stats?.sent.find_successor ?? 0) > 0)
  t.true((stats?.received.get_predecessor ?? 0) > 0)
})

test('keyword and hash searches find records published anywhere, filtered by every word, within the limit', async (t) => {
  const nodes = await startRing(t, 10, { chord: FAST, virtual: true })
  await until(() => ringIsCorrect(nodes), SETTLE, 'the ring to stabilise', clockOf(nodes))
  const [alice, bob, carol] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]]
  const hp2 = recordFor(alice.network.self(), 'Harry.Potter.and.the.Chamber.of.Secrets.mkv')
  const hp1 = recordFor(alice.network.self(), 'Harry Potter and the Philosopher Stone.mkv')
  const other = recordFor(alice.network.self(), 'Harry.Belafonte.Live.mp3')
  await alice.overlay.publish([hp1, hp2, other])
  const hp2bob = { ...hp2, provider: bob.network.self() }
  await bob.overlay.publish([hp2bob])

  const hits = await collect(carol.overlay.search({ keywords: ['harry', 'potter'] }))
  t.deepEqual(hits.map((h) => h.name).sort(), [hp2.name, hp1.name].sort())
  const chamber = hits.find((h) => h.hash === hp2.hash)
  t.deepEqual(chamber?.providers.map((p) => p.id).sort(), [alice.network.peerId, bob.network.peerId].sort())
  t.true(hits.every((h) => typeof h.hops === 'number' && h.hops >= 0))

  t.is((await collect(carol.overlay.search({ keywords: ['harry'], limit: 2 }))).length, 2)
  t.deepEqual(
    (await collect(carol.overlay.search({ keywords: ['belafonte', 'harry'] }))).map((h) => h.name),
    [other.name],
  )
  t.deepEqual(await collect(carol.overlay.search({ keywords: ['voldemort'] })), [])

  const byHash = await collect(carol.overlay.search({ hash: hp2.hash }))
  t.is(byHash.length, 1)
  t.is(byHash[0]?.providers.length, 2)
  const providers = await collect(carol.overlay.providers(hp2.hash))
  t.deepEqual(providers.map((p) => p.id).sort(), [alice.network.peerId, bob.network.peerId].sort())
  t.deepEqual(await collect(carol.overlay.providers(hashOf('nothing'))), [])

  // each record sits at the successor of its hash key, and of each keyword key
  const key = alice.overlay.ring.contentKey(hp2.hash)
  t.true((ownerOf(nodes, key).overlay.stats().records as number) > 0)
})

test("unpublish withdraws a provider's records, and only its own", async (t) => {
  const nodes = await startRing(t, 6, { chord: FAST, virtual: true })
  await until(() => ringIsCorrect(nodes), SETTLE, 'the ring to stabilise', clockOf(nodes))
  const [a, b, c] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]]
  const r = recordFor(a.network.self(), 'shared.song.ogg')
  await a.overlay.publish([r])
  await b.overlay.publish([{ ...r, provider: b.network.self() }])
  await a.overlay.unpublish([r.hash])
  const providers = await collect(c.overlay.providers(r.hash))
  t.deepEqual(
    providers.map((p) => p.id),
    [b.network.peerId],
  )
  await b.overlay.unpublish([r.hash])
  t.deepEqual(await collect(c.overlay.search({ keywords: ['song'] })), [])
})

test('keys move to a node that joins, and back to the successor when it leaves voluntarily (replication 1)', async (t) => {
  const chord = { ...FAST, replication: 1 }
  const nodes = await startRing(t, 5, { chord, virtual: true })
  await until(() => ringIsCorrect(nodes), SETTLE, 'the ring to stabilise', clockOf(nodes))
  const provider = nodes[0] as (typeof nodes)[0]
  const records = Array.from({ length: 40 }, (_, i) => recordFor(provider.network.self(), `file-${i}.txt`))
  await provider.overlay.publish(records)

  // Of a dozen fresh identities that solve the id puzzle, the one that would
  // take over the most keys (more if none takes one). An identity that does
  // not solve it would be replaced by the one chordOverlay() derives from it,
  // at an unrelated place on the ring: choosing among plain Identity.generate()
  // keys chose nothing, and about 1 run in 20 joined where no key lies.
  const keysBefore = records.flatMap((r) => provider.overlay.keysOf(r))
  const taken = (id: Identity) => {
    const me = provider.overlay.ring.nodeId(id.peerId)
    const ring = sorted(nodes)
    const pred = predecessorFromRing(me, ring)?.id as bigint
    return keysBefore.filter((k) => provider.overlay.ring.within(k, pred, me)).length
  }
  let identity = solvedIdentity()
  for (let i = 1; i < 12 || taken(identity) === 0; i++) {
    if (i > 10_000) return t.fail('no identity that solves the puzzle takes a key')
    const candidate = solvedIdentity()
    if (taken(candidate) > taken(identity)) identity = candidate
  }
  const toTake = taken(identity)
  t.true(toTake > 0, 'precondition: the chosen newcomer would own keys')
  const newcomer = await startNode(t, {
    identity,
    transport: 'memory',
    listen: [`memory://chord-newcomer-${process.pid}`],
    bootstrap: provider.network.addresses(),
    chord,
    seed: 99,
    parent: provider.parent,
  })
  nodes.push(newcomer)
  const ring = provider.overlay.ring
  t.is(
    newcomer.overlay.routing.id,
    ring.nodeId(identity.peerId),
    'precondition: it joined with the chosen id',
  )
  await until(() => ringIsCorrect(nodes), SETTLE, 'the newcomer to be stabilised in', clockOf(nodes))
  const keys = records.flatMap((r) => provider.overlay.keysOf(r))
  const mine = keys.filter((k) => ownerOf(nodes, k) === newcomer)
  t.is(mine.length, toTake)
  // with replication 1, every node ends up holding exactly the records it owns a key of
  const owned = (n: (typeof nodes)[0]) =>
    records.filter((r) => provider.overlay.keysOf(r).some((k) => ownerOf(nodes, k) === n)).length
  const expected = owned(newcomer)
  await until(
    () => nodes.every((n) => n.overlay.stats().records === owned(n)),
    SETTLE,
    `the hand-over of ${expected} records`,
    clockOf(nodes),
  )
  t.is(newcomer.overlay.stats().records, expected)
  // every record is still found, wherever its keys now live
  for (const r of records.slice(0, 10))
    t.is((await collect(newcomer.overlay.search({ hash: r.hash }))).length, 1)

  // the newcomer leaves voluntarily; with replication 1 its keys survive only through the hand-over
  const held = newcomer.overlay.stats().records as number
  await newcomer.stop()
  await until(() => ringIsCorrect(nodes), SETTLE, 'the ring to close the gap', clockOf(nodes))
  const hits = await collect((nodes[1] as (typeof nodes)[0]).overlay.search({ keywords: ['txt'] }))
  t.is(hits.length, 40)
  for (const r of records) {
    const found = await collect((nodes[2] as (typeof nodes)[0]).overlay.providers(r.hash))
    t.deepEqual(
      found.map((p) => p.id),
      [provider.network.peerId],
      `record ${r.name} (key ${ring.toHex(ring.contentKey(r.hash))})`,
    )
  }
  t.log(`newcomer owned ${mine.length} of ${keys.length} keys and held ${held} records`)
})

test('records of a provider that crashed expire after their TTL; refreshed ones stay', async (t) => {
  const chord = { ...FAST, refreshInterval: 500, recordTtl: 3000 }
  const nodes = await startRing(t, 5, { chord, virtual: true })
  await until(() => ringIsCorrect(nodes), SETTLE, 'the ring to stabilise', clockOf(nodes))
  const [stays, crashes, asker] = sorted(nodes).map((s) => s.node) as [
    (typeof nodes)[0],
    (typeof nodes)[0],
    (typeof nodes)[0],
  ]
  await stays.overlay.publish([recordFor(stays.network.self(), 'alpha.stays.txt')])
  await crashes.overlay.publish([recordFor(crashes.network.self(), 'alpha.goes.txt')])
  t.is((await collect(asker.overlay.search({ keywords: ['alpha'] }))).length, 2)
  const clock = clockOf(nodes) as TestClock
  const crashedAt = clock.now()
  await crashes.kill()
  await until(() => ringIsCorrect(nodes), SETTLE, 'the ring to heal', clock)
  const search = async () =>
    (await clock.settle(collect(asker.overlay.search({ keywords: ['alpha'] })))).map((h) => h.name)
  // Until the crashed provider's record has been missing for a second (a search that misses the refreshed
  // one does not end it: under two CPU burners, with the other tests of this file beside it, 3 of 42 runs
  // saw one such miss at 2.75-3 s; nor does one search that misses the crashed one while the ring heals: a
  // CI run beside two burners saw it gone before 2.75 s; neither traced, see the note on issue #19); then
  // the refreshed record is found and nothing else, and the crashed one went missing no earlier than its TTL.
  let names = await search()
  let missingSince: number | undefined
  while (clock.now() - crashedAt < 15_000) {
    if (names.includes('alpha.goes.txt')) missingSince = undefined
    else {
      missingSince ??= clock.now()
      if (clock.now() - missingSince >= 1000) break
    }
    await clock.advance(250)
    names = await search()
  }
  t.deepEqual(names, ['alpha.stays.txt'])
  t.true(missingSince !== undefined && missingSince - crashedAt >= 3000 - 250, 'not before its TTL')
})

test('a lone node answers its own searches; start and stop are idempotent; calls need start()', async (t) => {
  const node = await startNode(t, {
    transport: 'memory',
    listen: [`memory://chord-alone-${process.pid}`],
    chord: FAST,
  })
  await node.overlay.start()
  const r = recordFor(node.network.self(), 'lonely.file.bin')
  await node.overlay.publish([r])
  const hits = await collect(node.overlay.search({ keywords: ['lonely'] }))
  t.is(hits[0]?.hops, 0)
  t.deepEqual(node.overlay.neighbors(), [])
  t.is(node.overlay.stats().records, 1)
  await node.overlay.stop()
  await node.overlay.stop()
  await t.throwsAsync(collect(node.overlay.search({ keywords: ['lonely'] })), { name: 'NotStartedError' })
  await t.throwsAsync(collect(node.overlay.providers(r.hash)), { name: 'NotStartedError' })
  await t.throwsAsync(node.overlay.publish([r]), { name: 'NotStartedError' })
})

test('right after 5 of 16 nodes crash, before any repair, lookups route around them to the live successor', async (t) => {
  const nodes = await Promise.all(
    Array.from({ length: 16 }, (_, i) =>
      startNode(t, {
        transport: 'memory',
        listen: [`memory://chord-quiet-${process.pid}-${i}`],
        chord: { ...FROZEN, successors: 6 },
      }),
    ),
  )
  // every node gets its correct state from global knowledge; no timer will touch it
  const ring = nodes[0]?.overlay.ring as Ring
  adoptConverged(nodes, 6)
  await until(() => fingersAreCorrect(nodes), 1000, 'the adopted state', clockOf(nodes))
  // five nodes in a row on the ring crash (the worst case for successor lists shorter than 6)
  const order = sorted(nodes).map((s) => s.node)
  await Promise.all(order.slice(3, 8).map((n) => n.kill()))
  let timeouts = 0
  for (const [i, from] of nodes.filter((n) => n.alive).entries()) {
    for (let k = 0; k < 6; k++) {
      const key = ring.hash(`after crash ${i} ${k}`)
      const result = await from.overlay.lookup(key)
      const live = result.nodes.find((n) => nodes.some((x) => x.alive && x.overlay.routing.id === n.id))
      t.is(live?.id, ownerOf(nodes, key).overlay.routing.id)
      timeouts += result.failures
    }
  }
  t.true(timeouts > 0, 'some lookups met a crashed node on the way')
  // with verify, the first node of every answer is the live owner itself
  for (const [i, from] of nodes.filter((n) => n.alive).entries()) {
    for (let k = 0; k < 6; k++) {
      const key = ring.hash(`verified after crash ${i} ${k}`)
      const result = await from.overlay.lookup(key, { verify: true })
      t.is(result.nodes[0]?.id, ownerOf(nodes, key).overlay.routing.id)
    }
  }
})

test('with maintenance paused a crashed successor stays in the list; resumed, stabilisation drops it', async (t) => {
  const nodes = await startRing(t, 6, { chord: FAST, virtual: true })
  const listsAreCorrect = () => {
    const ring = sorted(nodes)
    return ring.every(({ id, node }) => {
      const want = successorsFromRing(id, ring, 8).map((s) => s.id)
      const have = node.overlay.routing.successors.map((s) => s.id)
      return want.length === have.length && want.every((w, i) => w === have[i])
    })
  }
  await until(
    () => ringIsCorrect(nodes) && listsAreCorrect(),
    SETTLE,
    'the ring to stabilise',
    clockOf(nodes),
  )
  for (const n of nodes) n.overlay.setMaintenance(false)
  t.false(nodes[0]?.overlay.maintenance)
  const order = sorted(nodes).map((s) => s.node)
  const victim = order[1] as TestNode
  const before = order[0] as TestNode
  await victim.kill()
  // twenty stabilize intervals go by: nobody notices
  const clock = clockOf(nodes) as TestClock
  await clock.advance(20 * (FAST.stabilizeInterval as number))
  t.is(before.overlay.routing.successors[0]?.id, victim.overlay.routing.id)
  // a verified lookup of the victim's own id ends at the next live node, and forgets the dead one
  const result = await clock.settle(before.overlay.lookup(victim.overlay.routing.id, { verify: true }))
  t.is(result.nodes[0]?.id, (order[2] as TestNode).overlay.routing.id)
  t.true(result.failures >= 1)
  for (const n of nodes) n.overlay.setMaintenance(true)
  await until(() => ringIsCorrect(nodes), SETTLE, 'the ring to heal once maintenance resumes', clockOf(nodes))
  t.true(nodes.every((n) => n.overlay.maintenance))
})

test('with maintenance every hour, a node that joins is in the ring at once and its fingers are filled', async (t) => {
  // a correct ring of 12 from global knowledge; no timer will touch it
  const nodes = await Promise.all(
    Array.from({ length: 12 }, (_, i) =>
      startNode(t, {
        transport: 'memory',
        listen: [`memory://chord-slow-${process.pid}-${i}`],
        chord: FROZEN,
      }),
    ),
  )
  const ring = nodes[0]?.overlay.ring as Ring
  adoptConverged(nodes)
  t.true(ringIsCorrect(nodes))
  // three newcomers join one after another through the first node
  for (let i = 0; i < 3; i++) {
    nodes.push(
      await startNode(t, {
        transport: 'memory',
        listen: [`memory://chord-slow-${process.pid}-new-${i}`],
        bootstrap: nodes[0]?.network.addresses(),
        chord: FROZEN,
        seed: 100 + i,
      }),
    )
    // the newcomer's predecessor was told to stabilize: successor and predecessor pointers are right
    await until(() => ringIsCorrect(nodes), 5000, `the ring to take newcomer ${i} in`, clockOf(nodes))
  }
  // the last newcomer filled its whole finger table in one pass (against the whole ring)
  const last = nodes[nodes.length - 1] as TestNode
  const fingersRight = () => {
    const whole = sorted(nodes)
    const table = last.overlay.routing.fingers
    for (let i = 0; i < table.length; i++) {
      const want = successorIn(whole, table.start(i)).id
      if ((table.get(i)?.id ?? last.overlay.routing.id) !== want) return false
    }
    return true
  }
  await until(fingersRight, 5000, "the newcomer's finger table", clockOf(nodes))
  // lookups from anywhere end at the right node
  for (const from of nodes) {
    for (let k = 0; k < 4; k++) {
      const key = ring.hash(`slow ring ${from.network.peerId} ${k}`)
      t.is((await from.overlay.lookup(key)).nodes[0]?.id, ownerOf(nodes, key).overlay.routing.id)
    }
  }
})

test('a periodic task that throws is logged at warn and keeps running (virtual clock)', async (t) => {
  const { clock, parent } = virtualParent()
  const logged: LogEntry[] = []
  parent.register(LOGGER, { useValue: createLogger({ level: 'warn', sink: (e) => logged.push(e) }) })
  const node = await startNode(t, {
    transport: 'memory',
    listen: [`memory://chord-failing-task-${process.pid}`],
    chord: FAST,
    parent,
  })
  // fix_fingers breaks: every round rejects.
  let rounds = 0
  const routing = (node.overlay as unknown as { routing: { fixFingers(): Promise<void> } }).routing
  routing.fixFingers = () => {
    rounds++
    return Promise.reject(new Error('finger table broke'))
  }
  await clock.advance(20 * (FAST.fixFingersInterval as number))
  const failures = logged.filter((e) => e.level === 'warn' && e.fields?.task === 'fixFingers')
  t.true(rounds >= 15, `${rounds} rounds in 20 intervals: the schedule went on`)
  t.is(failures.length, rounds, 'every failed round was logged')
  t.is(failures[0]?.component, 'peerkit:chord')
  t.is((failures[0]?.fields?.err as Error | undefined)?.message, 'finger table broke')
})
