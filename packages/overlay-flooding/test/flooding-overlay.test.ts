import '@peerkit/index-memory'
import '@peerkit/transport-memory'
import { type RecordedRequest, recordRequests, TestClock } from '@peerkit/compliance'
import {
  CLOCK,
  collect,
  createLogger,
  type Hit,
  LOGGER,
  type LogEntry,
  NotStartedError,
  type PeerRef,
} from '@peerkit/core'
import { MemoryNetwork, memoryContainer } from '@peerkit/transport-memory'
import test, { type ExecutionContext } from 'ava'
import type { DependencyContainer } from 'tsyringe'
import {
  FLOODING,
  type FloodingOptions,
  type HitMessage,
  type PingMessage,
  type PongMessage,
  type QueryMessage,
} from '../src/index.js'
import { distances, hashOf, recordFor, startNode, startRaw, type TestNode } from './helpers/node.js'
import { rawProtocol } from './helpers/raw.js'

const FAST: FloodingOptions = { ringTimeout: 100, maintenanceInterval: 60_000 }

/** A memory hub on a virtual clock: every node under `parent` runs in the test's time. */
function hub(net = new MemoryNetwork()) {
  const clock = new TestClock()
  const parent = memoryContainer(net)
  parent.register(CLOCK, { useValue: clock })
  return { parent, clock }
}

/** n nodes in a line: each bootstraps to the one before and keeps only two neighbors. */
async function line(t: ExecutionContext, n: number, extra: FloodingOptions = {}) {
  const { parent, clock } = hub()
  const nodes: TestNode[] = []
  for (let i = 0; i < n; i++) {
    nodes.push(
      await startNode(t, {
        parent,
        transport: 'memory',
        listen: [`memory://n${i}`],
        bootstrap: i === 0 ? [] : [`memory://n${i - 1}`],
        flooding: { ...FAST, minNeighbors: 1, maxNeighbors: 2, ...extra },
        seed: i + 1,
      }),
    )
  }
  return { nodes, clock }
}

const qid = (n: number) => n.toString(16).padStart(32, '0')

test('nodes join through bootstrap: symmetric neighbors, between min and max', async (t) => {
  const { parent, clock } = hub()
  const opts = { ...FAST, minNeighbors: 2, maxNeighbors: 4, maintenanceInterval: 100 }
  const nodes: TestNode[] = []
  for (let i = 0; i < 8; i++) {
    nodes.push(
      await startNode(t, {
        parent,
        transport: 'memory',
        listen: [`memory://j${i}`],
        bootstrap: i === 0 ? [] : ['memory://j0'],
        flooding: opts,
        seed: i + 1,
      }),
    )
  }
  await clock.until(
    () => nodes.every((n) => n.overlay.neighbors().length >= 2),
    5000,
    'every node to have 2 neighbors',
  )
  for (const n of nodes) {
    const mine = n.overlay.neighbors()
    t.true(mine.length <= 4)
    for (const nb of mine) {
      const other = nodes.find((m) => m.network.peerId === nb.id)
      t.truthy(
        other?.overlay.neighbors().some((r) => r.id === n.network.peerId),
        'neighbors are mutual',
      )
      t.true(nb.addresses.length > 0, 'neighbors are known with addresses')
    }
  }
  t.true(
    distances(nodes, 0).every((d) => Number.isFinite(d)),
    'the mesh is connected',
  )
})

