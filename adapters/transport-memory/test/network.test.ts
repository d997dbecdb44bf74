import { TestClock } from '@peerkit/compliance'
import { defineProtocol, type Network, type PeerRef, RemoteError } from '@peerkit/core'
import { encode } from '@peerkit/core/wire'
import test from 'ava'
import { z } from 'zod'
import { MemoryNetwork, rawSend } from '../src/index.js'
import { next, startNetwork } from './helpers/networks.js'

// Core's Network (request/response, one-way messages, identify) over the memory transport.

const ECHO = defineProtocol(
  'test/echo/1',
  z.object({ text: z.string().max(100) }),
  z.object({ text: z.string(), from: z.string() }),
)
const NOTE = defineProtocol('test/note/1', z.object({ n: z.number().int() }), z.null())
const SLOW = defineProtocol('test/slow/1', z.object({}), z.null())
const LYING = defineProtocol('test/lying/1', z.object({}), z.object({ ok: z.literal(true) }))

async function pair(t: { teardown(fn: () => unknown): void }, hub = new MemoryNetwork()) {
  const a = await startNetwork(hub)
  const b = await startNetwork(hub)
  t.teardown(() => Promise.all([a.stop(), b.stop()]))
  return { a, b, hub }
}

function ref(n: Network): PeerRef {
  return n.self()
}

test('request/response with a checked schema, both ways', async (t) => {
  const { a, b } = await pair(t)
  a.handle(ECHO, (req, ctx) => ({ text: req.text.toUpperCase(), from: ctx.peer.id }))
  b.handle(ECHO, (req) => ({ text: `${req.text}!`, from: 'b' }))
  t.deepEqual(await b.request(ref(a), ECHO, { text: 'hello' }), { text: 'HELLO', from: b.peerId })
  t.deepEqual(await a.request(b.peerId, ECHO, { text: 'hi' }), { text: 'hi!', from: 'b' })
  t.true(a.isConnected(b.peerId))
  t.is(a.peers().length, 1, 'one connection per peer, reused')
  t.is(b.stats()[ECHO.name]?.sent, 1)
  t.is(a.stats()[ECHO.name]?.received, 1)
})

test('one-way messages reach the handler with the sender as context', async (t) => {
  const { a, b } = await pair(t)
  const got: Array<{ n: number; from: string }> = []
  const all = new Promise<void>((resolve) => {
    a.handle(NOTE, (msg, ctx) => {
      got.push({ n: msg.n, from: ctx.peer.id })
      if (got.length === 3) resolve()
    })
  })
  for (const n of [1, 2, 3]) await b.send(ref(a), NOTE, { n })
  await all
  t.deepEqual(
    got,
    [1, 2, 3].map((n) => ({ n, from: b.peerId })),
  )
})

test('a request whose body fails the schema is refused and the connection closed with ProtocolError', async (t) => {
  const { a, b } = await pair(t)
  let called = 0
  a.handle(ECHO, () => {
    called++
    return { text: '', from: '' }
  })
  const inbound = next<{ connection: { once(e: never, f: never): unknown } }>(a, 'peer:connect')
  const conn = await b.connect(ref(a))
  await inbound
  const closed = next<Error | undefined>(conn as never, 'close')
  const err = await t.throwsAsync(b.request(ref(a), ECHO, { text: 42 } as unknown as { text: string }))
  t.true(err?.name === 'ProtocolError' || err?.name === 'PeerUnreachableError', err?.name)
  await closed
  t.is(called, 0, 'the handler never saw the bad body')
  t.false(b.isConnected(a.peerId))
  // The peers go on: a new connection works.
  t.deepEqual(await b.request(ref(a), ECHO, { text: 'ok' }), { text: '', from: '' })
})

test('the receiving side closes with ProtocolError on a bad request body', async (t) => {
  const { a, b } = await pair(t)
  a.handle(ECHO, () => ({ text: '', from: '' }))
  const connected = next<PeerRef>(a, 'peer:connect')
  await b.connect(ref(a))
  await connected
  const [inboundMux] = [
    (a as unknown as { muxes: Map<string, unknown> }).muxes.get(b.peerId) ?? [],
  ].flat() as Array<{ connection: never }>
  t.truthy(inboundMux)
  const closed = next<Error | undefined>(inboundMux?.connection as never, 'close')
  await t.throwsAsync(b.request(ref(a), ECHO, { text: 'x'.repeat(101) }))
  t.is((await closed)?.name, 'ProtocolError')
})

