import '@peerkit/index-memory'
import '@peerkit/transport-tcp'
import { collect } from '@peerkit/core'
import test, { type ExecutionContext } from 'ava'
import { container } from 'tsyringe'
import type { FloodingOptions, HitMessage } from '../src/index.js'
import { distances, recordFor, startNode, startRaw, type TestNode } from './helpers/node.js'
import { rawProtocol } from './helpers/raw.js'

const PEERS = 20
const OPTIONS: FloodingOptions = {
  minNeighbors: 2,
  maxNeighbors: 3,
  ringTimeout: 150,
  maintenanceInterval: 60_000,
}

/** 20 peers over TCP on loopback; each joins through the one before, so the mesh is long and thin. */
async function mesh(t: ExecutionContext): Promise<TestNode[]> {
  const parent = container.createChildContainer()
  const nodes: TestNode[] = []
  for (let i = 0; i < PEERS; i++) {
    const before = nodes[i - 1]
    nodes.push(
      await startNode(t, {
        parent,
        transport: 'tcp',
        listen: ['tcp://127.0.0.1:0'],
        bootstrap: before ? before.network.addresses() : [],
        flooding: OPTIONS,
        seed: 1000 + i,
      }),
    )
  }
  return nodes
}

test('over TCP, 20 peers: beyond the TTL horizon nothing is found; the expanding ring finds it; one answer per query', async (t) => {
  const nodes = await mesh(t)
  const dist = distances(nodes, 0)
  t.true(
    dist.every((d) => Number.isFinite(d)),
    `the mesh is connected: ${dist}`,
  )
  // With at most 3 neighbors, at most 10 peers are within 2 hops: some peer is 3 or more hops away.
  const far = Math.min(5, Math.max(...dist))
  t.true(far >= 3)
  const holderIndex = dist.indexOf(far)
  const holder = nodes[holderIndex] as TestNode
  const name = 'Harry.Potter.and.the.Chamber.of.Secrets.(2002).mkv'
  await holder.overlay.publish([recordFor(holder.network.self(), name)])
  const searcher = (nodes[0] as TestNode).overlay

  const inside = await collect(
    searcher.search({ keywords: ['harry', 'potter'] }, { expandingRing: false, ttl: far - 1 }),
  )
  t.deepEqual(inside, [], `not found at TTL ${far - 1}: the file is ${far} hops away`)

  const ring = await collect(searcher.search({ keywords: ['harry', 'potter'] }))
  t.is(ring.length, 1, 'found by the expanding ring')
  t.is(ring[0]?.name, name)
  t.deepEqual(
    ring[0]?.providers.map((p) => p.id),
    [holder.network.peerId],
  )
  t.true((ring[0]?.hops ?? 0) >= far)

  const before = holder.overlay.stats()
  const flood = await collect(
    searcher.search({ keywords: ['harry', 'potter'] }, { expandingRing: false, ttl: 7 }),
  )
  t.is(flood.length, 1)
  const after = holder.overlay.stats()
  const received = (after.received.query ?? 0) - (before.received.query ?? 0)
  t.true(received >= 1)
  t.is(
    (after.sent.hit ?? 0) - (before.sent.hit ?? 0),
    1,
    `answered once though the query came ${received} time(s)`,
  )
  t.is((after.duplicates as number) - (before.duplicates as number), received - 1)
  const duplicates = nodes.reduce((a, n) => a + (n.overlay.stats().duplicates as number), 0)
  t.true(duplicates > 0, 'the mesh has cycles: some copies arrived twice and were dropped')
})

test('over TCP: the same query id sent twice gets one answer', async (t) => {
  const parent = container.createChildContainer()
  const target = await startNode(t, {
    parent,
    transport: 'tcp',
    listen: ['tcp://127.0.0.1:0'],
    flooding: OPTIONS,
  })
  await target.overlay.publish([recordFor(target.network.self(), 'Harry.Potter.mkv')])
  const raw = await startRaw(t, { parent, transport: 'tcp', listen: ['tcp://127.0.0.1:0'] })
  const id = (await raw.network.dialAddress(target.network.addresses()[0] as string)).id
  const join = { kind: 'ping', join: true, addresses: raw.network.addresses(), degree: 0 }
  t.like(await raw.network.request(id, rawProtocol, join), { accepted: true })
  const query = { kind: 'query', id: 'ab'.repeat(16), ttl: 2, hops: 0, query: { keywords: ['harry'] } }
  await raw.network.send(id, rawProtocol, query)
  await raw.network.send(id, rawProtocol, query)
  await raw.received('hit', 10_000)
  // One connection carries everything in order: once the pong of a ping sent after both queries is
  // back, the target has handled both, and any hit it sent for them arrived before the pong.
  await raw.network.request(id, rawProtocol, { ...join, join: false })
  t.is(target.overlay.stats().duplicates, 1, 'the second copy was seen as a duplicate')
  t.is(target.overlay.stats().sent.hit, 1, 'and not answered')
  const hits = raw.inbox.filter((m) => m.msg.kind === 'hit').map((m) => m.msg as HitMessage)
  t.is(hits.length, 1)
  t.is(hits[0]?.hits[0]?.name, 'Harry.Potter.mkv')
})
