import '@peerkit/index-memory'
import '@peerkit/transfer'
import '@peerkit/transport-memory'
import '../src/index.js'
import { createHash } from 'node:crypto'
import { type RecordedRequest, recordRequests } from '@peerkit/compliance'
import { collect, type FileRecord, keywords, type Peer } from '@peerkit/core'
import test from 'ava'
import {
  type HelloMessage,
  type InfoMessage,
  type PingMessage,
  SUPERNODE,
  type SupernodeOptions,
  type SupernodeOverlay,
} from '../src/index.js'
import { virtualNet } from './helpers/virtual-net.js'

// Every test here runs on a virtual clock that runs by itself (the memory
// transport does no real I/O): timeouts, heartbeats and bounds are exact and
// nothing depends on the machine's speed or load.

const FAST: SupernodeOptions = {
  hopTimeout: 80,
  heartbeatInterval: 200,
  failoverTimeout: 400,
  electionDelay: 200,
  maintenanceInterval: 100,
  refreshInterval: 200,
  demoteAfter: 0,
}
/** Detection of a silent supernode: heartbeatInterval + max(heartbeatInterval, 1000). */
const SILENT_DETECTION = 200 + 1000

const sn = (p: Peer) => p.overlay as SupernodeOverlay

function record(peer: Peer, name: string): FileRecord {
  return {
    hash: createHash('sha256').update(name).digest('hex'),
    name,
    size: 1000,
    chunkSize: 65_536,
    keywords: keywords(name),
    provider: { id: peer.id, addresses: peer.addresses() },
  }
}

async function finds(searcher: Peer, words: string, provider: Peer): Promise<boolean> {
  const hits = await collect(searcher.overlay.search({ keywords: keywords(words) }, { timeout: 1500 }))
  return hits.some((h) => h.providers.some((p) => p.id === provider.id))
}

const net = (
  t: Parameters<typeof virtualNet>[0],
  n: number,
  per: (i: number) => SupernodeOptions = () => ({}),
) => virtualNet(t, n, FAST, per)

test('the first peer becomes a supernode and the others attach to it as leaves', async (t) => {
  const { peers, clock } = await net(t, 5, () => ({ leavesPerSupernode: 50 }))
  const [first, ...rest] = peers as [Peer, ...Peer[]]
  t.is(sn(first).role(), 'supernode')
  for (const p of rest) {
    t.is(sn(p).role(), 'leaf')
    t.is(sn(p).supernode()?.id, first.id)
    t.deepEqual(
      p.overlay.neighbors().map((r) => r.id),
      [first.id],
    )
  }
  t.is(sn(first).stats().leaves, 4)
  await (rest[0] as Peer).overlay.publish([record(rest[0] as Peer, 'leaf file one.txt')])
  t.true(await clock.until(2000, () => sn(first).stats().records === 1), 'the supernode indexes its leaf')
  t.true(await finds(rest[3] as Peer, 'leaf file one', rest[0] as Peer))
})

test('a supernode keeps more leaves than network.maxConnections: their connections are never closed for room', async (t) => {
  const { peers, clock } = await virtualNet(
    t,
    8,
    { ...FAST, leavesPerSupernode: 50 },
    (i) => ({ canBeSupernode: i === 0 }),
    { configure: (i) => (i === 0 ? { network: { maxConnections: 2 } } : {}) },
  )
  const [first, ...rest] = peers as [Peer, ...Peer[]]
  t.is(sn(first).role(), 'supernode')
  // A connection closed to make room would have made its leaf fail over at once (it sees the close);
  // several heartbeats and maintenance rounds pass, in virtual time.
  await clock.sleep(5 * 200)
  t.is(sn(first).stats().leaves, 7)
  for (const p of rest) {
    t.is(sn(p).supernode()?.id, first.id)
    t.is(sn(p).stats().failovers, 0)
  }
  const a = rest[0] as Peer
  await a.overlay.publish([record(a, 'seven leaves.txt')])
  t.true(await finds(rest[6] as Peer, 'seven leaves', a))
})