test('an unknown protocol is answered with UnsupportedProtocolError', async (t) => {
  const { a, b } = await pair(t)
  const err = await t.throwsAsync(b.request(ref(a), ECHO, { text: 'anyone?' }))
  t.true(err instanceof RemoteError)
  t.is(err?.name, 'UnsupportedProtocolError')
  t.true(b.isConnected(a.peerId), 'the connection stays open')
})

test('a request with no answer in time fails with TimeoutError, at its timeout on the clock', async (t) => {
  const clock = new TestClock()
  const hub = new MemoryNetwork()
  const a = await startNetwork(hub, { clock })
  const b = await startNetwork(hub, { clock })
  t.teardown(() => Promise.all([a.stop(), b.stop()]))
  a.handle(SLOW, () => new Promise<null>(() => {}))
  await clock.settle(b.connect(ref(a)))
  let outcome: string | undefined
  const asked = b.request(ref(a), SLOW, {}, { timeout: 100 }).then(
    () => 'answered',
    (err: Error) => err.name,
  )
  void asked.then((o) => {
    outcome = o
  })
  await clock.advance(99)
  t.is(outcome, undefined, 'still waiting 99 virtual ms in')
  await clock.advance(1)
  t.is(await asked, 'TimeoutError')
})

test('a request over a slow link times out on the configured requestTimeout', async (t) => {
  const hub = new MemoryNetwork({ latency: 150 })
  const a = await startNetwork(hub)
  const b = await startNetwork(hub, { network: { requestTimeout: 200 } })
  t.teardown(() => Promise.all([a.stop(), b.stop()]))
  a.handle(NOTE, () => null)
  await b.connect(ref(a))
  await t.throwsAsync(b.request(ref(a), NOTE, { n: 1 }), { name: 'TimeoutError' })
})

test('a response that fails its schema rejects with ProtocolError', async (t) => {
  const { a, b } = await pair(t)
  a.handle(LYING, () => ({ ok: false }) as unknown as { ok: true })
  await t.throwsAsync(b.request(ref(a), LYING, {}), { name: 'ProtocolError' })
})

test('a handler error travels by name; anything else as InternalError', async (t) => {
  const { a, b } = await pair(t)
  const { NotFoundError } = await import('@peerkit/core')
  a.handle(ECHO, (req) => {
    if (req.text === 'missing') throw new NotFoundError('no such thing')
    throw new Error('secret internals')
  })
  const notFound = await t.throwsAsync(b.request(ref(a), ECHO, { text: 'missing' }))
  t.is(notFound?.name, 'NotFoundError')
  t.is(notFound?.message, 'no such thing')
  const internal = await t.throwsAsync(b.request(ref(a), ECHO, { text: 'boom' }))
  t.is(internal?.name, 'InternalError')
  t.notRegex(internal?.message ?? '', /secret/)
})

test('identify: each side learns the addresses the other listens on', async (t) => {
  const hub = new MemoryNetwork()
  const a = await startNetwork(hub, { name: 'identify-a' })
  const b = await startNetwork(hub, { name: 'identify-b' })
  t.teardown(() => Promise.all([a.stop(), b.stop()]))
  const aLearns = next<PeerRef>(a, 'peer:identify')
  const bLearns = next<PeerRef>(b, 'peer:identify')
  const answered = await b.dialAddress('memory://identify-a')
  t.is(answered.id, a.peerId)
  t.deepEqual(await aLearns, { id: b.peerId, addresses: ['memory://identify-b'] })
  t.deepEqual(await bLearns, { id: a.peerId, addresses: ['memory://identify-a'] })
  t.deepEqual(a.addressesOf(b.peerId), ['memory://identify-b'])
  // A may now reach b by id alone.
  b.handle(NOTE, () => null)
  t.is(await a.request(b.peerId, NOTE, { n: 1 }), null)
})

