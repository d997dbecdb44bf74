import '@peerkit/index-memory'
import '@peerkit/transfer'
import '@peerkit/transport-memory'
import '../src/index.js'
import { createHash } from 'node:crypto'
import { CLOCK, collect, createPeer, keywords, type Peer } from '@peerkit/core'
import { MemoryNetwork, memoryContainer } from '@peerkit/transport-memory'
import test from 'ava'
import type { SupernodeOptions } from '../src/index.js'
import { RunningClock } from './helpers/running-clock.js'

const FAST: SupernodeOptions = {
  hopTimeout: 80,
  heartbeatInterval: 200,
  failoverTimeout: 400,
  electionDelay: 200,
  maintenanceInterval: 100,
  refreshInterval: 200,
}

test('a peer started before its bootstrap peer becomes a lone supernode, asks again with backoff, and links once it appears', async (t) => {
  const clock = new RunningClock()
  t.teardown(() => clock.stop())
  const container = memoryContainer(new MemoryNetwork())
  container.register(CLOCK, { useValue: clock })
  const later = `memory://sn-later-${process.pid}`
  const peers: Peer[] = []
  t.teardown(() => Promise.allSettled(peers.map((p) => p.stop())))
  const start = async (listen: string, bootstrap: string[]) => {
    const peer = await createPeer(
      {
        overlay: 'supernode',
        transport: 'memory',
        listen: [listen],
        bootstrap,
        options: { supernode: FAST },
      },
      { container },
    )
    peers.push(peer)
    await peer.start()
    return peer
  }
  const early = await start(`memory://sn-early-${process.pid}`, [later])
  t.is(early.overlay.role(), 'supernode', 'nobody answered: it serves itself')
  t.is(early.status().connectivity.state, 'bootstrapping')
  await clock.sleep(30_000)
  const first = await start(later, [])
  const name = 'Late.Bootstrap.Song.ogg'
  await first.overlay.publish([
    {
      hash: createHash('sha256').update(name).digest('hex'),
      name,
      size: 10,
      chunkSize: 65_536,
      keywords: keywords(name),
      provider: { id: first.id, addresses: first.addresses() },
    },
  ])
  // The next round comes within the longest backoff reached by then (about 25 s after 30 s alone).
  const joinedBy = clock.now() + 70_000
  while (early.status().connectivity.state !== 'connected' && clock.now() < joinedBy) await clock.sleep(500)
  t.is(early.status().connectivity.state, 'connected')
  t.is(first.status().connectivity.state, 'connected')
  const hits = await collect(early.overlay.search({ keywords: ['bootstr'] }, { timeout: 2000 }))
  t.deepEqual(
    hits.map((h) => h.name),
    [name],
    'the two halves search as one network',
  )
})
