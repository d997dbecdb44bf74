import { createServer, type Socket } from 'node:net'
import { Identity, RealClock } from '@peerkit/core'
import { parseTcpTransportOptions } from '@peerkit/transport-tcp'
import test from 'ava'
import { connectSocket, secure } from '../src/secure.js'
import {
  type ControlMessage,
  controlMessage,
  decode,
  encode,
  Kind,
  preface,
  readPreface,
} from '../src/wire.js'
import { closed, makeRelay, makeTransport, until } from './helpers/nat.js'

const clock = new RealClock()
const tcp = parseTcpTransportOptions({})

async function rawReservation(relay: string) {
  const port = Number(relay.split(':').pop())
  const socket = await connectSocket({ host: '127.0.0.1', port, clock, timeout: 5000, what: 'test' })
  socket.write(preface(Kind.reserve, {}))
  const conn = await secure(socket, 'initiator', 'direct', {
    identity: Identity.generate(),
    tcp,
    clock,
    address: relay,
  })
  const got: ControlMessage[] = []
  conn.on('message', (m) => got.push(decode(controlMessage, m, 'test')))
  await until('reserved', () => got.some((m) => m.t === 'reserved'))
  return { conn, got }
}

test('keep-alive: the relay answers a ping with a pong', async (t) => {
  const relay = await makeRelay(t)
  const r = await rawReservation(relay.address)
  await r.conn.send(encode({ t: 'ping' }))
  await until('the pong', () => r.got.some((m) => m.t === 'pong'))
  t.is(relay.service.stats().reservations, 1)
})

test('attack: keep-alive pings past nat.service.maxPingsPerMinute close the reservation', async (t) => {
  const relay = await makeRelay(t, { maxPingsPerMinute: 5 })
  const r = await rawReservation(relay.address)
  const gone = closed(r.conn)
  for (let i = 0; i < 20 && !r.conn.closed; i++) await r.conn.send(encode({ t: 'ping' })).catch(() => {}) // cut: the rest is refused
  await gone
  t.true(r.got.filter((m) => m.t === 'pong').length <= 5, 'at most the burst was answered')
  await until('the reservation dropped', () => relay.service.stats().reservations === 0)
})

test('keep-alive: a relay that stops answering is left, and the reservation is made again', async (t) => {
  // A relay that reserves but never answers a ping: each reservation is one accepted socket here.
  const relayIdentity = Identity.generate()
  const accepted: Socket[] = []
  const server = createServer({ pauseOnConnect: true }, (socket) => {
    accepted.push(socket)
    void readPreface(socket, { clock, timeout: 5000, what: 'test' })
      .then(() =>
        secure(socket, 'responder', 'direct', { identity: relayIdentity, tcp, clock, address: 'test' }),
      )
      .then((conn) => conn.send(encode({ t: 'reserved', ip: '127.0.0.1', port: 1 })))
      .catch(() => {}) // a client that went away: the next one is counted the same
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => {
    for (const s of accepted) s.destroy()
    server.close()
  })
  const port = (server.address() as { port: number }).port
  const { transport } = makeTransport(t, {
    relays: [`tcp://127.0.0.1:${port}`],
    keepAlive: 100,
    reservationRetry: 50,
    push: false,
    holePunch: false,
  })
  await transport.listen('tcp://127.0.0.1:0')
  await until('a second reservation after the silent one was left', () => accepted.length >= 2, 10_000)
  t.true(accepted.length >= 2)
})

test('attack: a relay asking for more incoming connections than nat.maxIncoming gets that many sockets at most', async (t) => {
  // A hostile relay: it reserves, then sends 100 'incoming' requests and never answers the accepting sockets.
  const relayIdentity = Identity.generate()
  const sockets: Socket[] = []
  let accepts = 0
  const server = createServer({ pauseOnConnect: true }, (socket) => {
    sockets.push(socket)
    void readPreface(socket, { clock, timeout: 5000, what: 'test' })
      .then(async ({ kind }) => {
        if (kind === Kind.accept) {
          accepts++
          return // never answered
        }
        const conn = await secure(socket, 'responder', 'direct', {
          identity: relayIdentity,
          tcp,
          clock,
          address: 'test',
        })
        await conn.send(encode({ t: 'reserved', ip: '127.0.0.1', port: 1 }))
        for (let i = 0; i < 100; i++)
          await conn.send(encode({ t: 'incoming', token: i.toString(16).padStart(32, '0'), ip: '127.0.0.1' }))
      })
      .catch(() => {}) // a socket the client gave up on: counted already
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => {
    for (const s of sockets) s.destroy()
    server.close()
  })
  const port = (server.address() as { port: number }).port
  const { transport } = makeTransport(t, {
    relays: [`tcp://127.0.0.1:${port}`],
    maxIncoming: 4,
    connectTimeout: 60_000,
    reserveTimeout: 200,
    push: false,
    holePunch: false,
  })
  await transport.listen('tcp://127.0.0.1:0')
  await until('the 96 requests beyond the limit ignored', () => transport.ignoredIncoming === 96, 10_000)
  await until('the accepting sockets arrived', () => accepts === 4, 10_000)
  t.is(sockets.length, 5, 'the reservation and four accepting sockets')
})