test('orphaned leaves with no other supernode elect the highest capacity, and it serves them', async (t) => {
  const { peers, hub, names, clock } = await net(t, 6, (i) => ({
    leavesPerSupernode: 50,
    capacity: i === 3 ? 10 : 1,
  }))
  const [first, , second, best, , last] = peers as Peer[] as [Peer, Peer, Peer, Peer, Peer, Peer]
  t.true(
    await clock.until(3000, () =>
      peers.slice(1).every((p) => sn(p).electionCandidates()[0]?.peer.id === best.id),
    ),
    'every leaf knows who would be elected',
  )
  await last.overlay.publish([record(last, 'rare recording.flac')])
  const roles: string[] = []
  best.overlay.on('role', (r) => roles.push(r))
  const killed = clock.now()
  hub.kill(names[0] as string)
  t.true(
    await clock.until(5000, () => sn(best).role() === 'supernode'),
    'the best candidate becomes a supernode',
  )
  t.deepEqual(roles, ['supernode'])
  t.true(
    await clock.until(5000, () =>
      peers.slice(1).every((p) => p === best || sn(p).supernode()?.id === best.id),
    ),
    'the other leaves attach to it',
  )
  const recovered = clock.now() - killed
  t.log(`every leaf placed ${recovered} virtual ms after the kill`)
  // Noticing (a closed connection: at once), an election pause (electionDelay 200), attaching.
  t.true(recovered <= 2 * (400 + 200), `${recovered} ms`)
  t.true(await clock.until(5000, () => finds(second, 'rare recording', last)), 'searches work again')
  t.true(
    peers.slice(1).every((p) => p === best || sn(p).role() === 'leaf'),
    'only one was elected',
  )
  void first
})

test("a supernode's election list follows its leaves: a leaf that leaves drops out of it at the next refresh", async (t) => {
  // capacityRamp 1: every credit settles at once, so the supernode answers from its kept list until a leaf changes.
  const { peers, clock } = await net(t, 5, (i) => ({ leavesPerSupernode: 50, capacityRamp: 1, capacity: i }))
  const [first, ...leaves] = peers as [Peer, ...Peer[]]
  t.is(sn(first).role(), 'supernode')
  const listed = (p: Peer) =>
    sn(p)
      .electionCandidates()
      .map((c) => [c.peer.id, c.capacity])
  const best = (from: Peer[]) =>
    from
      .map((p, i) => [p.id, i + 1] as [string, number])
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
  t.true(
    await clock.until(3000, () =>
      leaves.every((p) => JSON.stringify(listed(p)) === JSON.stringify(best(leaves))),
    ),
    'every leaf has the list: highest capacity first',
  )
  const gone = leaves[3] as Peer
  await gone.stop()
  const stay = leaves.slice(0, 3)
  t.true(
    await clock.until(3000, () =>
      stay.every((p) => JSON.stringify(listed(p)) === JSON.stringify(best(stay))),
    ),
    'the leaf that left is no longer listed',
  )
})

test('a supernode sends its election list where it is read: to a hello, not in a ping or link answer', async (t) => {
  const { peers } = await net(t, 4, (i) => ({ leavesPerSupernode: 50, capacity: i }))
  const [first, leaf] = peers as [Peer, Peer, ...Peer[]]
  t.is(sn(first).role(), 'supernode')
  const to = { id: first.id, addresses: first.addresses() }
  const hello = await leaf.network.request(to, SUPERNODE, {
    kind: 'hello',
    addresses: leaf.addresses(),
    capacity: 1,
    capable: true,
    supernodes: [],
  })
  t.is(hello?.candidates.length, 3, "a leaf's refresh gets the list of its co-leaves")
  const ping = await leaf.network.request(to, SUPERNODE, { kind: 'ping', leaves: 0 })
  t.false(ping?.accepted, 'a leaf is no link')
  t.deepEqual(ping?.candidates, [])
  t.is(ping?.supernodes[0]?.id, first.id, 'the supernodes it knows still come with it')
  const link = await leaf.network.request(to, SUPERNODE, {
    kind: 'link',
    addresses: leaf.addresses(),
    leaves: 0,
  })
  t.false(link?.accepted, 'a leaf of it cannot link')
  t.deepEqual(link?.candidates, [])
})