test('a malformed frame (not msgpack) closes the connection with ProtocolError', async (t) => {
  const { a, b } = await pair(t)
  a.handle(ECHO, () => ({ text: 'fine', from: 'a' }))
  const connected = next<PeerRef>(a, 'peer:connect')
  const conn = await b.connect(ref(a))
  await connected
  const [inboundMux] = [
    (a as unknown as { muxes: Map<string, unknown> }).muxes.get(b.peerId) ?? [],
  ].flat() as Array<{ connection: never }>
  const closed = next<Error | undefined>(inboundMux?.connection as never, 'close')
  const closedHere = next<Error | undefined>(conn as never, 'close')
  rawSend(conn, new Uint8Array([0xc1, 0xc1, 0xc1]))
  t.is((await closed)?.name, 'ProtocolError')
  await closedHere
  // A well-formed msgpack value that is not an envelope is just as fatal.
  const reconnected = next<PeerRef>(a, 'peer:connect')
  const again = await b.connect(ref(a))
  await reconnected
  const [second] = [
    (a as unknown as { muxes: Map<string, unknown> }).muxes.get(b.peerId) ?? [],
  ].flat() as Array<{ connection: never }>
  const closedAgain = next<Error | undefined>(second?.connection as never, 'close')
  rawSend(again, encode({ hello: 'world' }))
  t.is((await closedAgain)?.name, 'ProtocolError')
  t.deepEqual(await b.request(ref(a), ECHO, { text: 'x' }), { text: 'fine', from: 'a' })
})

test('peer:connect and peer:disconnect follow the connection', async (t) => {
  const { a, b } = await pair(t)
  const connected = next<PeerRef>(a, 'peer:connect')
  await b.connect(ref(a))
  t.is((await connected).id, b.peerId)
  const gone = next<PeerRef>(a, 'peer:disconnect')
  await b.hangUp(a.peerId)
  t.is((await gone).id, b.peerId)
  t.false(a.isConnected(b.peerId))
})

test('dialing an unknown peer or a killed one fails with PeerUnreachableError', async (t) => {
  const { a, b, hub } = await pair(t)
  await t.throwsAsync(b.request(a.peerId, NOTE, { n: 1 }), { name: 'PeerUnreachableError' })
  const name = (a.addresses()[0] ?? '').slice('memory://'.length)
  hub.kill(name)
  await t.throwsAsync(b.request(ref(a), NOTE, { n: 1 }), { name: 'PeerUnreachableError' })
})

test('a dial that outlasts dialTimeout is abandoned: no connection is left behind', async (t) => {
  // On a virtual clock: the 40 ms links and the 50 ms dial timeout, then 300 ms for a late connection to show.
  const clock = new TestClock()
  const hub = new MemoryNetwork({ latency: 40 })
  const a = await startNetwork(hub, { clock })
  const b = await startNetwork(hub, { network: { dialTimeout: 50 }, clock })
  t.teardown(() => Promise.all([a.stop(), b.stop()]))
  await t.throwsAsync(clock.settle(b.dialAddress(a.addresses()[0] as string)), { name: 'TimeoutError' })
  await t.throwsAsync(clock.settle(b.request(ref(a), NOTE, { n: 1 })), {
    name: 'PeerUnreachableError',
    message: /timed out/,
  })
  await clock.advance(300)
  t.deepEqual(a.peers(), [], 'the listener never got a connection')
  t.deepEqual(b.peers(), [])
})

test('maxConnections closes the least recently used idle connection; protected peers are neither counted nor closed', async (t) => {
  const hub = new MemoryNetwork()
  const server = await startNetwork(hub, { network: { maxConnections: 2 } })
  server.handle(NOTE, () => null)
  const clients = await Promise.all([1, 2, 3, 4, 5].map(() => startNetwork(hub)))
  t.teardown(() => Promise.all([server, ...clients].map((n) => n.stop())))
  const [p1, p2, c1, c2, c3] = clients as [Network, Network, Network, Network, Network]
  for (const p of [p1, p2]) {
    await p.request(ref(server), NOTE, { n: 1 })
    server.protect(p.peerId)
  }
  // Two protected peers already fill the limit: unprotected newcomers still get in.
  await c1.request(ref(server), NOTE, { n: 1 })
  await c2.request(ref(server), NOTE, { n: 2 })
  t.true(server.isConnected(c1.peerId) && server.isConnected(c2.peerId))
  const dropped = next<PeerRef>(server, 'peer:disconnect')
  await c3.request(ref(server), NOTE, { n: 3 })
  t.is((await dropped).id, c1.peerId, 'the least recently used unprotected connection goes')
  t.deepEqual(
    [p1, p2, c1, c2, c3].map((c) => server.isConnected(c.peerId)),
    [true, true, false, true, true],
  )
})

