import '@peerkit/index-memory'
import '@peerkit/transfer'
import '@peerkit/transport-memory'
import '../src/index.js'
import { overlayConnectivity, type Peer } from '@peerkit/core'
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
