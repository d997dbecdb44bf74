import '@peerkit/index-memory'
import '@peerkit/transport-memory'
import { TestClock } from '@peerkit/compliance'
import { CLOCK, collect, InvalidOptionsError } from '@peerkit/core'
import { MemoryNetwork, memoryContainer } from '@peerkit/transport-memory'
import test, { type ExecutionContext } from 'ava'
import { type FloodingOptions, parseFloodingOptions } from '../src/index.js'
import { hashOf, type RawNode, recordFor, startNode, startRaw, type TestNode } from './helpers/node.js'
import { rawProtocol } from './helpers/raw.js'

const N = 8
const address = (i: number) => `memory://s${i}`
/** A ring with one chord: 0–1–2–…–7–0, and 0–4. Node 0 has three neighbors, the others two (4: three). */
const EDGES: [number, number][] = [
  ...Array.from({ length: N }, (_, i) => [i, (i + 1) % N] as [number, number]),
  [0, 4],
]
const listed = (i: number) =>
  EDGES.flatMap(([a, b]) => (a === i ? [b] : b === i ? [a] : []))
    .sort((a, b) => a - b)
    .map(address)

async function ring(t: ExecutionContext, extra: FloodingOptions = {}) {
  const clock = new TestClock()
  const parent = memoryContainer(new MemoryNetwork())
  parent.register(CLOCK, { useValue: clock })
  const nodes: TestNode[] = []
  // Started one after the other: a node's dials to those not started yet fail, and are retried.
  for (let i = 0; i < N; i++)
    nodes.push(
      await startNode(t, {
        parent,
        transport: 'memory',
        listen: [address(i)],
        flooding: {
          staticNeighbors: listed(i),
          maxNeighbors: 3,
          minNeighbors: 1,
          maintenanceInterval: 1000,
          ringTimeout: 100,
          ...extra,
        },
        seed: 10 + i,
      }),
    )
  const neighborsOf = (n: TestNode) => {
    const nameOf = new Map(nodes.map((m, i) => [m.network.peerId, address(i)]))
    return n.overlay
      .neighbors()
      .map((r) => nameOf.get(r.id) ?? r.id)
      .sort()
  }
  const exact = () => nodes.every((n, i) => neighborsOf(n).join() === listed(i).join())
  return { clock, parent, nodes, neighborsOf, exact }
}

test('with staticNeighbors, each node ends with exactly the listed peers as neighbors', async (t) => {
  const { clock, nodes, neighborsOf, exact } = await ring(t)
  await clock.until(exact, 10_000, 'the listed topology')
  for (const [i, n] of nodes.entries()) t.deepEqual(neighborsOf(n), listed(i))
  // Maintenance rounds go by: nothing is rewired, and no ping is spent probing.
  const pings = () => nodes.reduce((a, n) => a + (n.overlay.stats().sent.ping ?? 0), 0)
  const before = pings()
  await clock.advance(60_000)
  t.true(exact(), 'the topology is unchanged after a minute of maintenance')
  t.is(pings(), before, 'a complete static topology costs no maintenance message')
})

test('a peer that is not listed cannot join a static node, and a search follows the listed links', async (t) => {
  const { clock, parent, nodes, neighborsOf, exact } = await ring(t)
  await clock.until(exact, 10_000, 'the listed topology')
  const stranger = await startNode(t, {
    parent,
    transport: 'memory',
    listen: ['memory://stranger'],
    bootstrap: [address(0), address(1)],
    flooding: { maintenanceInterval: 1000 },
    seed: 99,
  })
  await clock.advance(10_000)
  t.is(stranger.overlay.neighbors().length, 0, 'the stranger was refused everywhere')
  t.true(exact(), 'nobody was evicted or added')
  t.deepEqual(neighborsOf(nodes[0] as TestNode), listed(0))
  // Node 2 holds the file, 4 hops from node 6 either way round the ring.
  const holder = nodes[2] as TestNode
  await holder.overlay.publish([recordFor(holder.network.self(), 'static.iso')])
  const asker = (nodes[6] as TestNode).overlay
  const hits = await clock.settle(
    collect(asker.search({ keywords: ['static'] }, { expandingRing: false, ttl: 4 })),
    10_000,
  )
  t.deepEqual(
    hits.map((h) => h.hash),
    [hashOf('static.iso')],
  )
  const short = await clock.settle(
    collect(asker.search({ keywords: ['static'] }, { expandingRing: false, ttl: 3 })),
    10_000,
  )
  t.is(short.length, 0, 'TTL 3 does not reach it: the search ran on the listed links only')
})

