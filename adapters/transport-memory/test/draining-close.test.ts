import { TestClock } from '@peerkit/compliance'
import { type Connection, defineProtocol, Identity, type Network } from '@peerkit/core'
import { decode, type Envelope, encode, IDENTIFY, Kind } from '@peerkit/core/wire'
import test, { type ExecutionContext } from 'ava'
import { z } from 'zod'
import { MemoryNetwork } from '../src/index.js'
import { next, startNetwork } from './helpers/networks.js'
import { makeTransport } from './helpers/transports.js'

// A node at its connection limit closes an idle connection with a draining close (GOAWAY): requests the
// remote had already sent and the node never read are known unprocessed and re-sent once elsewhere.

const NOTE = defineProtocol('test/note/1', z.object({ n: z.number().int() }), z.null())

/**
 * A server at maxConnections 2 that records the NOTE requests it handles, and three clients named
 * `${prefix}-c1` …; c1's frames to the server take 50 ms, every other frame 1 ms, so c1's request can
 * still be on the wire when c3's connection makes the server prune c1's (the least recently used).
 */
async function pruningBed(t: ExecutionContext, prefix: string) {
  const clock = new TestClock()
  const hub = new MemoryNetwork({
    latency: (from: string, to: string) => (from === `${prefix}-c1` && to === `${prefix}-server` ? 50 : 1),
  })
  const server = await startNetwork(hub, { name: `${prefix}-server`, clock, network: { maxConnections: 2 } })
  const seen: number[] = []
  server.handle(NOTE, (req) => {
    seen.push(req.n)
    return null
  })
  const [c1, c2, c3] = await Promise.all(
    [`${prefix}-c1`, `${prefix}-c2`, `${prefix}-c3`].map((name) => startNetwork(hub, { name, clock })),
  )
  t.teardown(() => Promise.all([server, c1, c2, c3].map((n) => n?.stop())))
  if (!c1 || !c2 || !c3) throw new Error('three clients')
  /** c1's request 10, sent while c3 connects: how it ended. */
  const askWhilePruned = async () => {
    const outcome = c1.request(server.self(), NOTE, { n: 10 }).then(
      () => 'answered',
      (err: Error) => `${err.name}: ${err.message}`,
    )
    await clock.settle(c3.connect(server.self()))
    return clock.settle(outcome)
  }
  return { clock, server, seen, c1, c2, askWhilePruned }
}

test('a request on the wire when the remote prunes its connection is answered over a new connection, once', async (t) => {
  const { clock, server, seen, c1, c2, askWhilePruned } = await pruningBed(t, 'ga')
  t.is(await clock.settle(c1.request(server.self(), NOTE, { n: 1 })), null)
  await clock.advance(100)
  t.is(await clock.settle(c2.request(server.self(), NOTE, { n: 2 })), null)
  await clock.advance(100)
  t.is(await askWhilePruned(), 'answered', "c1's request on the wire is not lost with its connection")
  t.deepEqual(seen, [1, 2, 10], 'each request ran once at the server')
  t.is(c1.stats()[NOTE.name]?.sent, 3, 'the request unread at the pruned connection was sent again')
  t.is(server.stats()[NOTE.name]?.received, 3, 'the server read it once')
})

test('a request left unread is sent again over a new connection, not over another one the remote is draining too', async (t) => {
  const { clock, server, seen, c1, c2, askWhilePruned } = await pruningBed(t, 'gb')
  // Two connections between c1 and the server, one dialed each way: pruning c1 drains both.
  t.is(await clock.settle(c1.request(server.self(), NOTE, { n: 1 })), null)
  await clock.settle(server.dialAddress('memory://gb-c1'))
  await clock.advance(100)
  t.is(await clock.settle(c2.request(server.self(), NOTE, { n: 2 })), null)
  await clock.advance(100)
  t.is(await askWhilePruned(), 'answered')
  t.deepEqual(seen, [1, 2, 10], 'each request ran once at the server')
})

test('a peer whose identify tells no multiplexer version (before the draining close) is closed at once, without a GOAWAY', async (t) => {
  const clock = new TestClock()
  const hub = new MemoryNetwork({ latency: 1 })
  const server = await startNetwork(hub, { clock, network: { maxConnections: 1 } })
  const other = await startNetwork(hub, { clock })
  t.teardown(() => Promise.all([server.stop(), other.stop()]))
  const old = await attacker(hub, clock, server, false)
  await clock.advance(10)
  const closed = new Promise<void>((resolve) => old.conn.once('close', () => resolve()))
  await clock.settle(other.connect(server.self()))
  await clock.settle(closed)
  t.deepEqual(
    old.got.map((e) => e[0]),
    [Kind.Message],
    "only the server's identify arrived: no envelope of a kind an older peer would refuse",
  )
})

