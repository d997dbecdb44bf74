import '@peerkit/index-memory'
import '@peerkit/transfer'
import '@peerkit/transport-memory'
import '../src/index.js'
import { collect, keywords, overlayConnectivity, type Peer } from '@peerkit/core'
import test from 'ava'
import type { SupernodeOptions } from '../src/index.js'
import { virtualNet } from './helpers/virtual-net.js'

const FAST: SupernodeOptions = {
  hopTimeout: 80,
  heartbeatInterval: 200,
  failoverTimeout: 400,
  electionDelay: 200,
  maintenanceInterval: 100,
  refreshInterval: 200,
  demoteAfter: 0,
}

test('connectivity: leaves attached and their supernode are connected; a lone first supernode is isolated', async (t) => {
  const alone = await virtualNet(t, 1, FAST)
  const [first] = alone.peers as [Peer]
  t.is(first.status().connectivity.state, 'isolated')
  const { peers } = await virtualNet(t, 3, FAST, () => ({ leavesPerSupernode: 50 }))
  for (const p of peers) {
    t.is(overlayConnectivity(p.overlay).state, 'connected', p.overlay.role())
    t.true(p.status().connectivity.neighbors >= 1)
  }
})

test('a leaf that vanishes without goodbye leaves the search results at once (its supernode saw the connection close)', async (t) => {
  const { peers } = await virtualNet(t, 4, FAST, () => ({ leavesPerSupernode: 50 }))
  const [hub, alice, bob] = peers as [Peer, Peer, Peer]
  t.is(hub.overlay.role(), 'supernode')
  const record = {
    hash: 'ab'.repeat(32),
    name: 'Vanishing.Leaf.mkv',
    size: 1000,
    chunkSize: 65_536,
    keywords: keywords('Vanishing.Leaf.mkv'),
    provider: { id: alice.id, addresses: alice.addresses() },
  }
  await alice.overlay.publish([record])
  const providers = async () =>
    (await collect(bob.overlay.search({ keywords: ['vanish'] }, { timeout: 1500 }))).flatMap((h) =>
      h.providers.map((p) => p.id),
    )
  let found: string[] = []
  for (let i = 0; i < 20 && !found.includes(alice.id); i++) found = await providers()
  t.deepEqual(found, [alice.id], 'found by a prefix of its name')
  await alice.network.stop() // no logout: its connections close
  t.deepEqual(await providers(), [], 'gone from the results at once')
})
