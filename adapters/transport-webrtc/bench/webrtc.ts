import 'reflect-metadata'
/**
 * MB/s of 256 MiB over a peerkit webrtc connection against raw
 * node-datachannel (64 KiB messages, bufferedAmount backpressure) in the same run.
 *
 *   npm run bench:webrtc
 */
import type { Connection } from '@peerkit/core'
import { MemoryNetwork } from '@peerkit/transport-memory'
import { type DataChannel, PeerConnection } from 'node-datachannel'
import { parseWebRtcTransportOptions, type WebRtcConnection } from '../src/index.js'
import { DEFAULT_HIGH_WATER_MARK } from '../src/options.js'
import { withoutCandidates } from '../src/signal.js'
import { makeNode } from '../test/helpers/index.js'

const MiB = 1024 * 1024
const TOTAL = 256 * MiB
const RAW_MESSAGE = 64 * 1024

function gathered(pc: PeerConnection): Promise<string> {
  return new Promise((resolve) =>
    pc.onGatheringStateChange((s) => {
      if (s === 'complete') resolve(pc.localDescription()?.sdp ?? '')
    }),
  )
}

/** Raw node-datachannel: one channel, 64 KiB messages, waits on onBufferedAmountLow past the high-water mark. */
async function raw(): Promise<number> {
  const a = new PeerConnection('bench-a', { iceServers: [], bindAddress: '127.0.0.1' })
  const b = new PeerConnection('bench-b', { iceServers: [], bindAddress: '127.0.0.1' })
  let received = 0
  let channelB: DataChannel | undefined
  let finished!: () => void
  const done = new Promise<void>((r) => {
    finished = r
  })
  b.onDataChannel((dc) => {
    channelB = dc
    dc.onMessage((m) => {
      received += typeof m === 'string' ? m.length : m.byteLength
      if (received >= TOTAL) finished()
    })
  })
  const offer = gathered(a)
  const dc = a.createDataChannel('raw')
  const answer = gathered(b)
  // As the transport does: the answerer starts ICE only once the dialer has the answer.
  b.setRemoteDescription(withoutCandidates(await offer), 'offer')
  a.setRemoteDescription(await answer, 'answer')
  await new Promise<void>((r) => (dc.isOpen() ? r() : dc.onOpen(r)))
  dc.setBufferedAmountLowThreshold(DEFAULT_HIGH_WATER_MARK / 2)
  let low: (() => void) | undefined
  dc.onBufferedAmountLow(() => low?.())
  const payload = Buffer.alloc(RAW_MESSAGE, 7)
  const start = performance.now()
  for (let sent = 0; sent < TOTAL; sent += RAW_MESSAGE) {
    dc.sendMessageBinary(payload)
    while (dc.bufferedAmount() >= DEFAULT_HIGH_WATER_MARK) await new Promise<void>((r) => (low = r))
  }
  await done
  const seconds = (performance.now() - start) / 1000
  channelB?.close()
  dc.close()
  a.close()
  b.close()
  return TOTAL / 1e6 / seconds
}

/** peerkit: a connection opened through a relay, `size`-byte messages, each `send` awaited. */
async function peerkit(size: number): Promise<number> {
  const hub = new MemoryNetwork()
  const options = { bindAddress: '127.0.0.1' }
  const relay = await makeNode(hub, undefined, options)
  const a = await makeNode(hub, undefined, options)
  const b = await makeNode(hub, undefined, options)
  try {
    await a.network.dialAddress(relay.network.addresses()[0] as string)
    await b.network.dialAddress(relay.network.addresses()[0] as string)
    const listener = await b.webrtc.listen('webrtc://*')
    const inbound = new Promise<Connection>((r) => listener.once('connection', r))
    const outbound: WebRtcConnection = await a.webrtc.dial(`webrtc://${b.identity.peerId}`)
    const conn = await inbound
    let received = 0
    const done = new Promise<void>((resolve) =>
      conn.on('message', (m) => {
        received += m.byteLength
        if (received >= TOTAL) resolve()
      }),
    )
    const payload = new Uint8Array(size).fill(7)
    const start = performance.now()
    for (let sent = 0; sent < TOTAL; sent += size) await outbound.send(payload)
    await done
    return TOTAL / 1e6 / ((performance.now() - start) / 1000)
  } finally {
    await Promise.allSettled([a.stop(), b.stop(), relay.stop()])
  }
}

const fragment = parseWebRtcTransportOptions().fragmentSize
// Raw runs first and last; the better of the two is the baseline (the first run also warms up).
const rawFirst = await raw()
const rows: Array<[string, number]> = []
for (const [label, size] of [
  [`peerkit webrtc, ${fragment / 1024} KiB messages (one fragment)`, fragment],
  ['peerkit webrtc, 1 MiB messages (16 fragments)', MiB],
  ['peerkit webrtc, 16 KiB messages', 16 * 1024],
] as const) {
  rows.push([label, await peerkit(size)])
}
const rawMBs = Math.max(rawFirst, await raw())
rows.unshift(['raw node-datachannel, 64 KiB messages (best of 2)', rawMBs])
console.log(`256 MiB over one WebRTC data channel on 127.0.0.1 (node ${process.version})`)
for (const [label, mbs] of rows) {
  console.log(`${label.padEnd(50)} ${mbs.toFixed(1).padStart(7)} MB/s  ${(mbs / rawMBs).toFixed(2)} × raw`)
}
process.exit(0)
