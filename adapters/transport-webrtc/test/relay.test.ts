import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import test from 'ava'
import { formatWebRtcAddress, WebRtcConnection } from '../src/index.js'
import { within } from './helpers/index.js'
import { randomFile, startPeer } from './helpers/peers.js'

test('two peers that never dial each other over tcp open a webrtc connection through a third, download over it, and go on once the relay is gone', async (t) => {
  // A and B listen on webrtc only: neither can reach the other over tcp.
  const relay = await startPeer(t, { listen: ['tcp://127.0.0.1:0'] })
  const bootstrap = relay.network.addresses()
  const a = await startPeer(t, { listen: ['webrtc://*'], bootstrap })
  const b = await startPeer(t, { listen: ['webrtc://*'], bootstrap })
  t.deepEqual(b.network.addresses(), [formatWebRtcAddress(b.id)])
  await within(
    (async () => {
      while (!a.network.isConnected(relay.id) || !b.network.isConnected(relay.id)) {
        await new Promise((r) => setTimeout(r, 20))
      }
    })(),
    'both peers connected to the relay',
  )

  const first = await randomFile(t, 3 * 1024 * 1024 + 12_345)
  const [record] = await b.share(first.path)
  if (!record) throw new Error('nothing shared')
  const providers = [{ id: b.id, addresses: [formatWebRtcAddress(b.id)] }]
  const out = join(first.dir, 'downloaded-1.bin')
  const result = await within(a.download(record.hash, { to: out, providers }).done, 'first download')
  t.true(result.verified)
  t.true((await readFile(out)).equals(first.data))

  const conn = await a.network.connect(b.id)
  t.true(conn instanceof WebRtcConnection, 'the download went over webrtc')
  t.true((conn as WebRtcConnection).stats.received >= first.data.length)

  // The relay goes away; the webrtc connection does not need it.
  await relay.stop()
  await within(
    (async () => {
      while (a.network.isConnected(relay.id)) await new Promise((r) => setTimeout(r, 20))
    })(),
    'relay gone',
  )
  const second = await randomFile(t, 1024 * 1024 + 7)
  const [record2] = await b.share(second.path)
  if (!record2) throw new Error('nothing shared')
  const out2 = join(second.dir, 'downloaded-2.bin')
  const result2 = await within(a.download(record2.hash, { to: out2, providers }).done, 'second download')
  t.true(result2.verified)
  t.true((await readFile(out2)).equals(second.data))
  t.false(conn.closed)
  t.is(await a.network.connect(b.id), conn, 'the same webrtc connection carried both downloads')
})
