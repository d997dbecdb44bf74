import { transportSuite } from '@peerkit/compliance'
import { RealClock } from '@peerkit/core'
import test from 'ava'
import { parseStreamTransportOptions, type StreamConnection, StreamTransport } from '../src/index.js'

const options = parseStreamTransportOptions()

transportSuite(test, () => ({
  create: (identity) => ({
    transport: new StreamTransport(identity, new RealClock(), options),
    listenAddress: 'ws://127.0.0.1:0',
  }),
  injectFrame: (connection, kind) => {
    const ws = (connection as StreamConnection).socket
    if (kind === 'malformed') {
      // A binary message that is no record under the connection's keys: it fails the far end's AEAD tag.
      ws.send(Buffer.from('this is not an encrypted record, only bytes'), { binary: true })
    } else {
      // One byte more than the largest record (message and tag): the far end's ws refuses the frame.
      ws.send(Buffer.alloc(options.maxMessageSize + 16 + 1), { binary: true })
    }
  },
  maxMessageSize: options.maxMessageSize,
}))
