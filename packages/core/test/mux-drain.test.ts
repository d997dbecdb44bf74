import test from 'ava'
import { z } from 'zod'
import { defineProtocol } from '../src/index.js'
import { checkEnvelope, decode, Kind, Mux, UnreadRequestError } from '../src/wire/index.js'
import { ManualClock } from './helpers/manual-clock.js'
import { connectionPair, StubConnection } from './helpers/pair.js'

// The draining close (GOAWAY) between two Muxes that both speak it.

const ECHO = defineProtocol('peerkit/test-echo/1', z.object({ n: z.number() }), z.object({ n: z.number() }))

const settle = () => new Promise((resolve) => setImmediate(resolve))

/** Two Muxes on a stub pair; `b` answers when a test releases it and records what it read. */
function pair(drainTimeout = 1000) {
  const clock = new ManualClock()
  const [a, b] = connectionPair('peer-b', 'peer-a')
  const limits = {
    maxPendingRequests: 4,
    maxSendQueue: 1 << 20,
    sendStallTimeout: 5000,
    maxMessageItems: 1000,
    drainTimeout,
  }
  const ma = new Mux(a, clock, undefined, limits)
  const mb = new Mux(b, clock, undefined, limits)
  ma.remoteMux = 2
  mb.remoteMux = 2
  const read: number[] = []
  const held: (() => void)[] = []
  mb.on('request', (_p, body, reply) => {
    const n = (body as { n: number }).n
    read.push(n)
    held.push(() => reply.respond({ n }))
  })
  return { clock, a, b, ma, mb, read, held }
}

/** Records the envelopes one end sends. */
function sentBy(conn: StubConnection): unknown[] {
  const out: unknown[] = []
  const send = conn.send.bind(conn)
  conn.send = (data: Uint8Array) => {
    out.push(decode(data))
    return send(data)
  }
  return out
}

test('GOAWAY: what was read is answered, what was not is rejected as unread, and the remote closes when done', async (t) => {
  const { a, b, ma, mb, read, held } = pair()
  const frames = sentBy(b)
  const first = ma.request(ECHO, { n: 1 }, { timeout: 5000 })
  await settle()
  t.deepEqual(read, [1])
  // b closes while a's second request is still on the wire: b has read request 1 only.
  mb.drain()
  const second = ma.request(ECHO, { n: 2 }, { timeout: 5000 })
  t.true(mb.goingAway)
  await settle()
  t.deepEqual(frames.at(-1), [Kind.GoAway, 1], 'GOAWAY names the last request read')
  t.deepEqual(read, [1], 'request 2 arrived after the GOAWAY and was not read')
  const err = await t.throwsAsync(second)
  t.true(err instanceof UnreadRequestError)
  t.is(err?.name, 'PeerUnreachableError')
  t.true(ma.goingAway)
  t.false(a.closed, 'a waits for the answer to the request b read')
  held.shift()?.()
  t.deepEqual(await first, { n: 1 })
  await settle()
  t.true(a.closed && b.closed, 'a closes once nothing is pending either way')
  await t.throwsAsync(ma.request(ECHO, { n: 3 }), { name: 'PeerUnreachableError' })
})

test('a connection going away takes no new request or message: nothing is sent, the error says unread', async (t) => {
  const { a, ma, mb, held } = pair()
  const first = ma.request(ECHO, { n: 1 }, { timeout: 5000 })
  await settle()
  const frames = sentBy(a)
  mb.drain()
  await settle()
  t.true(ma.goingAway)
  t.false(a.closed, 'open for the answer to request 1')
  const err = await t.throwsAsync(ma.request(ECHO, { n: 1 }))
  t.true(err instanceof UnreadRequestError)
  await t.throwsAsync(ma.message(ECHO, { n: 1 }), { instanceOf: UnreadRequestError })
  t.false(
    frames.some((f) => (f as unknown[])[0] === Kind.Request || (f as unknown[])[0] === Kind.Message),
    'no request or message went out',
  )
  held.shift()?.()
  t.deepEqual(await first, { n: 1 })
})

test('a remote that never closes after GOAWAY is closed at drainTimeout', async (t) => {
  const clock = new ManualClock()
  const [a, b] = connectionPair('peer-b', 'peer-a')
  void a // the remote end: nobody reads it, nobody closes it
  const mb = new Mux(b, clock, undefined, {
    maxPendingRequests: 4,
    maxSendQueue: 1 << 20,
    sendStallTimeout: 5000,
    maxMessageItems: 1000,
    drainTimeout: 300,
  })
  mb.remoteMux = 2
  a.removeAllListeners('message') // a speaks no mux: it never answers the GOAWAY
  mb.drain()
  await clock.advance(299)
  t.false(b.closed)
  await clock.advance(1)
  t.true(b.closed)
})

test('to a remote that told an older multiplexer (1), drain closes at once; to one not heard from yet, it sends GOAWAY', async (t) => {
  for (const told of [1, undefined]) {
    const clock = new ManualClock()
    const [a, b] = connectionPair('peer-b', 'peer-a')
    const frames = sentBy(b)
    new Mux(a, clock)
    const mb = new Mux(b, clock)
    mb.remoteMux = told
    mb.drain()
    await settle()
    if (told === 1) {
      t.true(b.closed && a.closed)
      t.deepEqual(frames, [], 'no GOAWAY to a peer that would close on the unknown kind')
    } else {
      t.deepEqual(
        frames,
        [[Kind.GoAway, 0]],
        'its identify may be on the wire: most likely a peer of this version',
      )
      t.true(a.closed && b.closed, 'the remote closed, nothing pending')
    }
  }
})

test('a GOAWAY envelope is [4, id] with id from 0 to 2^32', (t) => {
  t.deepEqual(checkEnvelope([Kind.GoAway, 0]), [Kind.GoAway, 0])
  t.deepEqual(checkEnvelope([Kind.GoAway, 2 ** 32]), [Kind.GoAway, 2 ** 32])
  for (const bad of [
    [Kind.GoAway],
    [Kind.GoAway, -1],
    [Kind.GoAway, 1.5],
    [Kind.GoAway, 2 ** 32 + 1],
    [Kind.GoAway, 1, 2],
  ])
    t.throws(() => checkEnvelope(bad), { name: 'ProtocolError' }, JSON.stringify(bad))
})