test('a file beyond the TTL horizon is not found at that TTL; the expanding ring finds it', async (t) => {
  const { nodes, clock } = await line(t, 8)
  t.deepEqual(distances(nodes, 0), [0, 1, 2, 3, 4, 5, 6, 7])
  const holder = nodes[5] as TestNode
  await holder.overlay.publish([recordFor(holder.network.self(), 'Harry.Potter.and.the.Chamber.mkv')])
  const searcher = (nodes[0] as TestNode).overlay

  t.deepEqual(
    await clock.settle(
      collect(searcher.search({ keywords: ['harry', 'potter'] }, { expandingRing: false, ttl: 4 })),
      60_000,
    ),
    [],
  )
  const plain = await clock.settle(
    collect(searcher.search({ keywords: ['harry', 'potter'] }, { expandingRing: false, ttl: 5 })),
    60_000,
  )
  t.is(plain.length, 1)
  t.is(plain[0]?.hops, 5)

  const ring = await clock.settle(collect(searcher.search({ keywords: ['harry', 'potter'] })), 60_000)
  t.is(ring.length, 1)
  t.is(ring[0]?.name, 'Harry.Potter.and.the.Chamber.mkv')
  t.is(ring[0]?.hash, hashOf('Harry.Potter.and.the.Chamber.mkv'))
  t.deepEqual(
    ring[0]?.providers.map((p) => p.id),
    [holder.network.peerId],
  )
  t.true((ring[0]?.providers[0]?.addresses.length ?? 0) > 0, 'the provider comes with its addresses')
  t.is(ring[0]?.hops, 5)
})

test('hits travel back along the reverse path only; queries stop at the TTL', async (t) => {
  const { nodes, clock } = await line(t, 8)
  const holder = nodes[3] as TestNode
  await holder.overlay.publish([recordFor(holder.network.self(), 'song.mp3')])
  const hits = await clock.settle(
    collect((nodes[0] as TestNode).overlay.search({ keywords: ['song'] }, { expandingRing: false, ttl: 5 })),
    60_000,
  )
  t.is(hits.length, 1)
  const s = nodes.map((n) => n.overlay.stats())
  t.deepEqual(
    s.map((x) => x.sent.hit ?? 0),
    [0, 1, 1, 1, 0, 0, 0, 0],
    'holder answers, 2 and 1 relay',
  )
  t.deepEqual(
    s.map((x) => x.received.hit ?? 0),
    [1, 1, 1, 0, 0, 0, 0, 0],
    'nobody beyond the holder sees a hit',
  )
  t.deepEqual(
    s.map((x) => x.received.query ?? 0),
    [0, 1, 1, 1, 1, 1, 0, 0],
    'TTL 5 reaches 5 hops, no further',
  )
})

test('a duplicate query is answered once and not forwarded again', async (t) => {
  const { parent, clock } = hub()
  const target = await startNode(t, { parent, transport: 'memory', listen: ['memory://t'], flooding: FAST })
  const next = await startNode(t, {
    parent,
    transport: 'memory',
    listen: ['memory://next'],
    bootstrap: ['memory://t'],
    flooding: FAST,
  })
  await target.overlay.publish([recordFor(target.network.self(), 'Harry.Potter.mkv')])
  const raw = await startRaw(t, { parent, transport: 'memory', listen: ['memory://raw'] })
  const targetRef = await raw.network.dialAddress('memory://t')
  const pong = await raw.network.request(targetRef.id, rawProtocol, {
    kind: 'ping',
    join: true,
    addresses: raw.network.addresses(),
    degree: 0,
  })
  t.like(pong, { kind: 'pong', accepted: true })
  const query: QueryMessage = { kind: 'query', id: qid(1), ttl: 3, hops: 0, query: { keywords: ['harry'] } }
  await raw.network.send(target.network.peerId, rawProtocol, query)
  await raw.network.send(target.network.peerId, rawProtocol, query)
  await raw.network.send(target.network.peerId, rawProtocol, { ...query, id: qid(2) })
  await clock.until(() => raw.inbox.filter((m) => m.msg.kind === 'hit').length >= 2, 3000, 'two hits')
  await clock.until(() => (next.overlay.stats().received.query ?? 0) >= 2, 3000, 'the forwarded queries')
  await clock.advance(1000) // a virtual second: anything still on its way is delivered
  const hits = raw.inbox.filter((m) => m.msg.kind === 'hit').map((m) => m.msg as HitMessage)
  t.deepEqual(hits.map((h) => h.id).sort(), [qid(1), qid(2)], 'one answer per query id')
  t.is(hits[0]?.hops, 1)
  t.is(target.overlay.stats().duplicates, 1)
  t.is(next.overlay.stats().received.query, 2, 'the duplicate was not forwarded')
  t.is(next.overlay.stats().sent.hit, undefined)
})

