import '@peerkit/index-memory'
import '@peerkit/transfer'
import '@peerkit/transport-memory'
import '../src/index.js'
import { createHash } from 'node:crypto'
import { collect, createPeer, type FileRecord, keywords, type Peer } from '@peerkit/core'
import test from 'ava'
import { SUPERNODE, type SupernodeOptions, type SupernodeOverlay } from '../src/index.js'
import { virtualNet } from './helpers/virtual-net.js'

// Attacks on a supernode's election and its directory, over the memory
// transport in virtual time (what is attacked here does not depend on
// addresses: every memory peer is its own address range). Capacity is earned
// by hours attached, so the clock runs hours in a moment.

const HOUR = 3_600_000
const sn = (p: Peer) => p.overlay as SupernodeOverlay

/** Slow periodic work, so virtual hours cost few events. */
const SLOW: SupernodeOptions = {
  heartbeatInterval: 60_000,
  maintenanceInterval: 60_000,
  refreshInterval: 600_000,
  hopTimeout: 1000,
  failoverTimeout: 10_000,
  electionDelay: 1000,
  demoteAfter: 0,
  canBeSupernode: true,
}

async function attackNet(t: Parameters<typeof virtualNet>[0], n: number, options: SupernodeOptions) {
  const net = await virtualNet(t, n, { ...SLOW, ...options })
  const { clock, container } = net
  const first = net.peers[0] as Peer
  /** A peer that joins through the first one, with its own supernode options. */
  const join = async (extra: SupernodeOptions): Promise<Peer> => {
    const peer = await createPeer(
      {
        overlay: 'supernode',
        transport: 'memory',
        listen: [`memory://attacker-${process.pid}-${Math.random().toString(36).slice(2)}`],
        bootstrap: net.addresses.slice(0, 1),
        options: { supernode: { ...SLOW, ...options, ...extra } },
      },
      { container },
    )
    t.teardown(() => peer.stop())
    await peer.start()
    return peer
  }
  const settled = await clock.until(10 * 60_000, () =>
    net.peers.slice(1).every((p) => sn(p).supernode()?.id === first.id),
  )
  if (!settled) throw new Error('the leaves did not attach within 10 virtual minutes')
  return { ...net, clock, first, join }
}

function record(peer: Peer, name: string, kws = keywords(name)): FileRecord {
  return {
    hash: createHash('sha256').update(name).digest('hex'),
    name,
    size: 1000,
    chunkSize: 65_536,
    keywords: kws,
    provider: { id: peer.id, addresses: peer.addresses() },
  }
}

test('a leaf reporting a huge capacity is credited at most 1 + its hours attached, capped, and is not promoted over older leaves', async (t) => {
  // 4 honest leaves; a 5th leaf passes 1.5 × leavesPerSupernode (3) and makes the supernode promote one.
  const net = await attackNet(t, 5, { leavesPerSupernode: 3 })
  const { clock, first } = net
  const honest = net.peers.slice(1)
  await clock.sleep(3 * HOUR)
  t.is(sn(first).role(), 'supernode')
  t.is(sn(first).stats().promoted, 0)

  // The Sybil claims the largest capacity the wire allows.
  const sybil = await net.join({ capacity: 1e9 })
  const promoted = await clock.until(10 * 60_000, () => (sn(first).stats().promoted as number) > 0)
  t.true(promoted, 'the supernode promoted a leaf')
  const supernodes = [first, ...honest, sybil].filter((p) => sn(p).role() === 'supernode')
  t.false(supernodes.includes(sybil), 'the Sybil was not promoted')
  t.is(supernodes.length, 2)

  // What it is credited with: its supernode's election list, as the supernode tells its leaves.
  const credit = () => {
    const list = sn(sybil).electionCandidates()
    const others = list.filter((c) => c.peer.id !== sybil.id).map((c) => c.capacity)
    return { sybil: list.find((c) => c.peer.id === sybil.id)?.capacity ?? -1, best: Math.max(0, ...others) }
  }
  await clock.sleep(20 * 60_000) // a refresh of the leaves' lists
  const early = credit()
  t.true(early.sybil >= 0 && early.sybil <= 2, `credited ${early.sybil} after under an hour attached`)

  // A day and more later it is credited no more than maxCapacity, and no more than the honest leaves beside it.
  await clock.sleep(30 * HOUR)
  t.is(sn(sybil).role(), 'leaf')
  const late = credit()
  t.true(late.sybil >= 0 && late.sybil <= 25, `credited ${late.sybil}: capped at maxCapacity`)
  t.true(late.sybil <= late.best, `credited ${late.sybil}, the best honest leaf ${late.best}`)
})

