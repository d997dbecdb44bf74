import '@peerkit/index-memory'
import '@peerkit/transport-memory'
import { TestClock } from '@peerkit/compliance'
import { CLOCK } from '@peerkit/core'
import { MemoryNetwork, memoryContainer } from '@peerkit/transport-memory'
import test from 'ava'
import { startNode } from './helpers/node.js'

test('a node started before its bootstrap peer says bootstrapping, retries with backoff, and is connected once the peer appears', async (t) => {
  const clock = new TestClock()
  const parent = memoryContainer(new MemoryNetwork())
  parent.register(CLOCK, { useValue: clock })
  const flooding = { maintenanceInterval: 1000 }
  const later = `memory://flood-late-${process.pid}`
  const early = await startNode(t, {
    parent,
    transport: 'memory',
    listen: [`memory://flood-early-${process.pid}`],
    bootstrap: [later],
    flooding,
  })
  let c = early.overlay.connectivity()
  t.is(c.state, 'bootstrapping')
  t.is(c.neighbors, 0)
  t.truthy(c.reason)
  // Backoff: rounds after 1, 2, 4, 8 … seconds (maintenanceInterval doubled, up to 60 s), not one a second.
  await clock.advance(30_000)
  c = early.overlay.connectivity()
  t.true((c.retries ?? 0) >= 3 && (c.retries ?? 0) <= 5, `${c.retries} retries in 30 s`)
  const first = await startNode(t, { parent, transport: 'memory', listen: [later], flooding })
  t.is(first.overlay.connectivity().state, 'isolated', 'the first peer has nobody to ask')
  await clock.until(() => early.overlay.neighbors().length > 0, 20_000, 'the early node to join')
  t.deepEqual(early.overlay.connectivity(), { state: 'connected', neighbors: 1 })
  t.is(first.overlay.connectivity().state, 'connected')
})
