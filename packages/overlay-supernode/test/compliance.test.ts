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
      overlay: 'supernode',
      container: memoryContainer(new MemoryNetwork()),
      clock,
      options: {
        supernode: { hopTimeout: 100, heartbeatInterval: 200, failoverTimeout: 500, electionDelay: 200 },
      },
    })
    return net.peers
  },
  { searchTimeout: 2000, settleTimeout: 5000, title: 'supernode' },
)