// Attacks on the draining close: a raw connection speaking the wire by hand against a real Network.

/** A raw connection to `victim` whose identify tells mux 2 (the draining close), or nothing as an older peer; records what the victim sends. */
async function attacker(hub: MemoryNetwork, clock: TestClock, victim: Network, announce = true) {
  const identity = Identity.generate()
  const transport = makeTransport(hub, { clock, identity })
  const conn = await clock.settle(transport.dial(victim.addresses()[0] as string))
  const got: Envelope[] = []
  conn.on('message', (data) => got.push(decode(data) as Envelope))
  const send = (envelope: unknown) => conn.send(encode(envelope))
  await clock.settle(
    send([Kind.Message, IDENTIFY.name, announce ? { addresses: [], mux: 2 } : { addresses: [] }]),
  )
  await clock.until(() => victim.isConnected(identity.peerId))
  return { conn, got, send, id: identity.peerId }
}

/**
 * Frames the victim's end of its connection from `peer` reads (counted on the victim's Connection). The
 * Network keeps a peer's one Mux itself, several in a list.
 */
function framesRead(victim: Network, peer: string): { n: number; conn: Connection } {
  const [mux] = [
    (victim as unknown as { muxes: Map<string, unknown> }).muxes.get(peer) ?? [],
  ].flat() as Array<{ connection: Connection }>
  const counter = { n: 0, conn: mux?.connection as Connection }
  counter.conn.on('message', () => counter.n++)
  return counter
}

async function victimAndHonest(t: { teardown(fn: () => unknown): void }, network = {}) {
  const clock = new TestClock()
  const hub = new MemoryNetwork({ latency: 1 })
  const victim = await startNetwork(hub, { clock, network })
  const honest = await startNetwork(hub, { clock })
  t.teardown(() => Promise.all([victim.stop(), honest.stop()]))
  const seen: number[] = []
  victim.handle(NOTE, (req) => {
    seen.push(req.n)
    return null
  })
  return { clock, hub, victim, honest, seen }
}

test('attack: a GOAWAY flood costs the victim one or two frames read: it closes when done, or at the second GOAWAY (ProtocolError)', async (t) => {
  const { clock, hub, victim, honest } = await victimAndHonest(t)
  for (const pending of [false, true]) {
    const a = await attacker(hub, clock, victim)
    const read = framesRead(victim, a.id)
    // With a request of the victim pending (read by the attacker), the connection stays open for its answer.
    const asked = pending
      ? victim.request(a.id, NOTE, { n: 1 }, { timeout: 5000 }).then(
          () => 'answered',
          (err: Error) => err.name,
        )
      : undefined
    if (asked) await clock.until(() => a.got.some((e) => e[0] === Kind.Request), 1000, 'the request')
    const limit = pending ? next<Error>(victim, 'connection:limit') : undefined
    for (let i = 0; i < 10_000; i++) void a.send([Kind.GoAway, pending ? 1 : 0]).catch(() => {}) // refused once closed: the point
    await clock.advance(10)
    t.true(a.conn.closed, 'the attacker is disconnected')
    t.is(read.n, pending ? 2 : 1, 'frames of the 10,000 the victim read')
    if (limit) {
      const err = await limit
      t.is(err.name, 'ProtocolError')
      t.regex(err.message, /sent a second GOAWAY/)
      t.is(
        await clock.settle(asked as Promise<string>),
        'PeerUnreachableError',
        'read by the attacker: not re-sent',
      )
      t.is(a.got.filter((e) => e[0] === Kind.Request).length, 1)
    }
  }
  t.is(victim.limitErrors, 1)
  t.is(await clock.settle(honest.request(victim.self(), NOTE, { n: 1 })), null)
})

