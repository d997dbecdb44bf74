import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Hit } from '@peerkit/core'
import test from 'ava'
import { formatWebRtcAddress, WebRtcConnection } from '../src/index.js'
import { within } from './helpers/index.js'
import { randomFile, startPeer } from './helpers/peers.js'

test('flooding over tcp and webrtc: a search hit is downloaded over a webrtc connection', async (t) => {
  // webrtc listed first: the address every other peer tries first.
  const listen = ['webrtc://*', 'tcp://127.0.0.1:0']
  const hub = await startPeer(t, { listen })
  const bootstrap = hub.network.addresses().filter((a) => a.startsWith('tcp://'))
  const seeker = await startPeer(t, { listen, bootstrap })
  const holder = await startPeer(t, { listen, bootstrap })
  t.is(holder.network.addresses()[0], formatWebRtcAddress(holder.id))

  const file = await randomFile(t, 2 * 1024 * 1024 + 99)
  const [record] = await holder.share(file.path)
  if (!record) throw new Error('nothing shared')

  const hit = await within(
    (async () => {
      for (;;) {
        const hits: Hit[] = []
        for await (const h of seeker.search('shared', { timeout: 2000 })) hits.push(h)
        const found = hits.find((h) => h.hash === record.hash)
        if (found) return found
        await new Promise((r) => setTimeout(r, 100))
      }
    })(),
    'search hit',
  )
  t.true(hit.providers.some((p) => p.id === holder.id))

  const out = join(file.dir, 'downloaded.bin')
  const result = await within(
    seeker.download(hit.hash, { to: out, providers: hit.providers }).done,
    'download',
  )
  t.true(result.verified)
  t.true((await readFile(out)).equals(file.data))
  const conn = await seeker.network.connect(holder.id)
  t.true(conn instanceof WebRtcConnection, `the download went over ${conn.constructor.name}`)
  t.true((conn as WebRtcConnection).stats.received >= file.data.length)
})
