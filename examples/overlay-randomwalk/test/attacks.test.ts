import { collect } from '@peerkit/core'
import test from 'ava'
import { WALK } from '../src/index.js'
import { recordOf, walkNet } from './helpers/network.js'

const OPTIONS = { walkers: 4, ttl: 64, minNeighbors: 3, maxNeighbors: 16, maintenanceInterval: 1000 }
const RATE = 50
const BURST = 100
const FLOOD = 10_000

test('a neighbor flooding walkers with the largest TTL gets at most walkBurst + walkRate × seconds of them taken; a stranger gets none; honest searches go on', async (t) => {
  const net = await walkNet(t, 10, { ...OPTIONS, walkRate: RATE, walkBurst: BURST })
  await net.clock.until(
    () => net.peers.every((p) => p.overlay.neighbors().length >= OPTIONS.minNeighbors),
    60_000,
    'minNeighbors everywhere',
  )
  const victim = net.peers[0]
  const holder = net.peers[9]
  if (!victim || !holder) throw new Error('10 peers expected')
  await holder.overlay.publish([recordOf(holder, 'honest file.txt')])
  // The attacker joins the victim as a neighbor, as any peer may; the stranger never joins.
  const attacker = await net.add([0])
  t.true(
    victim.overlay.neighbors().some((n) => n.id === attacker.id),
    'the attacker is a neighbor',
  )
  const stranger = await net.add([], { ...OPTIONS, minNeighbors: 1 })
  const stat = (key: string) => Number(victim.overlay.stats()[key] ?? 0)
  const walked = () => victim.overlay.stats().received.walk ?? 0
  const before = { walked: walked(), dropped: stat('dropped'), at: net.clock.now() }

  const flood = async (from: typeof attacker, n: number) => {
    for (let i = 0; i < n; i++) {
      const id = i.toString(16).padStart(32, '0')
      await from.network.send(victim.network.self(), WALK, {
        id,
        origin: from.network.self(),
        query: { keywords: ['honest'] },
        ttl: 1024,
        hops: 0,
      })
    }
  }
  await net.clock.settle(Promise.all([flood(attacker, FLOOD), flood(stranger, 1000)]))
  await net.clock.advance(1000) // let the taken walkers finish their steps
  const elapsed = (net.clock.now() - before.at) / 1000
  const taken = walked() - before.walked
  const dropped = stat('dropped') - before.dropped
  t.log(`${taken} walkers taken, ${dropped} dropped over ${elapsed} virtual s`)
  t.true(taken <= BURST + RATE * elapsed, `taken ${taken}`)
  t.true(dropped >= FLOOD + 1000 - BURST - RATE * elapsed, `dropped ${dropped}`)
  // What the attacker got back: a report per walker that found something, nothing per dropped one.
  t.true((attacker.overlay.stats().received.report ?? 0) <= taken * 2)

  const hits = await net.clock.settle(collect(victim.overlay.search({ keywords: ['honest'] })))
  t.true(
    hits.some((h) => h.providers.some((p) => p.id === holder.id)),
    'the victim still finds what honest peers share',
  )
})