test('attack: a GOAWAY naming a request never sent, or below one answered, is a ProtocolError; the victim re-sends nothing', async (t) => {
  const { clock, hub, victim } = await victimAndHonest(t)
  for (const [name, answerFirst, lastId, why] of [
    ['never sent', false, 999, /naming request 999 as read, which was never sent \(the last sent was 1\)/],
    ['below answered', true, 0, /naming request 0 as the last read, but request 1 was answered/],
  ] as const) {
    const a = await attacker(hub, clock, victim)
    const asked = victim.request(a.id, NOTE, { n: 1 }, { timeout: 5000 })
    const outcome = asked.then(
      () => 'answered',
      (err: Error) => err.name,
    )
    await clock.until(() => a.got.some((e) => e[0] === Kind.Request), 1000, `${name}: the victim's request`)
    if (answerFirst) {
      await clock.settle(a.send([Kind.Response, 1, null]))
      t.is(await clock.settle(outcome), 'answered')
      // A second request, to have one pending when the lie arrives.
      void victim.request(a.id, NOTE, { n: 2 }, { timeout: 5000 }).catch(() => {}) // fails with the connection: asserted by the close below
    }
    const limit = next<Error>(victim, 'connection:limit')
    await clock.settle(a.send([Kind.GoAway, lastId]))
    await clock.advance(5)
    const err = await limit
    t.is(err.name, 'ProtocolError', name)
    t.regex(err.message, why)
    if (!answerFirst)
      t.is(await clock.settle(outcome), 'PeerUnreachableError', 'failed at once, not at its timeout')
    t.true(clock.now() < 5000)
    t.is(
      a.got.filter((e) => e[0] === Kind.Request).length,
      answerFirst ? 2 : 1,
      'nothing was re-sent to the liar',
    )
  }
})

test("attack: requests or messages after the sender's own GOAWAY close the connection; none is handled", async (t) => {
  const { clock, hub, victim, honest, seen } = await victimAndHonest(t)
  for (const frame of [
    [Kind.Request, 1, NOTE.name, { n: 66 }],
    [Kind.Message, NOTE.name, { n: 67 }],
  ]) {
    const a = await attacker(hub, clock, victim)
    // A request of the victim the attacker read keeps the connection open after the GOAWAY.
    void victim.request(a.id, NOTE, { n: 1 }, { timeout: 5000 }).catch(() => {}) // fails with the connection, asserted below
    await clock.until(() => a.got.some((e) => e[0] === Kind.Request), 1000, 'the request')
    const limit = next<Error>(victim, 'connection:limit')
    await clock.settle(a.send([Kind.GoAway, 1]))
    void a.send(frame).catch(() => {}) // the connection may close first: either way nothing is handled
    await clock.advance(5)
    const err = await limit
    t.is(err.name, 'ProtocolError')
    t.regex(err.message, /after its own GOAWAY/)
    t.true(a.conn.closed)
  }
  t.deepEqual(seen, [], 'the handler never ran for them')
  t.is(await clock.settle(honest.request(victim.self(), NOTE, { n: 1 })), null)
})

test('attack: a peer that ignores the GOAWAY of a node pruning it is closed after maxPendingRequests unread requests, or at drainTimeout', async (t) => {
  for (const flood of [true, false]) {
    const { clock, hub, victim, honest, seen } = await victimAndHonest(t, {
      maxConnections: 1,
      maxPendingRequests: 4,
      drainTimeout: 2000,
    })
    const a = await attacker(hub, clock, victim)
    await clock.advance(10)
    // A second peer arrives: the victim prunes the attacker's idle connection with a GOAWAY.
    await clock.settle(honest.connect(victim.self()))
    await clock.until(() => a.got.some((e) => e[0] === Kind.GoAway), 1000, 'the GOAWAY')
    t.deepEqual(
      a.got.find((e) => e[0] === Kind.GoAway),
      [Kind.GoAway, 0],
    )
    const start = clock.now()
    const closed = new Promise<void>((resolve) => a.conn.once('close', () => resolve()))
    if (flood) {
      const limit = next<Error>(victim, 'connection:limit')
      for (let id = 1; id <= 100; id++) void a.send([Kind.Request, id, NOTE.name, { n: id }]).catch(() => {}) // refused once closed
      await clock.advance(5)
      t.regex((await limit).message, /more than 4 requests after this side's GOAWAY/)
    } else await clock.advance(2000)
    await clock.settle(closed)
    t.true(clock.now() - start <= 2000, `closed ${clock.now() - start} ms after the GOAWAY`)
    t.deepEqual(seen, [], 'no request sent after the GOAWAY was handled')
    t.is(await clock.settle(honest.request(victim.self(), NOTE, { n: 1 })), null)
  }
})