test('an attached leaf refreshes once per refreshInterval; the maintenance rounds between do nothing', async (t) => {
  const { peers, clock } = await net(t, 3, () => ({ leavesPerSupernode: 50 }))
  const leaf = peers[1] as Peer
  t.is(sn(leaf).role(), 'leaf')
  const hellos = () => sn(leaf).stats().sent?.hello ?? 0
  await clock.sleep(1000)
  const before = hellos()
  const start = clock.now()
  // 20 maintenance rounds of its own (maintenanceInterval 100) and 20 more called here; refreshInterval 200.
  await Promise.all(Array.from({ length: 20 }, () => sn(leaf).maintain()))
  await clock.sleep(2000)
  const refreshes = hellos() - before
  t.log(`${refreshes} refreshes in ${clock.now() - start} ms`)
  t.true(refreshes >= 9 && refreshes <= 11, `${refreshes} refreshes in 2000 ms`)
})

/** The hellos `leaf` sends its supernode, and the answers it gets. */
function helloLog(leaf: Peer) {
  return recordRequests(leaf.network, SUPERNODE, 'hello') as RecordedRequest<
    HelloMessage,
    InfoMessage | null
  >[]
}

test('a leaf swaps supernode lists with its supernode at one refresh in gossipEvery; the refreshes between carry none', async (t) => {
  const { peers, clock } = await net(t, 4, () => ({ leavesPerSupernode: 50, gossipEvery: 5 }))
  const leaf = peers[1] as Peer
  t.is(sn(leaf).role(), 'leaf')
  const log = helloLog(leaf)
  await clock.sleep(3000) // refreshInterval 200: 15 refreshes, 3 of them gossips
  const gossips = log.filter((x) => x.body.want === 8)
  const lean = log.filter((x) => x.body.want === 0)
  t.log(`${log.length} refreshes, ${gossips.length} with lists`)
  t.is(gossips.length + lean.length, log.length)
  t.true(gossips.length >= 2 && gossips.length <= 4, `${gossips.length} gossips in 3000 ms`)
  t.true(lean.length >= 10, `${lean.length} lean refreshes`)
  for (const { body: hello, answer: info } of gossips) {
    t.true(hello.supernodes.length > 0, 'a gossip names the supernodes the leaf knows')
    t.is(info?.supernodes[0]?.id, (peers[0] as Peer).id, 'and gets those its supernode knows, itself first')
    t.true((info?.supernodes.length ?? 0) <= 8, 'as many as it named at most (want: 8)')
  }
  for (const { body: hello, answer: info } of lean) {
    t.deepEqual(hello.supernodes, [])
    t.deepEqual(info?.supernodes, [], 'a lean refresh gets no list back')
    // The election list only when it changed (while the other leaves were still attaching).
    if (info?.listed === hello.listed) t.deepEqual(info?.candidates, [])
    else t.true((info?.candidates.length ?? 0) > 0)
  }
  t.is(sn(leaf).electionCandidates().length, 3, 'the leaf holds the election list all along')
})

test('a refresh that swaps lists names 8 of the supernodes the leaf knows, a random 8 each time', async (t) => {
  const { peers, clock } = await net(t, 3, () => ({ leavesPerSupernode: 50, gossipEvery: 2 }))
  const [first, leaf] = peers as [Peer, Peer, ...Peer[]]
  t.is(sn(leaf).supernode()?.id, first.id)
  // Supernodes only the leaf knows (never dialed: the hub only keeps them as candidates).
  const known = Array.from({ length: 20 }, (_, i) => ({
    id: createHash('sha256').update(`far supernode ${i}`).digest('base64url'),
    addresses: [`far-${i}`],
  }))
  for (const r of known) sn(leaf).supernodes.learn(r)
  const log = helloLog(leaf)
  await clock.sleep(2000) // refreshInterval 200, a swap at every second refresh: about 5 swaps
  const swaps = log.filter((x) => x.body.want === 8)
  t.true(swaps.length >= 3, `${swaps.length} swaps`)
  const named = new Set<string>()
  for (const { body } of swaps) {
    t.is(body.supernodes.length, 8, 'a swap names 8 of the 21 the leaf knows')
    for (const r of body.supernodes) named.add(r.id)
  }
  t.log(`${swaps.length} swaps named ${named.size} distinct supernodes`)
  t.true(named.size > 8, 'not the same 8 each time')
})

