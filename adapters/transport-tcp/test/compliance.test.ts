import { transportSuite } from '@peerkit/compliance'
import { RealClock } from '@peerkit/core'
import { frameHeader } from '@peerkit/core/wire'
import test from 'ava'
import { parseTcpTransportOptions, TcpTransport } from '../src/index.js'
import type { TcpConnection } from '../src/parts.js'
import { rawWire } from '../src/raw-wire.js'

const options = parseTcpTransportOptions()

transportSuite(
  test,
  () => ({
    create: (identity) => ({
      transport: new TcpTransport(identity, new RealClock(), options),
      listenAddress: 'tcp://127.0.0.1:0',
    }),
    injectFrame: (connection, kind) => {
      const wire = rawWire(connection as TcpConnection)
      if (kind === 'malformed') {
        // Bytes outside any record: they fail the far end's AEAD tag (or its record length check).
        wire.writeRaw(new TextEncoder().encode('\0\0\0\x20this is not an encrypted record!'))
      } else {
        // A correctly encrypted record whose message frame announces one byte over the maximum.
        wire.writeSealed(frameHeader(options.maxMessageSize + 1))
      }
    },
    maxMessageSize: options.maxMessageSize,
  }),
  // Each wait is bounded (the suite's default is 10 s). Every case of this file runs at once, each
  // sealing and opening real AEAD records, so a loaded machine stretches the 64 MiB stream and the
  // 50 handshakes (about 1 s on two burners; 12 s at a load of 18 once): as transport-websocket.
  { timeout: 25_000 },
)
