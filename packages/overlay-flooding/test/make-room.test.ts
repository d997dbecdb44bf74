import '@peerkit/index-memory'
import '@peerkit/transport-memory'
import { TestClock } from '@peerkit/compliance'
import { CLOCK, collect } from '@peerkit/core'
import { MemoryNetwork, memoryContainer } from '@peerkit/transport-memory'
import test, { type ExecutionContext } from 'ava'
import type { FloodingOptions, PongMessage, QueryMessage } from '../src/index.js'
import { hashOf, type RawNode, startNode, startRaw } from './helpers/node.js'
import { rawProtocol } from './helpers/raw.js'

const FAST: FloodingOptions = { ringTimeout: 100, maintenanceInterval: 600_000 }

/** A target node on a hub with a hand-moved clock, and `raws` hand-driven peers that join it. */
async function setup(t: ExecutionContext, flooding: FloodingOptions, raws: number) {
  const clock = new TestClock()
  const parent = memoryContainer(new MemoryNetwork())
  parent.register(CLOCK, { useValue: clock })
  const target = await startNode(t, {
    parent,
    transport: 'memory',
    listen: ['memory://t'],
    flooding: { ...FAST, ...flooding },
  })
  const peers: RawNode[] = []
  for (let i = 0; i < raws; i++)
    peers.push(await startRaw(t, { parent, transport: 'memory', listen: [`memory://r${i}`] }))
  const join = async (i: number, degree: number, makeRoom?: boolean): Promise<PongMessage> => {
    const raw = peers[i] as RawNode
    const id = (await raw.network.dialAddress('memory://t')).id
    const ping = { kind: 'ping', join: true, addresses: raw.network.addresses(), degree }
    return raw.network.request(id, rawProtocol, makeRoom === undefined ? ping : { ...ping, makeRoom })
  }
  const ids = peers.map((r) => r.network.peerId)
  const neighbors = () =>
    target.overlay
      .neighbors()
      .map((n) => ids.indexOf(n.id))
      .sort()
  const toldToGo = (i: number) =>
    peers[i]?.inbox.some((m) => m.msg.kind === 'bye' && /making room/.test(m.msg.reason)) ?? false
  return { clock, target, peers, join, neighbors, toldToGo }
}

test('a full node makes room for a peer with no neighbor by evicting a neighbor that is no anchor, once per evictionInterval', async (t) => {
  const { clock, target, join, neighbors, toldToGo } = await setup(
    t,
    { minNeighbors: 1, maxNeighbors: 2, evictionInterval: 10_000, anchorAge: 60_000 },
    5,
  )
  t.like(await join(0, 3), { accepted: true })
  t.like(await join(1, 3), { accepted: true })
  const refused = await join(2, 1)
  t.like(refused, { accepted: false }, 'full: a joiner with neighbors is refused')
  t.true(refused.peers.length > 0, 'a refusal names peers to try')
  t.like(await join(2, 0), { accepted: true }, 'a joiner with none gets room')
  t.deepEqual(neighbors(), [0, 2], 'the anchor (the longest-standing neighbor) stays; the other one goes')
  t.true(toldToGo(1), 'the evicted neighbor is told')
  t.like(await join(3, 0), { accepted: false }, 'one eviction per evictionInterval')
  await clock.advance(10_000)
  t.like(await join(3, 0), { accepted: true }, 'the next interval, the next eviction')
  t.deepEqual(neighbors(), [0, 3])
  await clock.advance(60_000)
  t.like(await join(4, 0), { accepted: false }, 'a neighbor older than anchorAge is never evicted')
  t.deepEqual(neighbors(), [0, 3])
  t.is(target.overlay.stats().evicted, 2)
})

test('a full node asked to make room for a joiner below minNeighbors evicts a neighbor known to have more than minNeighbors', async (t) => {
  const { clock, target, join, neighbors, toldToGo } = await setup(
    t,
    { minNeighbors: 2, maxNeighbors: 4, evictionInterval: 10_000 },
    6,
  )
  t.like(await join(0, 5), { accepted: true, degree: 1 }, 'room: accepted, and the pong tells the degree')
  t.like(await join(1, 1), { accepted: true, degree: 2 }) // it has 2 neighbors now, this one included
  t.like(await join(2, 5), { accepted: true })
  t.like(await join(3, 1), { accepted: true })
  // Full. A joiner at its minimum gets nothing; one below it gets the place of a neighbor that has more
  // than enough and is no anchor (0 has more than enough too, but it is one of the two longest-standing).
  t.like(await join(4, 2, true), { accepted: false })
  t.like(await join(4, 1, false), { accepted: false }, 'only when asked to make room')
  t.like(await join(4, 1, true), { accepted: true })
  t.deepEqual(neighbors(), [0, 1, 3, 4])
  t.true(toldToGo(2), 'the evicted neighbor is told')
  t.like(await join(5, 1, true), { accepted: false }, 'one eviction per evictionInterval')
  await clock.advance(10_000)
  // Nobody evictable left with more than minNeighbors: the next one below it is refused.
  t.like(await join(5, 1, true), { accepted: false })
  t.is(target.overlay.stats().evicted, 1)
})

test('a neighbor that brought a hit to a search of this node is an anchor', async (t) => {
  const { clock, target, peers, join, neighbors } = await setup(t, { minNeighbors: 1, maxNeighbors: 2 }, 3)
  t.like(await join(0, 3), { accepted: true })
  t.like(await join(1, 3), { accepted: true })
  const search = collect(target.overlay.search({ keywords: ['ubuntu'] }))
  const answering = peers[1] as RawNode
  const query = () => answering.inbox.find((m) => m.msg.kind === 'query')?.msg as QueryMessage | undefined
  await clock.until(() => query() !== undefined, 1000, 'the query')
  const self = answering.network.self()
  const hit = { hash: hashOf('ubuntu.iso'), name: 'ubuntu.iso', size: 1, chunkSize: 65536, providers: [self] }
  const id = (query() as QueryMessage).id
  await answering.network.send(target.network.peerId, rawProtocol, { kind: 'hit', id, hops: 1, hits: [hit] })
  t.is((await clock.settle(search, 30_000)).length, 1)
  t.like(await join(2, 0), { accepted: false }, 'the longest-standing neighbor and the useful one both stay')
  t.deepEqual(neighbors(), [0, 1])
  t.is(target.overlay.stats().evicted, 0)
})