test('a refresh gets the election list again only when it changed since the version the leaf names', async (t) => {
  const { peers, clock } = await net(t, 4, () => ({ leavesPerSupernode: 50 }))
  const leaf = peers[1] as Peer
  await clock.sleep(1000) // every leaf attached: the list is settled
  const log = helloLog(leaf)
  const held = () =>
    sn(leaf)
      .electionCandidates()
      .map((c) => c.peer.id)
      .sort()
  const idsOf = (ps: Peer[]) => ps.map((p) => p.id).sort()
  await clock.sleep(1000)
  t.deepEqual(held(), idsOf(peers.slice(1)), 'the list it got when it attached')
  t.true(log.length >= 3, `${log.length} refreshes`)
  for (const { body: hello, answer: info } of log) {
    t.not(hello.listed, undefined, 'a refresh names the version the leaf holds')
    t.is(info?.listed, hello.listed, 'which is still the list')
    t.deepEqual(info?.candidates, [], 'so it is not sent again')
  }
  await (peers[3] as Peer).stop()
  const from = log.length
  await clock.sleep(1000)
  const after = log.slice(from)
  const changed = after.filter((x) => x.answer?.listed !== x.body.listed)
  t.is(changed.length, 1, 'one refresh brings the list without the leaf that left, under a new version')
  t.is(changed[0]?.answer?.candidates.length, 2)
  t.deepEqual(held(), idsOf(peers.slice(1, 3)), 'which the leaf holds from then on')
  for (const x of after) if (x !== changed[0]) t.deepEqual(x.answer?.candidates, [])
})

test('gossipEvery 1: every refresh swaps the lists', async (t) => {
  const { peers, clock } = await net(t, 3, () => ({ leavesPerSupernode: 50, gossipEvery: 1 }))
  const log = helloLog(peers[1] as Peer)
  await clock.sleep(1000)
  t.true(log.length >= 4, `${log.length} refreshes`)
  t.true(log.every((x) => x.body.want === 8 && (x.answer?.supernodes.length ?? 0) > 0))
})

test('a supernode asks a link for its list at one ping in gossipEvery; a supernode new to it still spreads that way', async (t) => {
  // No bootstrap: each starts as a supernode of its own and links only to those it is told of.
  const testnet = await virtualNet(t, 3, { ...FAST, gossipEvery: 4 }, undefined, {
    bootstrap: 0,
    configure: () => ({ bootstrap: [] }),
    start: false,
  })
  const { clock } = testnet
  const [a, b, c] = testnet.peers as [Peer, Peer, Peer]
  for (const p of [a, b, c]) await p.start()
  const refOf = (p: Peer) => ({ id: p.id, addresses: p.addresses() })
  const pings = recordRequests(a.network, SUPERNODE, 'ping') as RecordedRequest<
    PingMessage,
    InfoMessage | null
  >[]
  sn(a).supernodes.learn(refOf(b))
  t.true(await clock.until(1000, () => sn(a).supernodes.has(b.id)), 'a links to b')
  // c knows only b: a hears of c only in a list b sends it.
  sn(c).supernodes.learn(refOf(b))
  t.true(await clock.until(1000, () => sn(c).supernodes.has(b.id)), 'c links to b')
  const bound = 4 * (FAST.maintenanceInterval as number) + 1000
  t.true(
    await clock.until(bound, () => sn(a).supernodes.has(c.id)),
    `a learns of c from b and links to it within ${bound} ms`,
  )
  await clock.sleep(3000) // 100 ms rounds: about 30 pings more
  const swaps = pings.filter((x) => x.body.want === undefined)
  const lean = pings.filter((x) => x.body.want === 0)
  t.log(`${pings.length} pings, ${swaps.length} of them swaps`)
  t.is(swaps.length + lean.length, pings.length)
  t.true(lean.length >= 2 * swaps.length, `${lean.length} pings without a list, ${swaps.length} with`)
  t.true(swaps.length >= 0.2 * pings.length, `${swaps.length} of ${pings.length} pings swap lists`)
  for (const { peer, answer } of swaps) {
    t.is(answer?.accepted, true)
    const to = typeof peer === 'string' ? peer : peer.id
    t.is(answer?.supernodes[0]?.id, to, 'a swap gets the supernodes the link knows, itself first')
  }
  for (const { answer } of lean) {
    t.is(answer?.accepted, true, 'a lean ping still finds its link')
    t.deepEqual(answer?.supernodes, [], 'and gets no list')
  }
})

