import '@peerkit/index-memory'
import '@peerkit/transport-memory'
import { TestClock } from '@peerkit/compliance'
import { CLOCK, collect, type PeerId } from '@peerkit/core'
import { MemoryNetwork, memoryContainer } from '@peerkit/transport-memory'
import test, { type ExecutionContext } from 'ava'
import { DEFAULT_FLOODING_OPTIONS, type FloodingOptions } from '../src/index.js'
import { type RawNode, recordFor, startNode, startRaw, type TestNode } from './helpers/node.js'
import { rawProtocol } from './helpers/raw.js'

const OPTS: FloodingOptions = {
  minNeighbors: 3,
  maxNeighbors: 8,
  ringTimeout: 100,
  maintenanceInterval: 1000,
  maxCandidates: 16,
}
const MIN = 3
const MAX = 8
const SYBILS = 48
const FILE = 'ubuntu-24.04-desktop-amd64.iso'

/**
 * A victim and six honest peers on one memory hub in virtual time (three join
 * the victim, three join those), one of them sharing FILE; the victim's
 * search finds it.
 */
async function honestNetwork(t: ExecutionContext, flooding: FloodingOptions) {
  const clock = new TestClock()
  const parent = memoryContainer(new MemoryNetwork())
  parent.register(CLOCK, { useValue: clock })
  const node = (name: string, bootstrap: string[], seed: number) =>
    startNode(t, { parent, transport: 'memory', listen: [`memory://${name}`], bootstrap, flooding, seed })
  const victim = await node('victim', [], 1)
  const honest: TestNode[] = []
  for (let i = 0; i < 3; i++) honest.push(await node(`h${i}`, ['memory://victim'], 10 + i))
  for (let i = 3; i < 6; i++) honest.push(await node(`h${i}`, [`memory://h${i - 3}`], 10 + i))
  const all = [victim, ...honest]
  const min = flooding.minNeighbors ?? 0
  await clock.until(() => all.every((n) => n.overlay.neighbors().length >= min), 30_000, 'the honest mesh')
  const holder = honest[5] as TestNode
  await holder.overlay.publish([recordFor(holder.network.self(), FILE)])
  const honestIds = new Set<PeerId>(honest.map((n) => n.network.peerId))
  const honestOf = () => victim.overlay.neighbors().filter((n) => honestIds.has(n.id)).length
  const search = async () => {
    const hits = await clock.settle(collect(victim.overlay.search({ keywords: ['ubuntu'] })), 30_000)
    return hits.flatMap((h) => h.providers.map((p) => p.id))
  }
  /** Real peers with fresh keys, listening at `memory://NAME` for each name. */
  const sybils = async (names: string[]) => {
    const out: RawNode[] = []
    for (const name of names)
      out.push(await startRaw(t, { parent, transport: 'memory', listen: [`memory://${name}`] }))
    return out
  }
  return { clock, victim, holder, honestOf, search, sybils }
}

/**
 * The flooding eclipse of issue 17: fresh keys (each a real peer with its own
 * Identity and Network) join the victim claiming no neighbor at all, or asking
 * it to make room, in bursts. Before, every such join evicted a random
 * neighbor: 40 keys left a node with 0 honest neighbors and its searches found
 * nothing. Virtual time throughout.
 */
