import { transportSuite } from '@peerkit/compliance'
import { DEFAULT_MAX_MESSAGE_SIZE } from '@peerkit/core'
import test from 'ava'
import { MemoryNetwork, rawSend } from '../src/index.js'
import { makeTransport } from './helpers/transports.js'

const malformed = (kind: 'malformed' | 'oversized') =>
  kind === 'malformed' ? { not: 'bytes' } : new Uint8Array(DEFAULT_MAX_MESSAGE_SIZE + 1)

// An ideal network: no latency, no bandwidth limit (deliveries on microtasks).
transportSuite(test, () => {
  const network = new MemoryNetwork()
  return {
    create: (identity) => ({ transport: makeTransport(network, { identity }), listenAddress: 'memory://*' }),
    injectFrame: (connection, kind) => rawSend(connection, malformed(kind)),
  }
})

// A real-looking one: 2 ms each way, 400 MB/s per direction, on the real clock.
transportSuite(
  test,
  () => {
    const network = new MemoryNetwork({ latency: 2, bandwidth: 400_000_000 })
    return {
      create: (identity) => ({ transport: makeTransport(network, { identity }), listenAddress: 'memory://' }),
      injectFrame: (connection, kind) => rawSend(connection, malformed(kind)),
      sendAheadBound: 2 * 1024 * 1024,
    }
  },
  { prefix: 'transport (latency, bandwidth)' },
)