test('linked supernodes share the pings of a link: each is asked within about links x maintenanceInterval, at about one round in two; a silent link is dropped within that plus failoverTimeout', async (t) => {
  const testnet = await virtualNet(t, 4, FAST, undefined, {
    bootstrap: 0,
    configure: () => ({ bootstrap: [] }),
    start: false,
  })
  const { clock, hub, names } = testnet
  const all = testnet.peers as Peer[]
  for (const p of all) await p.start()
  for (const p of all)
    for (const q of all) if (p !== q) sn(p).supernodes.learn({ id: q.id, addresses: q.addresses() })
  t.true(
    await clock.until(2000, () => all.every((p) => sn(p).supernodes.size === 3)),
    'a full mesh: three links each',
  )
  const logs = all.map((p) => recordRequests(p.network, SUPERNODE, 'ping'))
  const interval = FAST.maintenanceInterval as number
  // When each link (either end) last exchanged a ping, sampled every 20 virtual ms for 6 s.
  const key = (a: string, b: string) => (a < b ? `${a} ${b}` : `${b} ${a}`)
  const last = new Map<string, number>()
  let widest = 0
  const seen = logs.map(() => 0)
  const start = clock.now()
  while (clock.now() - start < 6000) {
    await clock.sleep(20)
    for (const [i, log] of logs.entries()) {
      for (const { peer } of log.slice(seen[i])) {
        const k = key((all[i] as Peer).id, typeof peer === 'string' ? peer : peer.id)
        widest = Math.max(widest, clock.now() - (last.get(k) ?? start))
        last.set(k, clock.now())
      }
      seen[i] = log.length
    }
  }
  const pings = logs.reduce((a, l) => a + l.length, 0)
  const rounds = (all.length * 6000) / interval
  t.log(`${pings} pings in ${rounds} rounds; the longest a link waited: ${widest} ms`)
  t.is(last.size, 6, 'every link was pinged')
  t.true(pings <= 0.6 * rounds, `${pings} pings in ${rounds} rounds`)
  t.true(widest <= 3 * interval + 2 * interval + 100, `a link waited ${widest} ms`)
  // One supernode goes silent: the others drop their links to it.
  const [silent, ...rest] = all as [Peer, ...Peer[]]
  hub.partition([names[0] as string], names.slice(1))
  const bound = 3 * interval + 2 * interval + (FAST.failoverTimeout as number) + 200
  t.true(
    await clock.until(bound, () => rest.every((p) => !sn(p).supernodes.has(silent.id)), 10),
    `every link to the silent supernode dropped within ${bound} ms`,
  )
})

