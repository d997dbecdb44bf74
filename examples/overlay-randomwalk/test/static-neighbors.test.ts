import '@peerkit/index-memory'
import '@peerkit/transfer'
import '@peerkit/transport-memory'
import '../src/index.js'
import { TestClock } from '@peerkit/compliance'
import { CLOCK, collect, createPeer, InvalidOptionsError, type Peer } from '@peerkit/core'
import { MemoryNetwork, memoryContainer } from '@peerkit/transport-memory'
import test, { type ExecutionContext } from 'ava'
import {
  JOIN,
  parseRandomWalkOptions,
  type RandomWalkOptions,
  type RandomWalkOverlay,
  WALK,
} from '../src/index.js'
import { recordOf } from './helpers/network.js'

const N = 8
const address = (i: number) => `memory://rw-static-${i}`
/** A ring 0–1–…–7–0 with one chord 0–4. */
const EDGES: [number, number][] = [
  ...Array.from({ length: N }, (_, i) => [i, (i + 1) % N] as [number, number]),
  [0, 4],
]
const listed = (i: number) =>
  EDGES.flatMap(([a, b]) => (a === i ? [b] : b === i ? [a] : []))
    .sort((a, b) => a - b)
    .map(address)

async function staticRing(t: ExecutionContext) {
  const clock = new TestClock()
  const parent = memoryContainer(new MemoryNetwork())
  const peers: Peer[] = []
  t.teardown(() => Promise.allSettled(peers.map((p) => clock.settle(p.stop()))).then(() => {}))
  parent.register(CLOCK, { useValue: clock })
  const start = async (listen: string, options: RandomWalkOptions, bootstrap: string[] = []) => {
    const peer = await createPeer(
      {
        overlay: 'randomwalk',
        transport: 'memory',
        listen: [listen],
        bootstrap,
        seed: 500 + peers.length,
        options: { randomwalk: options },
      },
      { container: parent },
    )
    peers.push(peer)
    await clock.settle(peer.start())
    return peer
  }
  for (let i = 0; i < N; i++)
    await start(address(i), { staticNeighbors: listed(i), maxNeighbors: 3, maintenanceInterval: 1000 })
  const ring = peers.slice()
  const neighborsOf = (p: Peer) => {
    const nameOf = new Map(ring.map((q, i) => [q.id, address(i)]))
    return p.overlay
      .neighbors()
      .map((r) => nameOf.get(r.id) ?? r.id)
      .sort()
  }
  const exact = () => ring.every((p, i) => neighborsOf(p).join() === listed(i).join())
  return { clock, ring, start, neighborsOf, exact }
}

test('with staticNeighbors, each peer ends with exactly the listed peers, and a stranger cannot join', async (t) => {
  const { clock, ring, start, neighborsOf, exact } = await staticRing(t)
  await clock.until(exact, 10_000, 'the listed topology')
  for (const [i, p] of ring.entries()) t.deepEqual(neighborsOf(p), listed(i))
  const stranger = await start('memory://rw-stranger', { maintenanceInterval: 1000 }, [
    address(0),
    address(1),
  ])
  await clock.advance(30_000)
  t.is(stranger.overlay.neighbors().length, 0, 'the stranger was refused everywhere')
  t.true(exact(), 'nobody was added or dropped')
})

test('per-search walkers and ttl: one walker of 3 steps sends 3 walk messages, on listed links only', async (t) => {
  const { clock, ring, exact } = await staticRing(t)
  await clock.until(exact, 10_000, 'the listed topology')
  const walks = () => ring.reduce((a, p) => a + (p.overlay.stats().sent.walk ?? 0), 0)
  const before = walks()
  const origin = ring[2] as Peer
  const hits = await clock.settle(
    collect((origin.overlay as RandomWalkOverlay).search({ keywords: ['nothing'] }, { walkers: 1, ttl: 3 })),
  )
  t.deepEqual(hits, [])
  t.is(walks() - before, 3)
  const holder = ring[3] as Peer
  await holder.overlay.publish([recordOf(holder, 'neighbour file.txt')])
  // Peer 2's only neighbours are 1 and 3: two walkers of one step each reach 3 whatever the shuffle.
  const found = await clock.settle(
    collect(
      (origin.overlay as RandomWalkOverlay).search({ keywords: ['neighbour'] }, { walkers: 2, ttl: 1 }),
    ),
  )
  t.is(found[0]?.name, 'neighbour file.txt')
  await t.throwsAsync(
    collect((origin.overlay as RandomWalkOverlay).search({ keywords: ['x'] }, { walkers: 65 })),
    { instanceOf: InvalidOptionsError, message: /search walkers must be an integer from 1 to 64 \(got 65\)/ },
  )
})

test('staticNeighbors longer than maxNeighbors is refused, naming the field', (t) => {
  const err = t.throws(
    () => parseRandomWalkOptions({ staticNeighbors: ['memory://a', 'memory://b'], maxNeighbors: 1 }),
    { instanceOf: InvalidOptionsError },
  )
  t.regex(err?.message ?? '', /randomwalk\.staticNeighbors/)
})

test('attack: peers claiming a listed address in their join are refused; the listed peer still gets its place', async (t) => {
  const { clock, ring, start, neighborsOf, exact } = await staticRing(t)
  await clock.until(exact, 10_000, 'the listed topology')
  const victim = ring[0] as Peer
  await clock.settle((ring[1] as Peer).stop())
  await clock.until(() => !neighborsOf(victim).includes(address(1)), 10_000, 'peer 0 to notice')
  // 20 impostors, each its own key, ask to join claiming peer 1's address.
  const impostors: Peer[] = []
  for (let i = 0; i < 20; i++)
    impostors.push(await start(`memory://rw-impostor-${i}`, { maintenanceInterval: 60_000 }))
  const answers = await clock.settle(
    Promise.all(
      impostors.map(async (p) => {
        await p.network.dialAddress(address(0))
        return p.network.request(victim.id, JOIN, { addresses: [address(1), ...p.addresses()] })
      }),
    ),
  )
  t.true(
    answers.every((a) => !a.accepted),
    'every impostor was refused',
  )
  const impostorIds = new Set(impostors.map((p) => p.id))
  t.false(victim.overlay.neighbors().some((n) => impostorIds.has(n.id)))
  t.deepEqual(neighborsOf(victim), [address(4), address(7)])
  // Walkers an impostor hands the victim are dropped: it is no neighbor.
  const dropped = () => (victim.overlay.stats().dropped as number | undefined) ?? 0
  const before = dropped()
  const impostor = impostors[0] as Peer
  await clock.settle(
    impostor.network.send(victim.id, WALK, {
      id: '0'.repeat(32),
      origin: { id: impostor.id, addresses: impostor.addresses() },
      query: { keywords: ['x'] },
      ttl: 5,
      hops: 0,
    }),
  )
  await clock.advance(1000)
  t.is(dropped() - before, 1)
  // The real peer 1 comes back at its address: it is let in.
  ring[1] = await start(address(1), {
    staticNeighbors: listed(1),
    maxNeighbors: 3,
    maintenanceInterval: 1000,
  })
  await clock.until(exact, 10_000, 'the listed topology again')
})
