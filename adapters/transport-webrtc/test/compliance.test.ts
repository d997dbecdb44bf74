import { transportSuite } from '@peerkit/compliance'
import test from 'ava'
import { MORE } from '../src/fragments.js'
import { parseWebRtcTransportOptions, type WebRtcConnection } from '../src/index.js'
import { LOOPBACK, signalingMesh } from './helpers/index.js'

const options = parseWebRtcTransportOptions(LOOPBACK)

// Each case gets its own memory hub and relay; every transport made is a
// peer connected to that relay, which signals its WebRTC connections.
transportSuite(test, async () => {
  const mesh = await signalingMesh()
  return {
    create: async (identity) => ({
      transport: (await mesh.join(identity)).webrtc,
      listenAddress: 'webrtc://*',
    }),
    injectFrame: (connection, kind) => {
      const dc = (connection as WebRtcConnection).channel
      if (!dc) throw new Error('connection has no data channel')
      if (kind === 'malformed') {
        // A data channel message whose fragment header is neither LAST nor MORE.
        dc.sendMessageBinary(Buffer.from([0x7f, 1, 2, 3]))
      } else {
        // Fragments that add up to one byte over the maximum, none of them LAST.
        const piece = Buffer.alloc(1 + options.fragmentSize)
        piece[0] = MORE
        for (let sent = 0; sent <= options.maxMessageSize; sent += options.fragmentSize)
          dc.sendMessageBinary(piece)
      }
    },
    maxMessageSize: options.maxMessageSize,
    teardown: () => mesh.stop(),
  }
})