test("a supernode tells its leaf it is alive between two refreshes: the refresh's answer and one alive take the place of the leaf's heartbeats", async (t) => {
  const { peers, clock } = await net(t, 3, () => ({
    leavesPerSupernode: 50,
    heartbeatInterval: 500,
    refreshInterval: 1000,
  }))
  const [first, leaf] = peers as [Peer, Peer, Peer]
  t.is(sn(leaf).supernode()?.id, first.id)
  await clock.sleep(1000)
  const log = helloLog(leaf)
  const count = (kind: string) => sn(leaf).stats().received?.[kind] ?? 0
  const pings = () => sn(leaf).stats().sent?.ping ?? 0
  const before = { pings: pings(), alive: count('alive') }
  const sent = sn(first).stats().sent?.alive ?? 0
  const start = clock.now()
  let last = start
  let gap = 0
  while (clock.now() - start < 10_000) {
    const alive = count('alive')
    const answered = log.filter((x) => x.answer !== undefined).length
    await clock.sleep(10)
    // The leaf heard from its supernode: a refresh's answer or an alive.
    if (count('alive') !== alive || log.filter((x) => x.answer !== undefined).length !== answered) {
      gap = Math.max(gap, clock.now() - last)
      last = clock.now()
    }
  }
  const alives = count('alive') - before.alive
  t.log(
    `${log.length} refreshes, ${alives} alive, ${pings() - before.pings} heartbeats in 10 s; longest silence ${gap} ms`,
  )
  t.true(log.length >= 8 && log.length <= 11, `${log.length} refreshes`)
  t.true(
    log.every((x) => x.answer === undefined || x.answer?.accepted === true),
    'each refresh was counted as a heartbeat',
  )
  t.is(pings(), before.pings, 'the leaf sends no heartbeat')
  // One alive 550–650 ms after each answer (heartbeatInterval + half of maintenanceInterval), none more.
  t.true(alives >= log.length - 1 && alives <= log.length + 1, `${alives} alive for ${log.length} refreshes`)
  t.true((sn(first).stats().sent?.alive ?? 0) - sent >= alives, 'sent by its supernode')
  t.true(gap <= 1.75 * 500 + 20, `the leaf heard from its supernode at least every ${gap} ms`)
  t.is(sn(leaf).supernode()?.id, first.id, 'still attached')
  t.is(sn(leaf).stats().failovers, 0)
})

test('an attach that does not ask for alive (an older leaf) is answered without it and sent none', async (t) => {
  const { peers, clock } = await net(t, 3, () => ({ leavesPerSupernode: 50, refreshInterval: 400 }))
  const [first, leaf] = peers as [Peer, Peer, Peer]
  t.is(sn(leaf).supernode()?.id, first.id)
  const received = () => sn(leaf).stats().received?.alive ?? 0
  t.true(await clock.until(2000, () => received() > 0), 'the leaf is told it is alive')
  // The same leaf attaches again by hand, as an older peer would: no `alive` asked.
  const info = await leaf.network.request({ id: first.id, addresses: first.addresses() }, SUPERNODE, {
    kind: 'attach',
    addresses: leaf.addresses(),
    capacity: 1,
    capable: true,
    supernodes: [],
  })
  t.is(info?.accepted, true)
  t.is(info?.alive, undefined, 'the answer does not say it will send alive')
  const before = received()
  await clock.sleep(1000) // an alive about every refresh (400 ms) before
  t.is(received(), before, 'no alive since')
})

test('a leaf that refreshes less often than every 2 x heartbeatInterval does not ask for alive and keeps its heartbeats (its refreshes alone would let the directory drop it)', async (t) => {
  const { peers, clock } = await net(t, 3, () => ({ leavesPerSupernode: 50, refreshInterval: 1000 }))
  const [first, leaf] = peers as [Peer, Peer, Peer]
  t.is(sn(leaf).supernode()?.id, first.id)
  const pings = () => sn(leaf).stats().sent?.ping ?? 0
  const before = pings()
  await clock.sleep(3000)
  t.true(pings() - before >= 5, `${pings() - before} heartbeats in 3 s (heartbeatInterval 200)`)
  t.is(sn(leaf).stats().received?.alive ?? 0, 0, 'and is told no alive')
  t.is(sn(leaf).supernode()?.id, first.id, 'still attached')
  t.is(sn(leaf).stats().failovers, 0)
})

test('refreshes more often than heartbeats: no heartbeat at all, and the directory keeps the leaf', async (t) => {
  const { peers, clock } = await net(t, 3, () => ({
    leavesPerSupernode: 50,
    heartbeatInterval: 300, // the directory drops a leaf silent for 900 ms
    refreshInterval: 100,
  }))
  const [first, holder, searcher] = peers as [Peer, Peer, Peer]
  await holder.overlay.publish([record(holder, 'kept alive.txt')])
  await clock.sleep(1000)
  const pings = () => sn(holder).stats().sent?.ping ?? 0
  const before = pings()
  await clock.sleep(5000)
  t.is(pings(), before, 'no heartbeat')
  t.is(sn(holder).supernode()?.id, first.id, 'still attached')
  t.is(sn(holder).stats().failovers, 0)
  t.true(await finds(searcher, 'kept alive', holder), 'and its files are still found')
})