test('a neighbor that floods queries is throttled, then dropped and refused', async (t) => {
  const { parent, clock } = hub()
  const logged: LogEntry[] = []
  parent.register(LOGGER, { useValue: createLogger({ level: 'debug', sink: (e) => logged.push(e) }) })
  const target = await startNode(t, {
    parent,
    transport: 'memory',
    listen: ['memory://t'],
    flooding: { ...FAST, queryRate: 1, queryBurst: 3, dropAfter: 3 },
  })
  const raw = await startRaw(t, { parent, transport: 'memory', listen: ['memory://raw'] })
  const id = (await raw.network.dialAddress('memory://t')).id
  const join = { kind: 'ping', join: true, addresses: raw.network.addresses(), degree: 1 }
  t.like(await raw.network.request(id, rawProtocol, join), { accepted: true })
  t.is(target.overlay.neighbors().length, 1)
  const removed = new Promise((r) => target.overlay.once('neighbor:remove', r))
  const gone = new Promise((r) => raw.network.once('peer:disconnect', r))
  for (let i = 0; i < 10; i++) {
    await raw.network
      .send(id, rawProtocol, { kind: 'query', id: qid(100 + i), ttl: 2, hops: 0, query: { keywords: ['x'] } })
      .catch(() => {}) // the target may hang up mid-burst: that is the drop under test
  }
  await clock.settle(Promise.all([removed, gone]), 10_000)
  const s = target.overlay.stats()
  t.is(s.throttled, 3)
  t.is(s.dropped, 1)
  t.is(target.overlay.neighbors().length, 0)
  t.true(
    raw.inbox.some((m) => m.msg.kind === 'bye'),
    'it was told why',
  )
  await raw.network.dialAddress('memory://t')
  t.like(await raw.network.request(id, rawProtocol, join), { accepted: false }, 'banned for banTime')
  t.like(
    logged.find((e) => e.level === 'warn'),
    { component: 'peerkit:flooding:neighbors', fields: { peer: raw.network.peerId, queryRate: 1 } },
    'the operator is told, once',
  )
})

test('a non-neighbor gets a bye instead of answers; a malformed message closes only its connection', async (t) => {
  const { parent, clock } = hub()
  const target = await startNode(t, { parent, transport: 'memory', listen: ['memory://t'], flooding: FAST })
  const other = await startNode(t, {
    parent,
    transport: 'memory',
    listen: ['memory://o'],
    bootstrap: ['memory://t'],
    flooding: FAST,
  })
  await target.overlay.publish([recordFor(target.network.self(), 'Harry.Potter.mkv')])
  const raw = await startRaw(t, { parent, transport: 'memory', listen: ['memory://raw'] })
  const id = (await raw.network.dialAddress('memory://t')).id
  await raw.network.send(id, rawProtocol, {
    kind: 'query',
    id: qid(7),
    ttl: 2,
    hops: 0,
    query: { keywords: ['harry'] },
  })
  await clock.until(() => raw.inbox.some((m) => m.msg.kind === 'bye'), 3000, 'a bye')
  t.false(raw.inbox.some((m) => m.msg.kind === 'hit'))

  const closed = new Promise((r) => raw.network.once('peer:disconnect', r))
  await raw.network.send(id, rawProtocol, { kind: 'query', id: 'not-an-id', ttl: 99 })
  await clock.settle(closed, 10_000)
  const hits: Hit[] = await clock.settle(collect(other.overlay.search({ keywords: ['harry'] })), 60_000)
  t.is(hits.length, 1, 'the node goes on serving its neighbors')
})

