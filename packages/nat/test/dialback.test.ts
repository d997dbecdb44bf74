import { createServer, type Socket } from 'node:net'
import { Identity, RealClock } from '@peerkit/core'
import { parseTcpTransportOptions } from '@peerkit/transport-tcp'
import test from 'ava'
import { connectSocket, secure } from '../src/secure.js'
import { type ControlMessage, controlMessage, decode, encode, Kind, preface } from '../src/wire.js'
import { closed, makeRelay, makeTransport, until } from './helpers/nat.js'

const clock = new RealClock()
const tcp = parseTcpTransportOptions({})

/** A raw reservation: the control connection, and the control messages it received. */
async function rawReservation(relay: string, identity = Identity.generate()) {
  const port = Number(relay.split(':').pop())
  const socket = await connectSocket({ host: '127.0.0.1', port, clock, timeout: 5000, what: 'test' })
  socket.write(preface(Kind.reserve, {}))
  const conn = await secure(socket, 'initiator', 'direct', { identity, tcp, clock, address: relay })
  const got: ControlMessage[] = []
  conn.on('message', (m) => got.push(decode(controlMessage, m, 'test')))
  await until('reserved', () => got.some((m) => m.t === 'reserved'))
  return { conn, got, identity }
}

/** A TCP server that counts what reaches it (the third party). */
async function thirdParty(t: Parameters<typeof makeTransport>[0]) {
  const sockets: Socket[] = []
  const server = createServer((s) => {
    sockets.push(s)
    s.destroy()
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>((r) => server.close(() => r())))
  const a = server.address()
  return { port: typeof a === 'object' && a ? a.port : 0, sockets }
}

test('reachability: the relay dials back only the IP the reservation comes from, proves the PeerId, and says which ports answered', async (t) => {
  const relay = await makeRelay(t)
  // A peer that listens (its own transport) and one port where another peer listens.
  const { transport, identity } = makeTransport(t)
  const listener = await transport.listen('tcp://127.0.0.1:0')
  const own = Number(listener.boundAddresses()[0]?.split(':').pop())
  const other = makeTransport(t)
  const otherListener = await other.transport.listen('tcp://127.0.0.1:0')
  const foreign = Number(otherListener.boundAddresses()[0]?.split(':').pop())
  const r = await rawReservation(relay.address, identity)
  await r.conn.send(encode({ t: 'dialback', ports: [own, foreign] }))
  await until('the dial-back result', () => r.got.some((m) => m.t === 'dialback-result'))
  const result = r.got.find((m) => m.t === 'dialback-result')
  t.deepEqual(result, { t: 'dialback-result', ip: '127.0.0.1', ok: [own], failed: [foreign] })
})

test('attack: a dial-back request naming an address, or too many ports, closes the reservation; the third party sees nothing', async (t) => {
  const relay = await makeRelay(t, { maxDialbackPorts: 2 })
  const victim = await thirdParty(t)
  const withAddress = await rawReservation(relay.address)
  const gone = closed(withAddress.conn)
  await withAddress.conn.send(encode({ t: 'dialback', ports: [victim.port], ip: '10.9.9.9' }))
  await gone
  const many = await rawReservation(relay.address)
  const gone2 = closed(many.conn)
  await many.conn.send(encode({ t: 'dialback', ports: [victim.port, victim.port + 1, victim.port + 2] }))
  await gone2
  await until('both reservations dropped', () => relay.service.stats().reservations === 0)
  t.is(victim.sockets.length, 0, 'no dial reached the third party')
  t.is(relay.service.stats().dialbacks, 0)
})

test('attack: dial-backs beyond nat.service.dialbackRate are refused without dialing', async (t) => {
  const relay = await makeRelay(t, { dialbackRate: 2 })
  const target = await thirdParty(t)
  const r = await rawReservation(relay.address)
  for (let i = 0; i < 5; i++) await r.conn.send(encode({ t: 'dialback', ports: [target.port] }))
  await until('five answers', () => r.got.filter((m) => m.t === 'dialback-result').length === 5)
  t.is(relay.service.stats().dialbacks, 2, 'two attempts (the burst), three refused')
  await until('the two attempts arrived', () => target.sockets.length === 2)
  t.is(target.sockets.length, 2)
})