test('a silent supernode (partitioned away) is noticed by the heartbeat within the bound', async (t) => {
  const { peers, hub, names, clock } = await net(t, 4, () => ({ leavesPerSupernode: 50 }))
  const leaves = peers.slice(1)
  const cut = clock.now()
  hub.partition([names[0] as string], names.slice(1))
  t.true(
    await clock.until(
      SILENT_DETECTION + 2000,
      () => leaves.every((p) => sn(p).supernode()?.id !== peers[0]?.id),
      10,
    ),
    'every leaf lets go of the silent supernode',
  )
  const noticed = clock.now() - cut
  t.log(`noticed after ${noticed} virtual ms`)
  // The bound itself (virtual time: no margin for a slow machine), polled every 10 ms.
  t.true(noticed <= SILENT_DETECTION + 10, `${noticed} ms (bound ${SILENT_DETECTION} ms)`)
  // The election list a leaf holds may be older than its co-leaves' (refreshInterval): two may be
  // elected, and then they learn of each other and link.
  t.true(
    await clock.until(5000, () => {
      const elected = leaves.filter((p) => sn(p).role() === 'supernode')
      return (
        elected.length >= 1 &&
        elected.every((e) => sn(e).supernodes.size === elected.length - 1) &&
        leaves.every(
          (p) => sn(p).role() === 'supernode' || elected.some((e) => e.id === sn(p).supernode()?.id),
        )
      )
    }),
    'they elect a supernode among themselves, and every one of them is placed',
  )
  const holder = leaves[2] as Peer
  await holder.overlay.publish([record(holder, 'after the cut.txt')])
  t.true(
    await clock.until(5000, () => finds(leaves[0] as Peer, 'after the cut', holder)),
    'searches work again',
  )
})

test('a crowded supernode promotes a capable leaf and hands it half its leaves; incapable peers stay leaves', async (t) => {
  const { peers, clock } = await net(t, 12, (i) => ({
    leavesPerSupernode: 3,
    canBeSupernode: i === 0 || i % 2 === 0,
  }))
  t.true(
    await clock.until(8000, () => {
      const sns = peers.filter((p) => sn(p).role() === 'supernode')
      return (
        sns.length >= 3 && peers.every((p) => sn(p).role() === 'supernode' || sn(p).supernode() !== undefined)
      )
    }),
    'more supernodes appear, and everyone is placed',
  )
  for (const [i, p] of peers.entries())
    if (i % 2 === 1) t.is(sn(p).role(), 'leaf', `peer ${i} cannot be a supernode`)
  const total = peers.reduce((a, p) => a + (sn(p).stats().promotions as number), 0)
  t.true(total >= 3)
  for (const p of peers.filter((q) => sn(q).role() === 'supernode'))
    t.true((sn(p).stats().leaves as number) <= 6)
  const a = peers[1] as Peer
  await a.overlay.publish([record(a, 'crowded room.mp3')])
  const far = peers.find((p) => p !== a && sn(p).supernode()?.id !== sn(a).supernode()?.id) as Peer
  t.true(await clock.until(5000, () => finds(far, 'crowded room', a)), 'searches cross supernodes')
})

test('of two under-used linked supernodes, one steps down and its leaves move to the other', async (t) => {
  const testnet = await virtualNet(t, 4, { ...FAST, leavesPerSupernode: 8, demoteAfter: 300 }, undefined, {
    bootstrap: 0,
    configure: () => ({ bootstrap: [] }),
    start: false,
  })
  const { clock } = testnet
  const [p0, p1, p2, p3] = testnet.peers as [Peer, Peer, Peer, Peer]
  await p0.start()
  await p1.start()
  t.is(sn(p0).role(), 'supernode')
  t.is(sn(p1).role(), 'supernode')
  // p2 and p3 know both supernodes: the supernodes learn of each other through them.
  for (const p of [p2, p3]) {
    for (const s of [p0, p1]) sn(p).supernodes.learn({ id: s.id, addresses: s.addresses() })
    await p.start()
  }
  const demoted: string[] = []
  for (const s of [p0, p1]) s.overlay.on('role', (r) => r === 'leaf' && demoted.push(s.id))
  t.true(
    await clock.until(6000, () => [p0, p1].filter((p) => sn(p).role() === 'supernode').length === 1),
    'one supernode steps down',
  )
  t.is(demoted.length, 1)
  const stays = sn(p0).role() === 'supernode' ? p0 : p1
  t.true(
    await clock.until(5000, () =>
      [p0, p1, p2, p3].every((p) => p === stays || sn(p).supernode()?.id === stays.id),
    ),
    'everyone ends up attached to the remaining supernode',
  )
  await p3.overlay.publish([record(p3, 'after demotion.txt')])
  t.true(await clock.until(5000, () => finds(p2, 'after demotion', p3)))
})

