import { randomBytes } from 'node:crypto'
import { getEventListeners } from 'node:events'
import { type Connection } from '@peerkit/core'
import { frameHeader } from '@peerkit/core/wire'
import test from 'ava'
import { FrameReader } from '../src/frame-reader.js'
import type { TcpTransportOptions } from '../src/index.js'
import { MAX_RECORD_SIZE, TAG_SIZE } from '../src/secure.js'
import {
  bytes,
  collect,
  handPeer,
  listen,
  makeTransport,
  next,
  pair,
  pause,
  record,
  settlesThisTurn,
  text,
  within,
} from './helpers/index.js'

const configurations: [string, TcpTransportOptions][] = [
  ['default', {}],
  ['small records', { recordSize: 1024 }],
  ['AES on the thread pool, 64 KiB records', { offload: true, recordSize: 64 * 1024 }],
  ['ChaCha20-Poly1305', { cipher: 'chacha20-poly1305' }],
]

for (const [name, options] of configurations) {
  test(`${name}: messages of every size arrive whole and in order, both ways`, async (t) => {
    const { transport: a } = makeTransport(t, options)
    const { transport: b } = makeTransport(t, options)
    const { listener, address } = await listen(b)
    const { outbound, inbound } = await pair(a, listener, address)
    const sizes = [0, 1, 15, 16 * 1024 - 4, 16 * 1024 + 1, 65_536, 300_000, 1024 * 1024 + 3, 4 * 1024 * 1024]
    const messages = sizes.map((n) => randomBytes(n))
    for (const [from, to] of [
      [outbound, inbound],
      [inbound, outbound],
    ] as const) {
      const got = collect(to, messages.length)
      for (const m of messages) await from.send(m)
      const received = await got
      t.deepEqual(
        received.map((m) => m.length),
        sizes,
      )
      t.true(received.every((m, i) => Buffer.from(m).equals(messages[i] as Buffer)))
    }
  })
}

test('a burst of sends that nobody awaits arrives in order', async (t) => {
  const { transport: a } = makeTransport(t, { highWaterMark: 64 * 1024 })
  const { transport: b } = makeTransport(t)
  const { listener, address } = await listen(b)
  const { outbound, inbound } = await pair(a, listener, address)
  const got = collect(inbound, 2000)
  const sends = Array.from({ length: 2000 }, (_, i) => outbound.send(bytes(`${i} ${'x'.repeat(i % 300)}`)))
  await within(Promise.all(sends), 'sends')
  t.deepEqual(
    (await got).map((m) => Number(text(m).split(' ')[0])),
    Array.from({ length: 2000 }, (_, i) => i),
  )
})

test('a frame announcing more than maxMessageSize closes that connection with ProtocolError; the listener goes on', async (t) => {
  const { transport: a } = makeTransport(t, { maxMessageSize: 1024 * 1024 })
  const { transport: b } = makeTransport(t, { maxMessageSize: 64 * 1024 })
  const { listener, address } = await listen(b)
  const { outbound, inbound } = await pair(a, listener, address)
  const events: string[] = []
  inbound.on('message', () => events.push('message'))
  inbound.on('error', (err) => events.push(`error ${err.name}`))
  const closed = next<Error | undefined>(inbound, 'close')
  const remoteClosed = next(outbound, 'close')
  await outbound.send(new Uint8Array(64 * 1024 + 1))
  const err = await closed
  t.is(err?.name, 'ProtocolError')
  t.regex(err?.message ?? '', /message of 65537 bytes exceeds the maximum of 65536/)
  t.deepEqual(events, ['error ProtocolError'])
  await remoteClosed
  const again = await pair(a, listener, address)
  const got = collect(again.inbound, 1)
  await again.outbound.send(bytes('fine'))
  t.is(text((await got)[0] as Uint8Array), 'fine')
})

test('a record announcing more than the record maximum is refused before its body arrives', async (t) => {
  const peer = await handPeer(t)
  const { transport } = makeTransport(t)
  const conn = await transport.dial(peer.address)
  const { socket } = await peer.accepted
  const closed = next<Error | undefined>(conn, 'close')
  socket.write(frameHeader(MAX_RECORD_SIZE + TAG_SIZE + 1)) // and nothing more
  const err = await closed
  t.is(err?.name, 'ProtocolError')
  t.regex(err?.message ?? '', /exceeds the maximum/)
})

