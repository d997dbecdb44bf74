import { Identity } from '@peerkit/core'
import { MemoryNetwork } from '@peerkit/transport-memory'
import test from 'ava'
import type { WebRtcConnection } from '../src/index.js'
import { type Answer, type Offer, SIGNAL } from '../src/signal.js'
import { bytes, collect, makeBareNode, makeNode, next, signalingMesh, text, within } from './helpers/index.js'

/** Flips one character of the DTLS fingerprint in an SDP. */
function tamper(sdp: string): string {
  return sdp.replace(
    /(a=fingerprint:\S+ )([0-9A-F])/,
    (_, head: string, c: string) => head + (c === 'A' ? 'B' : 'A'),
  )
}

for (const what of ['offer', 'answer'] as const) {
  test(`a relay that alters the ${what} SDP is refused with AuthenticationError`, async (t) => {
    const hub = new MemoryNetwork()
    const liar = await makeBareNode(hub)
    const a = await makeNode(hub)
    const b = await makeNode(hub)
    t.teardown(() => Promise.allSettled([liar, a, b].map((n) => n.stop())).then(() => {}))
    let relayed = 0
    liar.network.handle(SIGNAL, async (offer: Offer): Promise<Answer> => {
      relayed++
      const forwarded = what === 'offer' ? { ...offer, sdp: tamper(offer.sdp) } : offer
      const answer = await liar.network.request(offer.to, SIGNAL, forwarded)
      return what === 'answer' ? { ...answer, sdp: tamper(answer.sdp) } : answer
    })
    await a.network.dialAddress(liar.address)
    await b.network.dialAddress(liar.address)
    const listener = await b.webrtc.listen('webrtc://*')
    let accepted = 0
    listener.on('connection', () => accepted++)
    await t.throwsAsync(within(a.webrtc.dial(`webrtc://${b.identity.peerId}`), 'dial'), {
      name: 'AuthenticationError',
    })
    t.true(relayed >= 1)
    t.is(accepted, 0)
    t.deepEqual(a.webrtc.connectionList(), [], 'no connection is left open on the dialer')
  })
}

test('the relay refuses an offer whose sender is not the peer that sent it', async (t) => {
  const mesh = await signalingMesh()
  t.teardown(() => mesh.stop())
  const a = await mesh.join()
  const b = await mesh.join()
  await b.webrtc.listen('webrtc://*')
  const forged: Offer = {
    from: Identity.generate().peerId,
    to: b.identity.peerId,
    connection: '0'.repeat(32),
    sdp: 'v=0',
    signature: new Uint8Array(64),
  }
  await t.throwsAsync(a.network.request(mesh.relay.identity.peerId, SIGNAL, forged), {
    name: 'AuthenticationError',
  })
})

test('dialing needs a relay: with no connected peer it fails with PeerUnreachableError', async (t) => {
  const hub = new MemoryNetwork()
  const a = await makeNode(hub)
  const b = await makeNode(hub)
  t.teardown(() => Promise.allSettled([a.stop(), b.stop()]).then(() => {}))
  await b.webrtc.listen('webrtc://*')
  await t.throwsAsync(a.webrtc.dial(`webrtc://${b.identity.peerId}`), { name: 'PeerUnreachableError' })
})

test('listen addresses: webrtc://* and the own id are accepted, anything else is refused', async (t) => {
  const mesh = await signalingMesh()
  t.teardown(() => mesh.stop())
  const a = await mesh.join()
  const own = await a.webrtc.listen(`webrtc://${a.identity.peerId}`)
  t.deepEqual(own.addresses(), [`webrtc://${a.identity.peerId}`])
  await t.throwsAsync(a.webrtc.listen(`webrtc://${Identity.generate().peerId}`), {
    name: 'InvalidOptionsError',
  })
  await t.throwsAsync(a.webrtc.dial('webrtc://not-a-peer-id'), { name: 'InvalidOptionsError' })
  t.false(a.webrtc.handles('tcp://127.0.0.1:1'))
})

