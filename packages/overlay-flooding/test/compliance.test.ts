import '@peerkit/index-memory'
import '@peerkit/transfer'
import '@peerkit/transport-memory'
import '../src/index.js'
import { createTestnet, overlaySuite } from '@peerkit/compliance'
import { MemoryNetwork, memoryContainer } from '@peerkit/transport-memory'
import test from 'ava'

overlaySuite(
  test,
  async (t, n, clock) => {
    const net = await createTestnet(t, n, {
      overlay: 'flooding',
      container: memoryContainer(new MemoryNetwork()),
      clock,
      options: { flooding: { ringTimeout: 100 } },
    })
    return net.peers
  },
  { searchTimeout: 2000, title: 'flooding' },
)
