import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { Identity, RealClock } from '@peerkit/core'
import test, { type ExecutionContext } from 'ava'
import { rawWire } from '../src/raw-wire.js'
import {
  type Connection,
  parseWebSocketTransportOptions,
  type WebSocketConnection,
  WebSocketTransport,
  type WebSocketTransportOptions,
} from './helpers/exports.js'

// Attacks on a ws listener, over real sockets on the loopback net. Attackers use 127.0.1.x;
// honest peers dial from 127.0.0.1.

const WAIT = 10_000

function within<T>(p: Promise<T>, what: string, ms = WAIT): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}

async function victim(t: ExecutionContext, options: WebSocketTransportOptions) {
  const transport = new WebSocketTransport(
    Identity.generate(),
    new RealClock(),
    parseWebSocketTransportOptions(options),
  )
  t.teardown(() => transport.close())
  const listener = await transport.listen('ws://127.0.0.1:0')
  const refused: Error[] = []
  const failed: Error[] = []
  const inbound: Connection[] = []
  listener.on('error', (err) => (err.name === 'RateLimitError' ? refused : failed).push(err))
  listener.on('connection', (conn) => {
    inbound.push(conn)
    // Echo: an honest peer's message comes back.
    conn.on('message', (m) => void conn.send(m).catch(() => {})) // a closed connection: nothing to echo to
  })
  return { transport, address: listener.addresses()[0] as string, refused, failed, inbound }
}

function dialer(t: ExecutionContext): WebSocketTransport {
  const transport = new WebSocketTransport(
    Identity.generate(),
    new RealClock(),
    parseWebSocketTransportOptions(),
  )
  t.teardown(() => transport.close())
  return transport
}

async function honestEcho(t: ExecutionContext, address: string): Promise<void> {
  const conn = await within(dialer(t).dial(address), 'honest dial')
  const back = once(conn as unknown as NodeJS.EventEmitter, 'message')
  await conn.send(new TextEncoder().encode('hello'))
  const [m] = (await within(back, 'echo')) as [Uint8Array]
  t.is(new TextDecoder().decode(m), 'hello')
  await conn.close()
}

async function socketFrom(address: string, from: string): Promise<Socket> {
  const url = new URL(address)
  const socket = connect({ host: url.hostname, port: Number(url.port), localAddress: from })
  socket.on('error', () => {}) // a refused or reset socket is what these tests count, through 'close'
  await within(
    new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject)),
    `connect from ${from}`,
  )
  return socket
}

test('silent sockets from one address take at most its handshake slots, are dropped at handshakeTimeout, and honest dials get through', async (t) => {
  const limits = {
    maxHandshakesPerAddress: 4,
    maxHandshakesPerSubnet: 8,
    maxHandshakes: 16,
    handshakeTimeout: 1500,
  }
  const v = await victim(t, limits)
  // Twelve silent sockets from one address: four get a slot, the other eight are refused at once.
  const sockets = await Promise.all(Array.from({ length: 12 }, () => socketFrom(v.address, '127.0.1.1')))
  t.teardown(() => {
    for (const s of sockets) s.destroy()
  })
  const closes = sockets.map((s) => (s.destroyed ? Promise.resolve() : once(s, 'close')))
  await within(
    (async () => {
      while (v.refused.length < 8) await new Promise((r) => setTimeout(r, 20))
    })(),
    'eight refusals',
  )
  t.true(
    v.refused.every((e) => /127\.0\.1\.1.*ws\.maxHandshakesPerAddress/.test(e.message)),
    v.refused[0]?.message,
  )
  await honestEcho(t, v.address)
  // The four that got a slot are dropped at handshakeTimeout: none outlives it by much.
  const started = Date.now()
  await within(Promise.all(closes), 'every silent socket closed', limits.handshakeTimeout + 5000)
  t.true(Date.now() - started < limits.handshakeTimeout + 5000)
  t.is(v.refused.length, 8, 'exactly the sockets beyond the limit were refused')
  await honestEcho(t, v.address)
})

/** A masked client frame header for a binary message of `length` bytes (RFC 6455 §5.2), and its mask. */
function frameHeader(length: number): Uint8Array {
  const header = new Uint8Array(14)
  header[0] = 0x82 // FIN, binary
  header[1] = 0x80 | 127 // masked, 64-bit length
  new DataView(header.buffer).setBigUint64(2, BigInt(length))
  header.set([1, 2, 3, 4], 10)
  return header
}

test('a message started and never finished closes the connection at messageTimeout; others go on', async (t) => {
  const v = await victim(t, { messageTimeout: 800 })
  const attacker = (await within(dialer(t).dial(v.address), 'attacker dial')) as WebSocketConnection
  const closed = new Promise((resolve) => attacker.once('close', resolve))
  // Half of a 64 KiB message, then silence.
  rawWire(attacker).writeStream(frameHeader(65536))
  rawWire(attacker).writeStream(new Uint8Array(32768))
  const started = Date.now()
  await within(
    (async () => {
      while (v.inbound[0] === undefined) await new Promise((r) => setTimeout(r, 20))
    })(),
    'inbound connection',
  )
  const victimSide = v.inbound[0] as Connection
  const err = await within(
    new Promise<Error | undefined>((resolve) => victimSide.once('close', resolve)),
    'victim closes',
  )
  t.is(err?.name, 'ProtocolError')
  t.regex(err?.message ?? '', /ws\.messageTimeout/)
  t.true(Date.now() - started >= 700, 'not before messageTimeout')
  await within(closed, 'attacker sees the close')
  await honestEcho(t, v.address)
})

// Serial: it bounds this process's RSS, which tests running beside it would move too.
test.serial('a frame announcing more than maxMessageSize is refused before it is read', async (t) => {
  const v = await victim(t, { maxMessageSize: 64 * 1024 })
  const attacker = (await within(dialer(t).dial(v.address), 'attacker dial')) as WebSocketConnection
  const closed = new Promise((resolve) => attacker.once('close', resolve))
  const rssBefore = process.memoryUsage().rss
  // Announces 1 GiB; sends 1 MiB of it.
  rawWire(attacker).writeStream(frameHeader(2 ** 30))
  rawWire(attacker).writeStream(new Uint8Array(1024 * 1024))
  await within(closed, 'the victim drops the connection')
  t.true(
    process.memoryUsage().rss - rssBefore < 64 * 1024 * 1024,
    'nothing near the announced size was buffered',
  )
  await honestEcho(t, v.address)
})
