import { overlaySuite } from '@peerkit/compliance'
import test from 'ava'
import { centralNet } from './helpers/net.js'

overlaySuite(
  test,
  async (t, n, clock) => {
    const net = await centralNet(t, n, { server: { heartbeatInterval: 200, dropAfter: 1000 }, clock })
    return net.nodes
  },
  { searchTimeout: 2000, settleTimeout: 5000, title: 'central', serviceTimers: 1 },
)
