import '@peerkit/index-memory'
import '@peerkit/transfer'
import '@peerkit/transport-memory'
import '../src/index.js'
import { createHash } from 'node:crypto'
import { collect, createPeer, keywords, type Peer } from '@peerkit/core'
import test, { type ExecutionContext } from 'ava'
import type { DependencyContainer } from 'tsyringe'
import { SUPERNODE, type SupernodeOptions, type SupernodeOverlay } from '../src/index.js'
import { virtualNet } from './helpers/virtual-net.js'

// A supernode answers a first-hop query from a peer that is neither its leaf
// nor its link with `done` and a `move` to its links (a leaf that believes it
// is attached there gets placed again). Those answers come out of one bucket
// for all strangers (queryRate per second, queryBurst at once), so a peer
// cannot make a supernode send without bound by flooding it with queries.

const sn = (p: Peer) => p.overlay as SupernodeOverlay
const OPTIONS: SupernodeOptions = {
  leavesPerSupernode: 50,
  heartbeatInterval: 5000,
  maintenanceInterval: 5000,
  refreshInterval: 60_000,
  queryRate: 10,
  queryBurst: 20,
  canBeSupernode: true,
}

/** The stranger: a supernode of a network of its own on `net`'s memory hub, stopped at teardown. */
async function strangerOf(t: ExecutionContext, net: { container: DependencyContainer }): Promise<Peer> {
  const stranger = await createPeer(
    {
      overlay: 'supernode',
      transport: 'memory',
      listen: [`memory://stranger-${process.pid}-${Math.random().toString(36).slice(2)}`],
      bootstrap: [],
      options: { supernode: OPTIONS },
    },
    { container: net.container },
  )
  t.teardown(() => stranger.stop())
  await stranger.start()
  return stranger
}

test('a flood of queries from a stranger gets at most queryBurst + queryRate per second answers, and leaves still search', async (t) => {
  const net = await virtualNet(t, 4, OPTIONS)
  const { clock } = net
  const [victim, holder, searcher] = net.peers as [Peer, Peer, Peer]
  t.true(
    await clock.until(60_000, () => net.peers.slice(1).every((p) => sn(p).supernode()?.id === victim.id)),
  )
  const stranger = await strangerOf(t, net) // connected to the victim:
  await stranger.network.connect({ id: victim.id, addresses: victim.addresses() })
  const before = sn(victim).stats().strangers as number
  const start = clock.now()
  const query = { keywords: ['anything'] }
  // 2,000 first-hop queries over 2 virtual seconds.
  for (let round = 0; round < 20; round++) {
    await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        stranger.network.send(victim.id, SUPERNODE, {
          kind: 'query',
          id: (round * 100 + i).toString(16).padStart(32, '0'),
          ttl: 2,
          hops: 0,
          query,
        }),
      ),
    )
    await clock.sleep(100)
  }
  const elapsed = (clock.now() - start) / 1000
  const answered = (sn(victim).stats().strangers as number) - before
  const bound = (OPTIONS.queryBurst as number) + (OPTIONS.queryRate as number) * (elapsed + 1)
  t.true(answered > 0, 'a stranger is answered')
  t.true(answered <= bound, `${answered} answers to 2,000 queries (bound ${bound})`)
  await clock.sleep(1000)
  const got = sn(stranger).stats().received as Record<string, number>
  t.true((got.done ?? 0) <= bound && (got.move ?? 0) <= bound, `the stranger got ${JSON.stringify(got)}`)
  // The leaves were not moved and still find each other's files.
  t.is(sn(holder).supernode()?.id, victim.id)
  const name = 'after the flood.txt'
  await holder.overlay.publish([
    {
      hash: createHash('sha256').update(name).digest('hex'),
      name,
      size: 1000,
      chunkSize: 65_536,
      keywords: keywords(name),
      provider: { id: holder.id, addresses: holder.addresses() },
    },
  ])
  const found = await clock.until(20_000, async () => {
    const hits = await collect(searcher.overlay.search({ keywords: ['flood'] }, { timeout: 3000 }))
    return hits.some((h) => h.providers.some((p) => p.id === holder.id))
  })
  t.true(found, 'a leaf finds another leaf’s file')
})

test("a stranger's hello is not counted as anyone's heartbeat: answered, not accepted, and it becomes no leaf", async (t) => {
  const net = await virtualNet(t, 2, OPTIONS)
  const { clock } = net
  const [victim, leaf] = net.peers as [Peer, Peer]
  t.true(await clock.until(60_000, () => sn(leaf).supernode()?.id === victim.id))
  const stranger = await strangerOf(t, net)
  const to = { id: victim.id, addresses: victim.addresses() }
  const hello = {
    kind: 'hello' as const,
    addresses: stranger.addresses(),
    capacity: 1,
    capable: true,
    supernodes: [],
    want: 0,
  }
  const leaves = sn(victim).stats().leaves
  for (let i = 0; i < 5; i++) {
    const info = await stranger.network.request(to, SUPERNODE, hello)
    t.is(info?.role, 'supernode')
    t.false(info?.accepted, 'not its leaf: nothing counted')
  }
  t.is(sn(victim).stats().leaves, leaves, 'the stranger is no leaf')
  // The leaf's own refresh is counted.
  const own = await leaf.network.request(to, SUPERNODE, { ...hello, addresses: leaf.addresses() })
  t.true(own?.accepted)
})
