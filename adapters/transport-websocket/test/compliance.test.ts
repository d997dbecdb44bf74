import { transportSuite } from '@peerkit/compliance'
import { RealClock } from '@peerkit/core'
import test from 'ava'
import { parseWebSocketTransportOptions, WebSocketTransport } from '../src/index.js'
import { rawWire } from '../src/raw-wire.js'

// Bounds that hold with two CPU burners beside the run: 50 handshakes at once, and 64 MiB through ws's
// frame masking (in JS without the optional bufferutil), took over 10 s so.
const options = parseWebSocketTransportOptions({ handshakeTimeout: 25_000 })

transportSuite(
  test,
  () => ({
    create: (identity) => ({
      transport: new WebSocketTransport(identity, new RealClock(), options),
      listenAddress: 'ws://127.0.0.1:0',
    }),
    injectFrame: (connection, kind) => {
      const wire = rawWire(connection)
      if (kind === 'malformed') {
        // A message that is not a record: it fails the far end's length check or AEAD tag.
        wire.writeRaw(new TextEncoder().encode('\0\0\0\x20this is not an encrypted record!'))
      } else {
        // A correctly encrypted record holding one byte over the maximum message.
        void wire.writeSealed(new Uint8Array(options.maxMessageSize + 1))
      }
    },
    maxMessageSize: options.maxMessageSize,
  }),
  { timeout: 25_000 },
)