test('Sybil joins claiming degree 0 or asking for room cannot evict a node out of its honest neighbors', async (t) => {
  const { clock, victim, holder, honestOf, search, sybils: makeSybils } = await honestNetwork(t, OPTS)
  t.deepEqual(await search(), [holder.network.peerId], 'before the attack the search finds the file')
  const honestBefore = honestOf()
  t.true(honestBefore >= MIN, `${honestBefore} honest neighbors before the attack`)
  await clock.advance(2000) // two virtual seconds of ordinary life

  const sybils = await makeSybils(Array.from({ length: SYBILS }, (_, i) => `sybil${i}`))
  const sybilIds = new Set<PeerId>(sybils.map((s) => s.network.peerId))
  const sybilsOf = () => victim.overlay.neighbors().filter((n) => sybilIds.has(n.id)).length
  const victimId = victim.network.peerId
  const evictedBefore = victim.overlay.stats().evicted as number
  let bursts = 0
  let mostSybils = 0
  // Every Sybil that is not a neighbor asks to join with degree 0, then again asking for room.
  const burst = async () => {
    bursts++
    await Promise.all(
      sybils.map(async (s) => {
        if (victim.overlay.neighbors().some((n) => n.id === s.network.peerId)) return
        if (!s.network.isConnected(victimId)) await s.network.dialAddress('memory://victim')
        const ping = { kind: 'ping', join: true, addresses: s.network.addresses() }
        await s.network.request(victimId, rawProtocol, { ...ping, degree: 0 })
        await s.network.request(victimId, rawProtocol, { ...ping, degree: 1, makeRoom: true })
      }),
    )
    mostSybils = Math.max(mostSybils, sybilsOf())
    t.true(honestOf() >= MIN, `after burst ${bursts}: ${honestOf()} honest neighbors`)
  }
  const interval = DEFAULT_FLOODING_OPTIONS.evictionInterval
  const started = clock.now()
  for (let i = 0; i < 3; i++) {
    await clock.settle(burst(), 5000)
    await clock.advance(250)
  }
  for (let i = 0; i < 3; i++) {
    await clock.advance(interval)
    await clock.settle(burst(), 5000)
  }
  const elapsed = clock.now() - started

  const evictions = (victim.overlay.stats().evicted as number) - evictedBefore
  t.log(
    `${SYBILS} Sybils, ${bursts} bursts over ${elapsed} virtual ms: ${evictions} evictions, honest neighbors ` +
      `${honestBefore} -> ${honestOf()}, Sybil neighbors at most ${mostSybils} (now ${sybilsOf()})`,
  )
  t.true(
    evictions <= 1 + Math.floor(elapsed / interval),
    `${evictions} evictions in ${elapsed} virtual ms (at most one per ${interval} ms)`,
  )
  t.true(honestOf() >= MIN, `the victim keeps ${honestOf()} honest neighbors (>= minNeighbors ${MIN})`)
  t.true(mostSybils <= MAX - MIN, `the Sybils held at most ${mostSybils} of ${MAX} slots`)
  t.true(victim.overlay.neighbors().length <= MAX)
  t.true(
    (victim.overlay.stats().candidates as number) <= (OPTS.maxCandidates as number),
    'the refused Sybils remembered as candidates stay within maxCandidates',
  )
  t.deepEqual(await search(), [holder.network.peerId], 'after the attack the search still finds the file')
})

test('Sybils joining from one network group hold at most maxPerGroup of its slots', async (t) => {
  const {
    holder,
    honestOf,
    search,
    sybils: makeSybils,
  } = await honestNetwork(t, {
    ...OPTS,
    maxNeighbors: 12,
    maxPerGroup: 2,
  })
  t.deepEqual(await search(), [holder.network.peerId])
  const honestBefore = honestOf()
  // The memory hub's names stand for the addresses the victim sees: 24 keys in 198.51.0.0/16, 4 in 203.0.0.0/16.
  const names = [
    ...Array.from({ length: 24 }, (_, i) => `198.51.${i}.7`),
    ...Array.from({ length: 4 }, (_, i) => `203.0.${i}.9`),
  ]
  const sybils = await makeSybils(names)
  const accepted: string[] = []
  for (const [i, s] of sybils.entries()) {
    const id = (await s.network.dialAddress('memory://victim')).id
    const ping = { kind: 'ping', join: true, addresses: s.network.addresses(), degree: 3 }
    const pong = await s.network.request(id, rawProtocol, ping)
    if (pong.accepted) accepted.push((names[i] as string).split('.').slice(0, 2).join('.'))
  }
  t.log(`accepted from: ${accepted.join(', ')}; honest neighbors ${honestBefore} -> ${honestOf()}`)
  t.is(accepted.filter((g) => g === '198.51').length, 2, 'two from 198.51.0.0/16')
  t.is(accepted.filter((g) => g === '203.0').length, 2, 'two from 203.0.0.0/16')
  t.is(honestOf(), honestBefore, 'no honest neighbor lost')
  t.deepEqual(await search(), [holder.network.peerId])
})
