import '@peerkit/transport-tcp'
import '@peerkit/index-memory'
import { collect, SeededRandom, shuffle } from '@peerkit/core'
import test from 'ava'
import {
  ownerOf,
  recordFor,
  ringIsCorrect,
  startRing,
  TCP_RING,
  type TestNode,
  until,
} from './helpers/ring.js'

// One ring of 30 TCP peers on loopback for this file: building it is the slow part.
test('over TCP, 30 peers: after 20% crash at once the ring heals, lookups are right, no record is lost', async (t) => {
  const chord = { ...TCP_RING, successors: 4, replication: 3, refreshInterval: 2000, recordTtl: 20_000 }
  const t0 = Date.now()
  const nodes = await startRing(t, 30, { transport: 'tcp', chord, parallel: 5 })
  t.log(`30 peers started in ${Date.now() - t0} ms`)
  await until(() => ringIsCorrect(nodes), 60_000, 'the ring of 30 to stabilise')

  // every peer shares two files
  const records = nodes.flatMap((n, i) => [
    recordFor(n.network.self(), `peer${i}.holiday.photos.${i % 3}.zip`),
    recordFor(n.network.self(), `peer${i}.notes.txt`),
  ])
  await Promise.all(nodes.map((n, i) => n.overlay.publish(records.slice(2 * i, 2 * i + 2))))

  // 20% crash at once, chosen by a seeded draw
  const victims = shuffle(new SeededRandom(7), nodes).slice(0, 6)
  const began = Date.now()
  await Promise.all(victims.map((v) => v.kill()))
  const live = nodes.filter((n) => n.alive)
  await until(() => ringIsCorrect(nodes), 60_000, 'the ring to heal')
  t.log(`ring healed ${Date.now() - began} ms after 6 of 30 crashed (the crash itself included)`)

  // every lookup, from every live node, returns the live successor of the key
  const ring = live[0]?.overlay.ring
  let wrong = 0
  let hops = 0
  await Promise.all(
    live.map(async (from, i) => {
      for (let k = 0; k < 5; k++) {
        const key = ring?.hash(`probe ${i} ${k}`) as bigint
        const result = await from.overlay.lookup(key)
        hops += result.hops
        if (result.nodes[0]?.id !== ownerOf(nodes, key).overlay.routing.id) wrong++
      }
    }),
  )
  t.is(wrong, 0, 'lookups that returned a dead or wrong successor')
  t.log(`mean hops after the crash: ${(hops / (live.length * 5)).toFixed(2)}`)

  // every record of a live provider is found by hash and by keywords, from any live node
  const wanted = records.filter((r) => live.some((n) => n.network.peerId === r.provider.id))
  const missing = async (asker: TestNode) => {
    const found = await Promise.all(
      wanted.map(async (r) => {
        const providers = await collect(asker.overlay.providers(r.hash, { timeout: 3000 }))
        const hits = await collect(
          asker.overlay.search({ keywords: r.keywords.slice(0, 2) }, { timeout: 3000 }),
        )
        return providers.some((p) => p.id === r.provider.id) && hits.some((h) => h.hash === r.hash)
      }),
    )
    return found.filter((ok) => !ok).length
  }
  const asker = live[live.length - 1] as TestNode
  const firstLook = await missing(asker)
  t.log(
    `${firstLook} of ${wanted.length} records missing right after the ring healed (before re-publication)`,
  )
  // the records whose holders all crashed come back with their providers' refreshes: after each
  // round of refreshes (every live provider has begun storing again: an event) look once more,
  // for at most five rounds
  const stores = (n: TestNode) => (n.overlay.stats().sent as Record<string, number>).store ?? 0
  let lost = firstLook
  for (let round = 0; lost > 0 && round < 5; round++) {
    const before = live.map(stores)
    await until(
      () => live.every((n, i) => stores(n) > (before[i] as number)),
      2 * chord.refreshInterval + 20_000,
      "every live provider's next refresh",
    )
    lost = await missing(asker)
  }
  t.is(lost, 0, 'records of live providers that cannot be found')
  t.log(`checks done at ${Date.now() - t0} ms`)
  await Promise.all(nodes.map((n) => n.stop()))
  t.log(`stopped at ${Date.now() - t0} ms`)
})