/** Six nodes, each joining through the one before it (`memory://<prefix>0` …), each with two neighbors or more. */
async function startChain(
  t: ExecutionContext,
  parent: DependencyContainer,
  clock: TestClock,
  prefix: string,
  flooding: FloodingOptions,
): Promise<TestNode[]> {
  const nodes: TestNode[] = []
  for (let i = 0; i < 6; i++) {
    nodes.push(
      await startNode(t, {
        parent,
        transport: 'memory',
        listen: [`memory://${prefix}${i}`],
        bootstrap: i === 0 ? [] : [`memory://${prefix}${i - 1}`],
        flooding,
        seed: 10 + i,
      }),
    )
  }
  await clock.until(() => nodes.every((n) => n.overlay.neighbors().length >= 2), 5000, 'two neighbors each')
  return nodes
}

test('a neighbor that leaves is replaced from the known peers', async (t) => {
  const { parent, clock } = hub()
  const opts = { ...FAST, minNeighbors: 2, maxNeighbors: 4, maintenanceInterval: 200 }
  const nodes = await startChain(t, parent, clock, 'r', opts)
  const watched = nodes[5] as TestNode
  const leaving = nodes.find((n) => n.network.peerId === watched.overlay.neighbors()[0]?.id) as TestNode
  const removed = new Promise<{ id: string }>((r) => watched.overlay.once('neighbor:remove', r))
  await clock.settle(leaving.stop(), 10_000)
  t.is((await clock.settle(removed, 10_000)).id, leaving.network.peerId)
  await clock.until(() => watched.overlay.neighbors().length >= 2, 5000, 'a replacement neighbor')
  t.false(watched.overlay.neighbors().some((n) => n.id === leaving.network.peerId))
})

test('a neighbor whose link goes silent is probed, dropped and replaced', async (t) => {
  const net = new MemoryNetwork()
  const { parent, clock } = hub(net)
  const opts = {
    ...FAST,
    minNeighbors: 2,
    maxNeighbors: 4,
    maintenanceInterval: 100,
    probeAfter: 300,
    probeTimeout: 300,
  }
  const nodes = await startChain(t, parent, clock, 's', opts)
  const watched = nodes[5] as TestNode
  const silentId = watched.overlay.neighbors()[0]?.id as string
  const silentIndex = nodes.findIndex((n) => n.network.peerId === silentId)
  // The link to it goes down without a close: its messages are dropped both ways.
  net.partition(
    [`s${silentIndex}`],
    nodes.map((_, i) => `s${i}`).filter((_, i) => i !== silentIndex),
  )
  const removed = new Promise<{ id: string }>((r) =>
    watched.overlay.on('neighbor:remove', (p) => p.id === silentId && r(p)),
  )
  t.is((await clock.settle(removed, 10_000)).id, silentId)
  await clock.until(() => watched.overlay.neighbors().length >= 2, 5000, 'a replacement neighbor')
  t.false(watched.overlay.neighbors().some((n) => n.id === silentId))
  t.true((watched.overlay.stats().unanswered as number) >= 1)
})

test('a probe of a quiet neighbor asks for no peers, and its pong carries none; a ping for peers gets them', async (t) => {
  const { parent, clock } = hub()
  const opts = { ...FAST, minNeighbors: 2, maxNeighbors: 4, maintenanceInterval: 100, probeAfter: 300 }
  const nodes = await startChain(t, parent, clock, 'pr', opts)
  const watched = nodes[3] as TestNode
  const pings = recordRequests(watched.network, FLOODING, 'ping') as RecordedRequest<
    PingMessage,
    PongMessage | null
  >[]
  // Nothing flows between the nodes: every neighbor goes quiet and is probed once per probeAfter.
  await clock.until(() => pings.filter((p) => p.body.peers === 0).length >= 4, 5000, 'probes')
  for (const { body, answer: pong } of pings.filter((p) => !p.body.join)) {
    t.is(body.peers, 0, 'a probe asks for no peers')
    t.deepEqual(pong?.peers, [], 'and gets none')
    t.is(typeof pong?.degree, 'number', 'only its degree, which the prober reads')
  }
  const asked = (await watched.network.request(nodes[2]?.network.self() as PeerRef, FLOODING, {
    kind: 'ping',
    join: false,
    addresses: [],
    degree: 2,
  })) as PongMessage
  t.true(asked.peers.length > 0, 'a ping that names no number gets up to pongPeers peers')
})

