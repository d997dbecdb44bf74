import '@peerkit/transport-memory'
import '@peerkit/index-memory'
import { overlaySuite } from '@peerkit/compliance'
import test from 'ava'
import { FAST, ringIsCorrect, SETTLE, startRing, until } from './helpers/ring.js'

overlaySuite(
  test,
  async (t, n) => {
    const nodes = await startRing(t, n, { chord: FAST })
    await until(() => ringIsCorrect(nodes), SETTLE, 'the ring to stabilise')
    return nodes.map((node) => ({
      id: node.network.peerId,
      overlay: node.overlay,
      addresses: () => node.network.addresses(),
      stop: () => node.stop(),
    }))
  },
  { searchTimeout: 2000, title: 'chord' },
)
