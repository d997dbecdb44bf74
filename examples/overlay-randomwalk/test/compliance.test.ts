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
      overlay: 'randomwalk',
      container: memoryContainer(new MemoryNetwork()),
      clock,
      bootstrap: n, // each peer joins through every peer before it
      options: { randomwalk: { walkers: 4, ttl: 16 } },
    })
    return net.peers
  },
  { searchTimeout: 2000, title: 'randomwalk' },
)