test('providers() finds every holder; search() stops at the limit', async (t) => {
  const { parent, clock } = hub()
  const nodes: TestNode[] = []
  for (let i = 0; i < 6; i++) {
    nodes.push(
      await startNode(t, {
        parent,
        transport: 'memory',
        listen: [`memory://p${i}`],
        bootstrap: i === 0 ? [] : ['memory://p0'],
        flooding: { ...FAST, minNeighbors: 1, maxNeighbors: 8 },
      }),
    )
  }
  for (const n of nodes.slice(1, 4)) await n.overlay.publish([recordFor(n.network.self(), 'shared.iso')])
  for (const [i, n] of nodes.slice(1).entries())
    await n.overlay.publish([recordFor(n.network.self(), `song-${i}.mp3`)])
  const searcher = (nodes[4] as TestNode).overlay
  const providers = await clock.settle(
    collect(searcher.providers(hashOf('shared.iso'), { expandingRing: false, ttl: 3 })),
    60_000,
  )
  t.deepEqual(
    providers.map((p) => p.id).sort(),
    nodes
      .slice(1, 4)
      .map((n) => n.network.peerId)
      .sort(),
  )
  const started = clock.now()
  const limited = await clock.settle(
    collect(searcher.search({ keywords: ['song'], limit: 2 }, { expandingRing: false, ttl: 3 })),
    60_000,
  )
  t.is(new Set(limited.map((h) => h.hash)).size, 2)
  t.true(clock.now() - started < 300, 'ends at the limit, before the step timeout (300 virtual ms)')
  const stats = searcher.stats()
  t.true((stats.sent.query ?? 0) >= 2)
  t.true((stats.received.hit ?? 0) >= 2)
})

test('searching needs a started overlay', async (t) => {
  const { parent } = hub()
  const node = await startNode(t, { parent, transport: 'memory', listen: ['memory://s'], flooding: FAST })
  await node.overlay.stop()
  await t.throwsAsync(collect(node.overlay.search({ keywords: ['x'] })), { instanceOf: NotStartedError })
  await t.throwsAsync(collect(node.overlay.providers(hashOf('x'))), { name: 'NotStartedError' })
})

test('stop() ends the searches under way', async (t) => {
  const { parent, clock } = hub()
  const slow = { ...FAST, ringTimeout: 10_000 }
  const a = await startNode(t, { parent, transport: 'memory', listen: ['memory://sa'], flooding: slow })
  await startNode(t, {
    parent,
    transport: 'memory',
    listen: ['memory://sb'],
    bootstrap: ['memory://sa'],
    flooding: slow,
  })
  const began = clock.now()
  const pending = collect(a.overlay.search({ keywords: ['nothing', 'here'] }))
  await clock.advance(50)
  await a.overlay.stop()
  t.deepEqual(await clock.settle(pending, 60_000), [])
  t.is(clock.now() - began, 50, 'it did not wait for the 10 s ring step')
})