test('maxConnections never closes a connection on which the node is still answering a request', async (t) => {
  const hub = new MemoryNetwork()
  const server = await startNetwork(hub, { network: { maxConnections: 2 } })
  server.handle(NOTE, () => null)
  let release!: () => void
  const released = new Promise<void>((resolve) => {
    release = resolve
  })
  let handled!: () => void
  const inHandler = new Promise<void>((resolve) => {
    handled = resolve
  })
  server.handle(SLOW, async () => {
    handled()
    await released
    return null
  })
  const clients = await Promise.all([1, 2, 3].map(() => startNetwork(hub)))
  t.teardown(() => Promise.all([server, ...clients].map((n) => n.stop())))
  const [c1, c2, c3] = clients as [Network, Network, Network]
  // c1's request is being answered (the server has nothing pending towards c1): its connection is the
  // least recently used when the third peer arrives, but busy.
  const slow = c1.request(ref(server), SLOW, {})
  await inHandler
  await c2.request(ref(server), NOTE, { n: 2 })
  const dropped = next<PeerRef>(server, 'peer:disconnect')
  await c3.request(ref(server), NOTE, { n: 3 })
  t.is((await dropped).id, c2.peerId, 'the idle connection goes, not the one with a request being answered')
  release()
  t.is(await slow, null, "c1's request is answered")
  t.true(server.isConnected(c1.peerId))
})

test('maxConnections: newcomers within the room the last count left are not counted, and a peer unprotected takes a place of it', async (t) => {
  const hub = new MemoryNetwork()
  const server = await startNetwork(hub, { network: { maxConnections: 4 } })
  server.handle(NOTE, () => null)
  const clients = await Promise.all(Array.from({ length: 6 }, () => startNetwork(hub)))
  t.teardown(() => Promise.all([server, ...clients].map((n) => n.stop())))
  const [p1, p2, c1, c2, c3, c4] = clients as [Network, Network, Network, Network, Network, Network]
  const open = () => clients.map((c) => server.isConnected(c.peerId))
  for (const p of [p1, p2]) {
    await p.request(ref(server), NOTE, { n: 0 })
    server.protect(p.peerId)
  }
  // Five connections, two of them protected: three counted, room for one more without a count.
  for (const [i, c] of [c1, c2, c3].entries()) await c.request(ref(server), NOTE, { n: i })
  t.deepEqual(open(), [true, true, true, true, true, false], 'three unprotected peers: within the limit')
  // p1 unprotected is a fourth counted peer and takes that room: the next newcomer is a fifth, and one goes.
  server.protect(p1.peerId, false)
  await c4.request(ref(server), NOTE, { n: 3 })
  const unprotected = [p1, c1, c2, c3, c4].filter((c) => server.isConnected(c.peerId)).length
  t.is(unprotected, 4, `${unprotected} unprotected peers open against maxConnections 4`)
  t.false(server.isConnected(p1.peerId), 'the least recently used, p1, is closed')
  t.true(server.isConnected(p2.peerId), 'the protected peer stays')
})

test('maxConnections trims to an eighth below the limit, least recently used first', async (t) => {
  const hub = new MemoryNetwork()
  const server = await startNetwork(hub, { network: { maxConnections: 8 } })
  server.handle(NOTE, () => null)
  const clients = await Promise.all(Array.from({ length: 9 }, () => startNetwork(hub)))
  t.teardown(() => Promise.all([server, ...clients].map((n) => n.stop())))
  for (const [i, c] of clients.slice(0, 8).entries()) await c.request(ref(server), NOTE, { n: i })
  t.is(server.peers().length, 8, 'at the limit nothing is closed')
  const gone: string[] = []
  const twoGone = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${gone.length} of 2 disconnects within 5 s`)), 5000)
    server.on('peer:disconnect', (p) => {
      gone.push(p.id)
      if (gone.length < 2) return
      clearTimeout(timer)
      resolve()
    })
  })
  await (clients[8] as Network).request(ref(server), NOTE, { n: 8 })
  await twoGone
  t.deepEqual(
    gone.sort(),
    clients
      .slice(0, 2)
      .map((c) => c.peerId)
      .sort(),
    'the two least recently used go, leaving 7 = 8 - floor(8/8)',
  )
  t.deepEqual(
    clients.map((c) => server.isConnected(c.peerId)),
    [false, false, true, true, true, true, true, true, true],
  )
})
