import { heapAfterGc } from '@peerkit/core/testing'
import test from 'ava'
import { runSimulation, type SimNetwork } from '../src/index.js'

test('after a run its world is left frozen: no peer sees a connection close, and all of it can be collected', async (t) => {
  let done = false
  let closedAfter = 0
  let world: WeakRef<SimNetwork> | undefined
  const r = await runSimulation(
    { overlay: 'flooding', nodes: 40, queries: 5, seed: 2 },
    {
      onPeer: (p) =>
        p.peer.network.on('peer:disconnect', () => {
          if (done) closedAfter++
        }),
      onProgress: (p) => {
        if (p.phase === 'done') done = true
      },
      onBuilt: (net) => {
        world = new WeakRef(net)
      },
    },
  )
  t.is(r.queries.issued, 5)
  for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve))
  // Killing every peer at the end made each survivor see its links close and redial the dead.
  t.is(closedAfter, 0, 'no connection closed after the figures were taken')
  heapAfterGc()
  t.is(world?.deref(), undefined, 'nothing outside the run keeps its world alive')
})