test('a query the neighbors would refuse is refused here, before anything is sent', async (t) => {
  const { parent } = hub()
  const a = await startNode(t, { parent, transport: 'memory', listen: ['memory://qa'], flooding: FAST })
  await startNode(t, {
    parent,
    transport: 'memory',
    listen: ['memory://qb'],
    bootstrap: ['memory://qa'],
    flooding: FAST,
  })
  const long = 'x'.repeat(500)
  await t.throwsAsync(collect(a.overlay.search({ keywords: [long] })), { name: 'InvalidOptionsError' })
  await t.throwsAsync(collect(a.overlay.search({ keywords: ['a'] }, { expandingRing: false, ttl: 9 })), {
    name: 'InvalidOptionsError',
    message: /ttl must be an integer from 1 to 7 \(got 9\)/,
  })
  await t.throwsAsync(collect(a.overlay.search({ keywords: ['a'] }, { providerTarget: 0 })), {
    name: 'InvalidOptionsError',
    message: 'search providerTarget must be an integer >= 1 (got 0)',
  })
  await t.throwsAsync(collect(a.overlay.providers('not-a-hash')), { name: 'InvalidOptionsError' })
  t.is(a.overlay.stats().sent.query, undefined)
  t.is(a.overlay.neighbors().length, 1, 'still connected')
})

test('a node whose bootstrap peers do not answer warns, retries with backoff, and says when it joins', async (t) => {
  const { parent, clock } = hub()
  const logged: LogEntry[] = []
  parent.register(LOGGER, { useValue: createLogger({ level: 'debug', sink: (e) => logged.push(e) }) })
  const lines = (level: string) =>
    logged.filter((e) => e.level === level && e.component === 'peerkit:flooding:neighbors')
  await startNode(t, {
    parent,
    transport: 'memory',
    listen: ['memory://alone'],
    bootstrap: ['memory://later'],
    flooding: { ...FAST, maintenanceInterval: 1000 },
  })
  t.deepEqual(
    lines('warn').map((e) => e.message),
    ['no neighbor reachable: the bootstrap peers did not answer or had no room; retrying'],
  )
  t.like(lines('warn')[0]?.fields, { bootstrap: ['memory://later'], retryIn: 1000 })
  await clock.advance(30_000)
  t.is(lines('warn').length, 1, 'retries within a minute are debug lines, not warnings')
  // Backoff: rounds 1, 2, 4, 8, 16 s apart (maintenanceInterval doubled, up to 60 s): 5 in 30 s, not 30.
  const retries = lines('debug').filter((e) => e.message === 'bootstrap retry failed')
  t.deepEqual(
    retries.map((e) => e.fields?.retryIn),
    [1000, 2000, 4000, 8000, 16_000],
  )
  await clock.advance(35_000)
  t.is(lines('warn').length, 2, 'a minute on, it warns again')
  t.like(lines('warn')[1], { message: 'still no neighbor: bootstrap retries failed' })
  await startNode(t, { parent, transport: 'memory', listen: ['memory://later'], flooding: FAST })
  // (Both nodes log to this sink: the one at memory://later says 'joined the overlay'.)
  await clock.until(
    () => lines('info').some((e) => e.message === 'joined the overlay after bootstrap retries'),
    61_000, // the next round: 60 s (the longest backoff) after the one at 64 s
    'the join',
  )
  t.is(lines('warn').length, 2)
})

test('neighbor maintenance that throws is logged at warn and keeps running (virtual clock)', async (t) => {
  const { parent, clock } = hub()
  const logged: LogEntry[] = []
  parent.register(LOGGER, { useValue: createLogger({ level: 'warn', sink: (e) => logged.push(e) }) })
  const node = await startNode(t, {
    parent,
    transport: 'memory',
    listen: ['memory://failing-maintenance'],
    flooding: { ...FAST, maintenanceInterval: 1000 },
  })
  // Every maintenance round from now on fails at its first step.
  let rounds = 0
  const overlay = node.overlay as unknown as { probeQuiet(): Promise<void> }
  overlay.probeQuiet = () => {
    rounds++
    return Promise.reject(new Error('neighbor table broke'))
  }
  await clock.advance(10_000)
  const failures = logged.filter((e) => e.level === 'warn' && /maintenance failed/.test(e.message))
  t.true(rounds >= 8, `${rounds} rounds in 10 intervals: the schedule went on`)
  t.is(failures.length, rounds, 'every failed round was logged')
  t.is(failures[0]?.component, 'peerkit:flooding:neighbors')
  t.is((failures[0]?.fields?.err as Error | undefined)?.message, 'neighbor table broke')
})

