import '@peerkit/transport-memory'
import '@peerkit/index-memory'
import { overlaySuite } from '@peerkit/compliance'
import { CLOCK } from '@peerkit/core'
import { MemoryNetwork, memoryContainer } from '@peerkit/transport-memory'
import test from 'ava'
import { FAST, ringIsCorrect, SETTLE, startRing } from './helpers/ring.js'

overlaySuite(
  test,
  async (t, n, clock) => {
    const parent = memoryContainer(new MemoryNetwork())
    parent.register(CLOCK, { useValue: clock })
    const nodes = await startRing(t, n, { chord: FAST, parent })
    if (!(await clock.until(SETTLE, () => ringIsCorrect(nodes))))
      throw new Error(`the ring did not stabilise within ${SETTLE} virtual ms`)
    return nodes.map((node) => ({
      id: node.network.peerId,
      overlay: node.overlay,
      addresses: () => node.network.addresses(),
      stop: () => node.stop(),
    }))
  },
  { searchTimeout: 2000, title: 'chord' },
)
