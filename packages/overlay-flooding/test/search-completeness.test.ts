import '@peerkit/index-memory'
import '@peerkit/transport-memory'
import { TestClock } from '@peerkit/compliance'
import { CLOCK, collect, type Hit, type PeerId, SeededRandom } from '@peerkit/core'
import { MemoryNetwork, memoryContainer } from '@peerkit/transport-memory'
import test, { type ExecutionContext } from 'ava'
import type { FloodingOptions, FloodingSearchOptions } from '../src/index.js'
import { distances, hashOf, recordFor, startNode, type TestNode } from './helpers/node.js'

const PEERS = 30
const FILE = 'debian-12.5.0-amd64-netinst.iso'
const OPTS: FloodingOptions = {
  minNeighbors: 3,
  maxNeighbors: 6,
  ringTimeout: 100,
  maintenanceInterval: 1000,
}

/**
 * 30 peers on one memory hub in virtual time, each joining through a random
 * earlier one; `holders` of them (the farthest from peer 0 among them) share
 * FILE. Issue 20: the ring used to stop at the first step with a hit, so a
 * search listed only the nearest holders.
 */
async function network(t: ExecutionContext, holders: number) {
  const clock = new TestClock()
  const parent = memoryContainer(new MemoryNetwork())
  parent.register(CLOCK, { useValue: clock })
  const random = new SeededRandom(7)
  const nodes: TestNode[] = []
  for (let i = 0; i < PEERS; i++) {
    nodes.push(
      await startNode(t, {
        parent,
        transport: 'memory',
        listen: [`memory://c${i}`],
        bootstrap: i === 0 ? [] : [`memory://c${random.int(i)}`],
        flooding: OPTS,
        seed: 100 + i,
      }),
    )
  }
  await clock.until(() => nodes.every((n) => n.overlay.neighbors().length >= 3), 60_000, 'the mesh')
  const dist = distances(nodes, 0)
  // Holders spread over every distance: the farthest peer, then every third peer by distance.
  const byDistance = nodes.map((_, i) => i).sort((a, b) => (dist[b] as number) - (dist[a] as number))
  const chosen = byDistance.filter((_, k) => k % 3 === 0).slice(0, holders)
  for (const i of chosen) {
    const n = nodes[i] as TestNode
    await n.overlay.publish([recordFor(n.network.self(), FILE)])
  }
  const ids = chosen.map((i) => (nodes[i] as TestNode).network.peerId).sort()
  const queries = () => nodes.reduce((a, n) => a + (n.overlay.stats().sent.query ?? 0), 0)
  return { clock, nodes, dist, chosen, ids, queries }
}

const providerIds = (hits: Hit[]): PeerId[] =>
  [...new Set(hits.flatMap((h) => h.providers.map((p) => p.id)))].sort()

test('in a network of 30 peers, a search lists every peer holding the file; providers() too', async (t) => {
  const { clock, nodes, dist, chosen, ids } = await network(t, 6)
  const searcher = (nodes[0] as TestNode).overlay
  t.true(
    dist.every((d) => d <= 7),
    `every peer is within maxTtl: ${dist}`,
  )
  t.log(`holders at ${chosen.map((i) => dist[i]).join(', ')} hops`)
  t.true(Math.max(...chosen.map((i) => dist[i] as number)) >= 3, 'the farthest holder is 3 hops away or more')
  const hits = await clock.settle(collect(searcher.search({ keywords: ['debian'] })), 60_000)
  t.deepEqual(new Set(hits.map((h) => h.hash)), new Set([hashOf(FILE)]))
  t.deepEqual(providerIds(hits), ids, 'every holder is listed')
  const providers = await clock.settle(collect(searcher.providers(hashOf(FILE))), 60_000)
  t.deepEqual(providers.map((p) => p.id).sort(), ids, 'providers() lists every holder, once each')
})

test('the ring ends once providerTarget peers hold the file, and spends fewer messages for it', async (t) => {
  const { clock, nodes, ids, queries } = await network(t, 8)
  const searcher = (nodes[0] as TestNode).overlay
  const run = async (options: FloodingSearchOptions) => {
    const before = queries()
    const hits = await clock.settle(collect(searcher.search({ keywords: ['debian'] }, options)), 60_000)
    return { providers: providerIds(hits), messages: queries() - before }
  }
  const all = await run({})
  t.deepEqual(all.providers, ids, 'the default target (8) is every holder here')
  const two = await run({ providerTarget: 2 })
  t.true(two.providers.length >= 2 && two.providers.length < ids.length, `${two.providers.length} providers`)
  t.true(two.messages < all.messages, `${two.messages} query messages against ${all.messages}`)
  // providerRings 0 is the ring of before: it stops at the first step with hits (here 2 hops: 2 holders).
  const nearest = await run({ providerRings: 0 })
  t.true(nearest.providers.length < ids.length, `${nearest.providers.length} providers`)
  t.true(nearest.messages < all.messages)
  // A query limit still ends the ring at its first file, whatever the providers.
  const before = queries()
  const one = await clock.settle(collect(searcher.search({ keywords: ['debian'], limit: 1 })), 60_000)
  t.true(providerIds(one).length >= 1)
  t.true(queries() - before < all.messages, `${queries() - before} query messages with limit 1`)
})