test('a replayed record, and a tampered one, are ProtocolErrors that close the connection', async (t) => {
  for (const attack of ['replay', 'tamper'] as const) {
    const peer = await handPeer(t)
    const { transport } = makeTransport(t)
    const conn = await transport.dial(peer.address)
    const { socket, result } = await peer.accepted
    const got: string[] = []
    conn.on('message', (m) => got.push(text(m)))
    const closed = next<Error | undefined>(conn, 'close')
    const first = await record(result.sender, bytes('pay alice 10'))
    socket.write(first)
    if (attack === 'replay') socket.write(first)
    else {
      const second = await record(result.sender, bytes('pay alice 20'))
      second[8] = (second[8] as number) ^ 0x01
      socket.write(second)
    }
    const err = await closed
    t.is(err?.name, 'ProtocolError', attack)
    t.regex(err?.message ?? '', /failed authentication/)
    t.deepEqual(got, ['pay alice 10'], `${attack}: only the genuine message was delivered`)
    t.true(conn.closed)
  }
})

test('messages sent right behind the handshake are not lost', async (t) => {
  const peer = await handPeer(t)
  const { transport } = makeTransport(t)
  const dial = transport.dial(peer.address, { peer: peer.identity.peerId })
  const { socket, result } = await peer.accepted
  socket.write(await record(result.sender, bytes('early'), bytes('bird')))
  const conn = await dial
  const got = await collect(conn, 2)
  t.deepEqual(got.map(text), ['early', 'bird'])
})

test('send waits while the buffer is full: a fast sender never holds more than highWaterMark', async (t) => {
  const highWaterMark = 256 * 1024
  const size = 64 * 1024
  const peer = await handPeer(t)
  const { transport } = makeTransport(t, { highWaterMark })
  const conn = (await transport.dial(peer.address)) as Connection & { bufferedAmount: number }
  const { socket, result } = await peer.accepted // the hand peer does not read: its socket stays paused
  let sent = 0
  let most = 0
  let blocked: Promise<void> | undefined
  while (!blocked && sent < 256 * 1024 * 1024) {
    const p = conn.send(new Uint8Array(size))
    const done = await settlesThisTurn(p)
    most = Math.max(most, conn.bufferedAmount)
    if (done) sent += size
    else blocked = p
  }
  t.truthy(blocked, 'send stopped resolving once the receiver stopped reading')
  t.true(most <= highWaterMark + size + 1024, `held ${most} bytes (bound ${highWaterMark} + one message)`)
  // The receiver reads again: the blocked send goes through, and everything arrives.
  let received = 0
  let records = 0
  const opened: Uint8Array[] = []
  const { FrameDecoder } = await import('@peerkit/core/wire')
  const decoder = new FrameDecoder(2 * 1024 * 1024)
  socket.on('data', async (chunk: Buffer) => {
    for (const body of decoder.push(chunk)) {
      records++
      opened.push(await result.receiver.open(body))
    }
  })
  socket.resume()
  await within(blocked as Promise<void>, 'blocked send')
  sent += size
  await within(
    (async () => {
      for (;;) {
        received = opened.reduce((n, p) => n + p.length, 0)
        if (received >= sent + (sent / size) * 4) return
        await pause(10)
      }
    })(),
    'everything received',
  )
  t.is(received, sent + (sent / size) * 4, 'every message and its 4-byte header arrived')
  t.true(records > 0)
})

test('a send aborted while it waits for room rejects with AbortError and is never delivered', async (t) => {
  const peer = await handPeer(t)
  const { transport } = makeTransport(t, { highWaterMark: 64 * 1024 })
  const conn = await transport.dial(peer.address)
  const { socket } = await peer.accepted
  t.teardown(() => socket.destroy()) // before the transport's graceful close would wait for it
  const controller = new AbortController()
  let waiting: Promise<void> | undefined
  // Send until one send waits for room (each turn of the event loop lets the socket take what it can).
  for (let i = 0; i < 4096 && !waiting; i++) {
    const p = conn.send(new Uint8Array(64 * 1024), { signal: controller.signal })
    if (!(await settlesThisTurn(p))) waiting = p
  }
  t.truthy(waiting)
  controller.abort()
  await t.throwsAsync(within(waiting as Promise<void>, 'aborted send'), { name: 'AbortError' })
  t.false(conn.closed)
})