test('a query is forwarded only over open connections: a neighbor whose connection just closed is dropped, never dialed again for it', async (t) => {
  const { parent, clock } = hub()
  // minNeighbors 1: losing one of two neighbors starts no maintenance round (which would join it again).
  const flooding = { ...FAST, minNeighbors: 1 }
  const node = await startNode(t, { parent, transport: 'memory', listen: ['memory://n'], flooding })
  const kept = await startRaw(t, { parent, transport: 'memory', listen: ['memory://kept'] })
  const lost = await startRaw(t, { parent, transport: 'memory', listen: ['memory://lost'] })
  const id = (await kept.network.dialAddress('memory://n')).id
  await lost.network.dialAddress('memory://n')
  for (const raw of [kept, lost]) {
    const join = { kind: 'ping', join: true, addresses: raw.network.addresses(), degree: 1 }
    t.like(await raw.network.request(id, rawProtocol, join), { accepted: true })
  }
  t.is(node.overlay.neighbors().length, 2)
  const dials: string[] = []
  node.network.on('peer:connect', (p) => dials.push(p.id))
  void node.network.hangUp(lost.network.peerId)
  await clock.settle(
    collect(node.overlay.search({ keywords: ['x'] }, { expandingRing: false, ttl: 2 })),
    5000,
  )
  t.true(
    kept.inbox.some((m) => m.msg.kind === 'query'),
    'the open neighbor got the query',
  )
  t.false(lost.inbox.some((m) => m.msg.kind === 'query'))
  t.deepEqual(
    node.overlay.neighbors().map((n) => n.id),
    [kept.network.peerId],
  )
  t.false(node.network.isConnected(lost.network.peerId))
  t.deepEqual(dials, [], 'nothing was dialed to send it')
})

test("a neighbor's queries are a neighbor's while it is one: after its bye they get a bye, after it joins again hits", async (t) => {
  const { parent, clock } = hub()
  // minNeighbors 0: losing its one neighbor starts no maintenance round (which would join it again).
  const flooding = { ...FAST, minNeighbors: 0 }
  const node = await startNode(t, { parent, transport: 'memory', listen: ['memory://m'], flooding })
  await node.overlay.publish([recordFor(node.network.self(), 'Harry.Potter.mkv')])
  const raw = await startRaw(t, { parent, transport: 'memory', listen: ['memory://mraw'] })
  const id = (await raw.network.dialAddress('memory://m')).id
  const join = { kind: 'ping', join: true, addresses: raw.network.addresses(), degree: 0 }
  const query = (n: number) =>
    raw.network.send(id, rawProtocol, {
      kind: 'query',
      id: qid(n),
      ttl: 1,
      hops: 0,
      query: { keywords: ['harry'] },
    })
  const hitFor = (n: number) => raw.inbox.some((m) => m.msg.kind === 'hit' && m.msg.id === qid(n))
  t.like(await raw.network.request(id, rawProtocol, join), { accepted: true })
  await query(1)
  await clock.until(() => hitFor(1), 3000, 'a hit for the first query')
  // The node keeps its neighbor with the connection's context: the bye must still end it there.
  await raw.network.send(id, rawProtocol, { kind: 'bye', reason: 'leaving' })
  await clock.until(() => node.overlay.neighbors().length === 0, 3000, 'the neighbor gone')
  await query(2)
  await clock.until(() => raw.inbox.some((m) => m.msg.kind === 'bye'), 3000, 'a bye for a non-neighbor')
  t.false(hitFor(2))
  t.like(await raw.network.request(id, rawProtocol, join), { accepted: true })
  await query(3)
  await clock.until(() => hitFor(3), 3000, 'a hit once it is a neighbor again')
  t.is(node.overlay.stats().received.query, 3)
})
