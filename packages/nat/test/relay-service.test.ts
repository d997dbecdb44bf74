import type { Connection } from '@peerkit/core'
import test from 'ava'
import { pathOf } from '../src/index.js'
import { closed, makeRelay, makeTransport, nextMessage, until } from './helpers/nat.js'

/** A firewalled-looking peer: reserves with `relay`, never pushes or punches (loopback is reachable). */
async function reserved(t: Parameters<typeof makeTransport>[0], relay: string) {
  const peer = makeTransport(t, { relays: [relay], push: false, holePunch: false })
  const listener = await peer.transport.listen('tcp://127.0.0.1:0')
  const inbound: Connection[] = []
  listener.on('connection', (c) => {
    inbound.push(c)
    c.on('message', (m) => void c.send(m).catch(() => {})) // echo; a cut connection drops the rest, as it should
  })
  return { ...peer, listener, inbound, relayed: `relay://${relay.slice(6)}/${peer.identity.peerId}` }
}

test('a relayed connection is authenticated end to end, echoes, and reports its path', async (t) => {
  const relay = await makeRelay(t)
  const b = await reserved(t, relay.address)
  await until('the reservation', () => relay.service.stats().reservations === 1)
  const a = makeTransport(t, { push: false, holePunch: false })
  const conn = await a.transport.dial(b.relayed, { peer: b.identity.peerId })
  t.is(conn.remotePeer, b.identity.peerId)
  t.is(pathOf(conn), 'relayed')
  await conn.send(new TextEncoder().encode('hello through the relay'))
  t.is(new TextDecoder().decode(await nextMessage(conn)), 'hello through the relay')
  await until('the inbound side', () => b.inbound.length === 1)
  t.is(pathOf(b.inbound[0] as Connection), 'relayed')
  t.is(b.inbound[0]?.remotePeer, a.identity.peerId)
  t.is(relay.service.stats().circuits, 1)
  // A relayed address of a peer with no reservation is refused by the relay.
  const stranger = makeTransport(t).identity.peerId
  await t.throwsAsync(a.transport.dial(`relay://${relay.address.slice(6)}/${stranger}`), {
    name: 'PeerUnreachableError',
    message: /no reservation/,
  })
})

test('attack: a relayed connection past maxCircuitBytes is cut; honest relayed traffic goes on', async (t) => {
  const relay = await makeRelay(t, { maxCircuitBytes: 256 * 1024 })
  const b = await reserved(t, relay.address)
  await until('the reservation', () => relay.service.stats().reservations === 1)
  const hog = makeTransport(t, { push: false, holePunch: false })
  const conn = await hog.transport.dial(b.relayed)
  const done = closed(conn)
  const big = new Uint8Array(64 * 1024)
  for (let i = 0; i < 16 && !conn.closed; i++) await conn.send(big).catch(() => {}) // cut mid-way: the rest is refused
  await done
  await until('the cut counted', () => relay.service.stats().cutCircuits === 1)
  const s = relay.service.stats()
  t.true(
    s.relayedBytes <= 256 * 1024 + 64 * 1024 + 1024,
    `the relay carried ${s.relayedBytes} bytes at most the limit and one read`,
  )
  t.is(s.circuits, 0)
  const honest = makeTransport(t, { push: false, holePunch: false })
  const ok = await honest.transport.dial(b.relayed)
  await ok.send(new TextEncoder().encode('still here'))
  t.is(new TextDecoder().decode(await nextMessage(ok)), 'still here')
})

test('attack: a relayed connection past maxCircuitDuration is cut', async (t) => {
  const relay = await makeRelay(t, { maxCircuitDuration: 300 })
  const b = await reserved(t, relay.address)
  await until('the reservation', () => relay.service.stats().reservations === 1)
  const a = makeTransport(t, { push: false, holePunch: false })
  const conn = await a.transport.dial(b.relayed)
  await closed(conn, 5000)
  t.is(relay.service.stats().cutCircuits, 1)
})

test('attack: reservations beyond maxReservationsPerAddress are refused and closed', async (t) => {
  const relay = await makeRelay(t, { maxReservationsPerAddress: 2 })
  const peers = [await reserved(t, relay.address), await reserved(t, relay.address)]
  await until('two reservations', () => relay.service.stats().reservations === 2)
  const third = await reserved(t, relay.address)
  await until('the refusal', () => relay.service.stats().refusedReservations >= 1)
  t.is(relay.service.stats().reservations, 2)
  t.deepEqual(
    third.listener.addresses(),
    third.listener.boundAddresses(),
    'no relayed address without a reservation',
  )
  t.true(peers.every((p) => p.listener.addresses().length > 0))
})