test('many sends waiting for room on one signal put one listener on it and leave none', async (t) => {
  const warnings: string[] = []
  const onWarning = (w: Error) => {
    if (w.name === 'MaxListenersExceededWarning') warnings.push(w.message)
  }
  process.on('warning', onWarning)
  t.teardown(() => process.off('warning', onWarning))
  const peer = await handPeer(t)
  const { transport } = makeTransport(t, { highWaterMark: 64 * 1024 })
  const conn = await transport.dial(peer.address)
  const { socket } = await peer.accepted
  socket.pause() // the peer reads nothing until the end, so the sender's buffers fill
  t.teardown(() => socket.destroy()) // before the transport's graceful close would wait for it
  const kept = new AbortController()
  const dropped = new AbortController()
  const sent: Promise<void>[] = []
  // Send until one send waits for room (each turn of the event loop lets the socket take what it can).
  for (let i = 0; i < 4096; i++) {
    const p = conn.send(new Uint8Array(64 * 1024), { signal: kept.signal })
    sent.push(p)
    if (!(await settlesThisTurn(p))) break
  }
  t.true(sent.length < 4096, 'a send waits for room')
  for (let i = 0; i < 49; i++) sent.push(conn.send(new Uint8Array(1024), { signal: kept.signal }))
  const aborted = Array.from({ length: 50 }, () =>
    conn.send(new Uint8Array(1024), { signal: dropped.signal }),
  )
  t.is(getEventListeners(kept.signal, 'abort').length, 1)
  t.is(getEventListeners(dropped.signal, 'abort').length, 1)
  dropped.abort()
  for (const p of aborted) await t.throwsAsync(within(p, 'aborted send'), { name: 'AbortError' })
  t.is(getEventListeners(dropped.signal, 'abort').length, 0)
  socket.resume() // the peer reads (and drops) everything: every kept send goes out
  await within(Promise.all(sent), 'kept sends')
  t.is(getEventListeners(kept.signal, 'abort').length, 0, 'every sent message took its callback off')
  t.false(conn.closed)
  await new Promise((r) => setImmediate(r)) // process warnings are emitted on a later tick
  t.deepEqual(warnings, [])
})

test('the remote closing gives a clean close here; a reset gives error then close', async (t) => {
  const peer = await handPeer(t)
  const { transport } = makeTransport(t)
  const conn = await transport.dial(peer.address)
  const { socket } = await peer.accepted
  const closed = next<Error | undefined>(conn, 'close')
  socket.end()
  t.is(await closed, undefined)
  t.true(conn.closed)
  await t.throwsAsync(conn.send(bytes('late')), { name: 'PeerUnreachableError' })

  const peer2 = await handPeer(t)
  const conn2 = await transport.dial(peer2.address)
  const { socket: socket2 } = await peer2.accepted
  const events: string[] = []
  conn2.on('error', (err) => events.push(`error ${err.name}`))
  const closed2 = next<Error | undefined>(conn2, 'close')
  socket2.resetAndDestroy()
  const err = await closed2
  t.is(err?.name, 'PeerUnreachableError')
  t.deepEqual(events, ['error PeerUnreachableError'])
})

test('close() delivers what was accepted before it, then closes both sides', async (t) => {
  const { transport: a } = makeTransport(t)
  const { transport: b } = makeTransport(t)
  const { listener, address } = await listen(b)
  const { outbound, inbound } = await pair(a, listener, address)
  const got = collect(inbound, 3)
  const remoteClosed = next<Error | undefined>(inbound, 'close')
  const big = randomBytes(2 * 1024 * 1024)
  await outbound.send(bytes('one'))
  await outbound.send(big)
  await outbound.send(bytes('three'))
  await within(outbound.close(), 'close')
  const [one, two, three] = await got
  t.is(text(one as Uint8Array), 'one')
  t.true(Buffer.from(two as Uint8Array).equals(big))
  t.is(text(three as Uint8Array), 'three')
  t.is(await remoteClosed, undefined)
})

test('small messages sent together share one record; a large one is sealed on its own', async (t) => {
  const peer = await handPeer(t)
  const { transport } = makeTransport(t)
  const conn = await transport.dial(peer.address)
  const { socket, result } = await peer.accepted
  const records: Uint8Array[] = []
  const decoder = new FrameReader(2 * 1024 * 1024)
  socket.on('data', (chunk: Buffer) =>
    decoder.push(chunk, (body) => records.push(result.receiver.open(body) as Uint8Array) > 0),
  )
  socket.resume()
  const small = Array.from({ length: 100 }, (_, i) => conn.send(bytes(`message ${i}`)))
  await within(Promise.all(small), 'small sends')
  await within(
    (async () => {
      while (records.length < 1) await pause(5)
    })(),
    'a record',
  )
  // The first record holds the whole burst (a burst split over records would leave some out of it).
  const messages = new FrameReader(1024)
  const got: string[] = []
  messages.push(records[0] as Uint8Array, (m) => got.push(text(m)) > 0)
  t.deepEqual(
    got,
    Array.from({ length: 100 }, (_, i) => `message ${i}`),
  )
  await conn.send(new Uint8Array(100_000))
  await within(
    (async () => {
      while (records.length < 2) await pause(5)
    })(),
    'the large record',
  )
  t.is(records[1]?.length, 100_004, 'header and message, alone in their record')
})