test('a supernode derives its leaves’ keywords from names and holds its directory to maxRecords', async (t) => {
  const net = await attackNet(t, 2, { maxRecords: 40 })
  const { clock, first } = net
  const [, alice] = net.peers as [Peer, Peer]
  const mallory = await net.join({ canBeSupernode: false })
  t.true(await clock.until(60_000, () => sn(mallory).supernode()?.id === first.id))
  // Stuffed keywords: found by its name only.
  await mallory.overlay.publish([record(mallory, 'junk.bin', ['ubuntu', 'desktop', 'iso'])])
  await alice.overlay.publish([record(alice, 'Ubuntu Desktop.iso')])
  const search = async (words: string) => {
    const hits = collect(alice.overlay.search({ keywords: keywords(words) }, { timeout: 5000 }))
    return (await hits).map((h) => h.name)
  }
  t.deepEqual(await search('ubuntu desktop'), ['Ubuntu Desktop.iso'])
  t.deepEqual(await search('junk'), ['junk.bin'])
  // Junk past the supernode's budget is refused; what was registered stays.
  const junk = Array.from({ length: 100 }, (_, i) => record(mallory, `junk ${i}.bin`))
  await t.throwsAsync(mallory.overlay.publish(junk), { name: 'RateLimitError', message: /maxRecords/ })
  t.true((sn(first).stats().records as number) <= 40)
  t.deepEqual(await search('ubuntu desktop'), ['Ubuntu Desktop.iso'])
})

test('a Sybil supernode cannot steer orphaned leaves to itself with move and advertised supernodes: they elect one of their own', async (t) => {
  const options: SupernodeOptions = { leavesPerSupernode: 50, heartbeatInterval: 1000, refreshInterval: 5000 }
  const net = await attackNet(t, 5, options)
  const { clock, hub, names } = net
  const orphans = net.peers.slice(1)
  await clock.sleep(10 * 60_000) // every leaf holds its supernode's election list
  // The Sybil runs a supernode of its own (no bootstrap: it is the first of its network).
  const sybil = await createPeer(
    {
      overlay: 'supernode',
      transport: 'memory',
      listen: [`memory://sybil-${process.pid}-${Math.random().toString(36).slice(2)}`],
      bootstrap: [],
      options: { supernode: { ...SLOW, ...options } },
    },
    { container: net.container },
  )
  t.teardown(() => sybil.stop())
  await sybil.start()
  t.is(sn(sybil).role(), 'supernode')
  const self = { id: sybil.id, addresses: sybil.addresses() }
  for (const o of orphans) await sybil.network.connect({ id: o.id, addresses: o.addresses() })
  const advertise = () =>
    Promise.all(
      orphans.map(async (o) => {
        // Advertised supernodes (as every hello and attach carries them), and a move to itself.
        await sybil.network.send(o.id, SUPERNODE, {
          kind: 'hello',
          addresses: self.addresses,
          capacity: 25,
          capable: true,
          supernodes: [self],
        })
        await sybil.network.send(o.id, SUPERNODE, { kind: 'move', to: [self] })
      }),
    ).catch(() => {}) // an orphan mid-switch may have dropped the connection: the next round sends again
  await advertise()

  hub.kill(names[0] as string)
  // The Sybil keeps at it while the orphans recover (every 50 virtual ms for 2 virtual s).
  for (let i = 0; i < 40; i++) {
    for (const o of orphans)
      await sybil.network.connect({ id: o.id, addresses: o.addresses() }).catch(() => {}) // retried next round
    await advertise()
    await clock.sleep(50)
  }
  const placed = await clock.until(60_000, () =>
    orphans.every((o) => sn(o).role() === 'supernode' || sn(o).supernode() !== undefined),
  )
  t.true(placed, 'every orphan is placed again')
  const elected = orphans.filter((o) => sn(o).role() === 'supernode')
  t.true(elected.length >= 1, 'one of them was elected')
  for (const o of orphans) {
    t.not(sn(o).supernode()?.id, sybil.id, 'no orphan attached to the Sybil')
    if (sn(o).role() === 'leaf')
      t.true(
        elected.some((e) => e.id === sn(o).supernode()?.id),
        'every orphan leaf is attached to an elected co-leaf',
      )
  }
  t.is(sn(sybil).stats().leaves, 0, 'the Sybil got no leaf')
  t.true(
    orphans.reduce((n, o) => n + (sn(o).stats().refusedMoves as number), 0) > 0,
    'the moves arrived and were refused',
  )
  // Honest traffic goes on.
  const [holder, searcher] = orphans.filter((o) => sn(o).role() === 'leaf') as [Peer, Peer]
  await holder.overlay.publish([record(holder, 'after the sybil.txt')])
  const hits = await clock.until(10_000, async () => {
    const found = await collect(searcher.overlay.search({ keywords: ['sybil'] }, { timeout: 3000 }))
    return found.some((h) => h.providers.some((p) => p.id === holder.id))
  })
  t.true(hits, 'a search among the orphans finds a file again')
})
