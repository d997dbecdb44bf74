import { collect, type Hit } from '@peerkit/core'
import test from 'ava'
import { recordOf, walkNet } from './helpers/network.js'

const OPTIONS = {
  walkers: 4,
  ttl: 64,
  checkEvery: 4,
  minNeighbors: 3,
  maxNeighbors: 6,
  maintenanceInterval: 1000,
}

test('maintenance thickens a random tree: every peer reaches minNeighbors and no more than maxNeighbors', async (t) => {
  const net = await walkNet(t, 30, OPTIONS)
  const ok = () => net.peers.every((p) => p.overlay.neighbors().length >= OPTIONS.minNeighbors)
  await net.clock.until(ok, 60_000, 'minNeighbors everywhere')
  t.true(ok(), `neighbor counts: ${net.peers.map((p) => p.overlay.neighbors().length).join(' ')}`)
  t.true(net.peers.every((p) => p.overlay.neighbors().length <= OPTIONS.maxNeighbors))
})

test('a search without a limit sends k walkers of ttl steps each, and finds a file far away', async (t) => {
  const net = await walkNet(t, 30, OPTIONS)
  await net.clock.advance(20_000) // maintenance rounds
  const far = net.peers[29]
  const searcher = net.peers[0]
  if (!far || !searcher) throw new Error('30 peers expected')
  await far.overlay.publish([recordOf(far, 'faraway archive.zip')])
  const before = net.total('sent', 'walk')
  const hits: Hit[] = await net.clock.settle(
    collect(searcher.overlay.search({ keywords: ['nothing', 'here'] })),
  )
  t.deepEqual(hits, [])
  // Nobody failed: every walker took exactly ttl steps (the origin's hand-over is step one).
  t.is(net.total('sent', 'walk') - before, OPTIONS.walkers * OPTIONS.ttl)
  const found = await net.clock.settle(collect(searcher.overlay.search({ keywords: ['faraway'] })))
  t.is(found[0]?.name, 'faraway archive.zip')
  t.true(found[0]?.providers.some((p) => p.id === far.id))
  t.true((found[0]?.hops ?? 0) >= 1)
})

test('walkers check back with the origin and stop soon after the search has query.limit files', async (t) => {
  const net = await walkNet(t, 30, OPTIONS)
  await net.clock.advance(20_000)
  // Half the peers share a match: the first walker steps find one at once.
  for (const peer of net.peers.slice(15))
    await peer.overlay.publish([recordOf(peer, `common file ${peer.id.slice(0, 6)}.txt`)])
  const searcher = net.peers[0]
  if (!searcher) throw new Error('no peer')
  const before = net.total('sent', 'walk')
  const hits = await net.clock.settle(collect(searcher.overlay.search({ keywords: ['common'], limit: 1 })))
  await net.clock.advance(5000) // walkers still out learn the search is over at their next check
  const walks = net.total('sent', 'walk') - before
  t.is(new Set(hits.map((h) => h.hash)).size, 1)
  // Without checking, 4 walkers would take 256 steps; each stops by its next check after the first hit.
  t.log(`${walks} walk messages, ${net.total('sent', 'check')} checks`)
  t.true(walks < (OPTIONS.walkers * OPTIONS.ttl) / 2, `${walks} walk messages`)
  t.true(net.total('sent', 'check') > 0, 'walkers asked the origin')
})

test('a dead neighbor is dropped and replaced, and searches go on finding what the living share', async (t) => {
  const net = await walkNet(t, 12, OPTIONS)
  const settled = () => net.peers.every((p) => p.overlay.neighbors().length >= OPTIONS.minNeighbors)
  await net.clock.until(settled, 60_000, 'minNeighbors everywhere')
  const victim = net.peers[0]
  if (!victim) throw new Error('no peer')
  const dead = victim.overlay.neighbors()[0]
  const deadIndex = net.peers.findIndex((p) => p.id === dead?.id)
  t.true(deadIndex > 0)
  net.hub.kill(net.names[deadIndex] as string)
  await net.peers[deadIndex]?.stop()
  await net.clock.advance(1)
  t.false(
    victim.overlay.neighbors().some((n) => n.id === dead?.id),
    'the neighbor is dropped when its link closes',
  )
  await net.clock.until(
    () => victim.overlay.neighbors().length >= OPTIONS.minNeighbors,
    30_000,
    'a replacement neighbor',
  )
  t.true(victim.overlay.neighbors().length >= OPTIONS.minNeighbors, 'and replaced by maintenance')
  const holder = net.peers.find(
    (p, i) => i > 0 && i !== deadIndex && !victim.overlay.neighbors().some((n) => n.id === p.id),
  )
  if (!holder) throw new Error('every living peer is the victim’s neighbor')
  await holder.overlay.publish([recordOf(holder, 'still here.txt')])
  const hits = await net.clock.settle(collect(victim.overlay.search({ keywords: ['still'] })))
  t.true(hits.some((h) => h.providers.some((p) => p.id === holder.id)))
})

test('options are checked before any container exists, naming the field', async (t) => {
  const { randomWalkOverlay } = await import('../src/index.js')
  t.throws(() => randomWalkOverlay({ walkers: 0 }), {
    name: 'InvalidOptionsError',
    message: /randomwalk\.walkers/,
  })
  t.throws(() => randomWalkOverlay({ minNeighbors: 9, maxNeighbors: 4 }), {
    name: 'InvalidOptionsError',
    message: /randomwalk\.minNeighbors/,
  })
  t.throws(() => randomWalkOverlay({ walker: 3 }), { name: 'InvalidOptionsError', message: /walker/ })
})

test('without a limit, a search is satisfied at hitTarget providers and its walkers stop', async (t) => {
  const net = await walkNet(t, 30, { ...OPTIONS, hitTarget: 3 })
  await net.clock.advance(20_000)
  for (const peer of net.peers.slice(10))
    await peer.overlay.publish([recordOf(peer, `shared widely ${peer.id.slice(0, 6)}.txt`)])
  const searcher = net.peers[0]
  if (!searcher) throw new Error('no peer')
  const before = net.total('sent', 'walk')
  const hits = await net.clock.settle(collect(searcher.overlay.search({ keywords: ['shared', 'widely'] })))
  await net.clock.advance(5000)
  const walks = net.total('sent', 'walk') - before
  const providers = new Set(hits.flatMap((h) => h.providers.map((p) => p.id)))
  t.true(providers.size >= 3, `${providers.size} providers`)
  t.true(walks < (OPTIONS.walkers * OPTIONS.ttl) / 2, `${walks} walk messages`)
})