test('a lost static neighbor is joined again when it comes back', async (t) => {
  const { clock, parent, nodes, exact, neighborsOf } = await ring(t)
  await clock.until(exact, 10_000, 'the listed topology')
  await (nodes[3] as TestNode).stop()
  await clock.until(
    () => !neighborsOf(nodes[2] as TestNode).includes(address(3)),
    10_000,
    'node 2 to notice node 3 left',
  )
  t.deepEqual(neighborsOf(nodes[2] as TestNode), [address(1)])
  // It comes back at the same address: its listed neighbors take it back at their next round.
  nodes[3] = await startNode(t, {
    parent,
    transport: 'memory',
    listen: [address(3)],
    flooding: { staticNeighbors: listed(3), maxNeighbors: 3, minNeighbors: 1, maintenanceInterval: 1000 },
    seed: 113,
  })
  await clock.until(exact, 10_000, 'the listed topology again')
  t.deepEqual(neighborsOf(nodes[2] as TestNode), [address(1), address(3)])
})

test('staticNeighbors longer than maxNeighbors is refused, naming the fields', (t) => {
  const err = t.throws(
    () =>
      parseFloodingOptions({ staticNeighbors: ['memory://a', 'memory://b', 'memory://c'], maxNeighbors: 2 }),
    { instanceOf: InvalidOptionsError },
  )
  t.regex(err?.message ?? '', /flooding\.staticNeighbors.*maxNeighbors = 2/)
})

test('attack: peers claiming a listed address in their join are refused; the listed peer still gets its place', async (t) => {
  const { clock, parent, nodes, neighborsOf, exact } = await ring(t)
  await clock.until(exact, 10_000, 'the listed topology')
  // Node 1 goes away: node 0 has a free slot, kept for whoever answers at memory://s1.
  await (nodes[1] as TestNode).stop()
  await clock.until(() => !neighborsOf(nodes[0] as TestNode).includes(address(1)), 10_000, 'node 0 to notice')
  const victim = nodes[0] as TestNode
  const victimId = victim.network.peerId
  const pingsBefore = victim.overlay.stats().sent.ping ?? 0
  // 20 impostors, each its own key and Network, join claiming node 1's address (and their own).
  const impostors: RawNode[] = []
  for (let i = 0; i < 20; i++)
    impostors.push(await startRaw(t, { parent, transport: 'memory', listen: [`memory://impostor${i}`] }))
  const answers = await clock.settle(
    Promise.all(
      impostors.map(async (s) => {
        await s.network.dialAddress(address(0))
        const ping = {
          kind: 'ping',
          join: true,
          degree: 0,
          addresses: [address(1), ...s.network.addresses()],
        }
        return s.network.request(victimId, rawProtocol, ping)
      }),
    ),
    10_000,
  )
  t.true(
    answers.every((a) => a?.accepted === false),
    'every impostor was refused',
  )
  const impostorIds = new Set(impostors.map((s) => s.network.peerId))
  t.false(
    victim.overlay.neighbors().some((n) => impostorIds.has(n.id)),
    'no impostor is a neighbor',
  )
  t.deepEqual(neighborsOf(victim), [address(4), address(7)], 'the other listed neighbors stay')
  // What the impostors got out of it: the victim dialled memory://s1 (nobody there) in one maintenance
  // round at a time, and pinged nobody.
  t.is((victim.overlay.stats().sent.ping ?? 0) - pingsBefore, 0, 'the victim pinged no impostor')
  // The real node 1 comes back at its address: it is let in on both sides.
  nodes[1] = await startNode(t, {
    parent,
    transport: 'memory',
    listen: [address(1)],
    flooding: { staticNeighbors: listed(1), maxNeighbors: 3, minNeighbors: 1, maintenanceInterval: 1000 },
    seed: 111,
  })
  await clock.until(exact, 10_000, 'the listed topology again')
  t.false(victim.overlay.neighbors().some((n) => impostorIds.has(n.id)))
})