test('messages larger than one fragment arrive whole; sends keep their order', async (t) => {
  const mesh = await signalingMesh()
  t.teardown(() => mesh.stop())
  const a = await mesh.join()
  const b = await mesh.join()
  const listener = await b.webrtc.listen('webrtc://*')
  const inbound = next<WebRtcConnection>(listener, 'connection')
  const outbound = await within(a.webrtc.dial(`webrtc://${b.identity.peerId}`), 'dial')
  const conn = await inbound
  const sizes = [1, 65_535, 65_536, 65_537, 1_000_000, 0, 3]
  const got = collect(conn, sizes.length)
  // Not awaited one by one: queued sends must not interleave their fragments.
  await within(Promise.all(sizes.map((n, i) => outbound.send(new Uint8Array(n).fill(i + 1)))), 'sends')
  const messages = await got
  t.deepEqual(
    messages.map((m) => m.byteLength),
    sizes,
  )
  for (const [i, m] of messages.entries()) t.true(m.every((x) => x === i + 1))
  const reply = collect(outbound, 1)
  await conn.send(bytes('pong'))
  t.is(text(((await reply) as Uint8Array[])[0] as Uint8Array), 'pong')
})

test('opening and closing 200 connections leaves no native handle or connection behind', async (t) => {
  const mesh = await signalingMesh()
  t.teardown(() => mesh.stop())
  const a = await mesh.join()
  const b = await mesh.join()
  const listener = await b.webrtc.listen('webrtc://*')
  listener.on('connection', (conn) => conn.on('message', (m) => void conn.send(m).catch(() => {})))
  const address = `webrtc://${b.identity.peerId}`
  const round = async (i: number) => {
    const conn = await a.webrtc.dial(address)
    const echo = collect(conn, 1)
    await conn.send(bytes(`ping ${i}`))
    t.is(text(((await echo) as Uint8Array[])[0] as Uint8Array), `ping ${i}`)
    await conn.close()
  }
  await round(-1) // warm up before measuring
  const settle = async () => {
    await within(
      (async () => {
        while (a.webrtc.connectionList().length + b.webrtc.connectionList().length > 0) {
          await new Promise((r) => setTimeout(r, 20))
        }
      })(),
      'every connection closed',
    )
    await new Promise((r) => setTimeout(r, 200))
  }
  await settle()
  const handlesBefore = process.getActiveResourcesInfo().length
  const rssBefore = process.memoryUsage().rss
  for (let batch = 0; batch < 20; batch++) {
    await within(Promise.all(Array.from({ length: 10 }, (_, k) => round(batch * 10 + k))), `batch ${batch}`)
  }
  await settle()
  const handlesAfter = process.getActiveResourcesInfo().length
  const grown = (process.memoryUsage().rss - rssBefore) / 1024 / 1024
  t.log(`handles ${handlesBefore} → ${handlesAfter}, RSS +${grown.toFixed(1)} MiB after 200 connections`)
  t.true(handlesAfter <= handlesBefore + 2, `active resources grew from ${handlesBefore} to ${handlesAfter}`)
  t.true(grown < 150, `RSS grew by ${grown.toFixed(1)} MiB`)
})

test('close() right after a large send still delivers it whole before the remote closes', async (t) => {
  const mesh = await signalingMesh()
  t.teardown(() => mesh.stop())
  const a = await mesh.join()
  const b = await mesh.join()
  const listener = await b.webrtc.listen('webrtc://*')
  const inbound = next<WebRtcConnection>(listener, 'connection')
  const outbound = await within(a.webrtc.dial(`webrtc://${b.identity.peerId}`), 'dial')
  const conn = await inbound
  const got = collect(conn, 3)
  const remoteClose = next<Error | undefined>(conn, 'close')
  const big = new Uint8Array(4 * 1024 * 1024).fill(9)
  void outbound.send(big)
  void outbound.send(big)
  void outbound.send(bytes('bye'))
  await within(outbound.close(), 'close')
  const messages = await got
  t.deepEqual(
    messages.map((m) => m.byteLength),
    [big.byteLength, big.byteLength, 3],
  )
  t.is(await remoteClose, undefined, 'a clean close on the remote side')
})

test('a text message on the data channel closes the connection with ProtocolError', async (t) => {
  const mesh = await signalingMesh()
  t.teardown(() => mesh.stop())
  const a = await mesh.join()
  const b = await mesh.join()
  const listener = await b.webrtc.listen('webrtc://*')
  const inbound = next<WebRtcConnection>(listener, 'connection')
  const outbound = await within(a.webrtc.dial(`webrtc://${b.identity.peerId}`), 'dial')
  const conn = await inbound
  const error = next<Error>(conn, 'error')
  const closed = next<Error | undefined>(conn, 'close')
  outbound.channel?.sendMessage('hello')
  t.is((await error).name, 'ProtocolError')
  t.is((await closed)?.name, 'ProtocolError')
  await within(next(outbound, 'close'), 'the dialer sees the close')
  t.true(outbound.closed)
})