test('a supernode gives a silent candidate up within failoverTimeout: it links to a live one long before the request timeout (10 s) of each silent one tried first', async (t) => {
  const testnet = await virtualNet(t, 6, { ...FAST, leavesPerSupernode: 8 }, undefined, {
    bootstrap: 0,
    configure: () => ({ bootstrap: [] }),
    start: false,
  })
  const { clock, hub, names } = testnet
  for (const p of testnet.peers) await p.start()
  const [fresh, live, ...silent] = testnet.peers as [Peer, Peer, ...Peer[]]
  for (const p of testnet.peers) t.is(sn(p).role(), 'supernode', 'alone, each is a supernode')
  // Connected to the silent ones before they go silent (a dial across a partition fails at once:
  // only an open connection goes silent, as a hung peer's or one cut off by a partition).
  for (const s of silent) await sn(fresh).network.dialAddress(s.addresses()[0] as string)
  hub.partition(
    [names[0] as string],
    silent.map((s) => names[testnet.peers.indexOf(s)] as string),
  )
  const start = clock.now()
  for (const s of [...silent, live]) sn(fresh).supernodes.learn({ id: s.id, addresses: s.addresses() })
  const bound = silent.length * (FAST.failoverTimeout as number) + 1000
  t.true(
    await clock.until(bound, () => sn(fresh).supernodes.has(live.id), 10),
    `linked to the live supernode within ${bound} ms`,
  )
  t.log(`linked to the live one after ${clock.now() - start} virtual ms`)
  t.true(
    await clock.until(bound, () => silent.every((s) => !sn(fresh).supernodes.has(s.id)), 10),
    'and linked to none of the silent ones',
  )
})

test('leaves that attached while their supernode knew no other learn of its first link at their next refresh, so when it dies they go to that supernode instead of electing an island nobody knows', async (t) => {
  // gossipEvery 1000: no refresh swaps lists on its own within the test (200 s of refreshes).
  const testnet = await virtualNet(t, 4, { ...FAST, leavesPerSupernode: 50, gossipEvery: 1000 }, undefined, {
    configure: (i) => (i === 1 ? { bootstrap: [] } : {}),
    start: false,
  })
  const { clock, hub, names } = testnet
  const [first, other, holder, leaf] = testnet.peers as [Peer, Peer, Peer, Peer]
  await first.start()
  for (const p of [holder, leaf]) await p.start()
  t.is(
    sn(holder).supernode()?.id,
    first.id,
    'the leaves attached to the first supernode, which knew no other',
  )
  await other.start()
  t.is(sn(other).role(), 'supernode', 'a second supernode, alone')
  sn(other).supernodes.learn({ id: first.id, addresses: first.addresses() })
  t.true(await clock.until(2000, () => sn(first).supernodes.has(other.id)), 'the two supernodes link')
  t.true(
    await clock.until(1000, () =>
      [holder, leaf].every((p) =>
        sn(p)
          .knownSupernodes()
          .some((r) => r.id === other.id),
      ),
    ),
    'the next refresh of each leaf names it the other supernode',
  )
  await holder.overlay.publish([record(holder, 'island or not.txt')])
  hub?.kill(names[0] as string)
  t.true(
    await clock.until(5000, () => finds(other, 'island or not', holder)),
    'a search from the other supernode finds the orphaned leaf again',
  )
  t.true(
    [holder, leaf].every((p) => sn(p).supernode()?.id === other.id),
    'both orphans attached to the other supernode',
  )
})
