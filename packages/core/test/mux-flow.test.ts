import test from 'ava'
import { z } from 'zod'
import { defineProtocol, PeerUnreachableError } from '../src/index.js'
import { encode, Kind, Mux, type MuxLimits } from '../src/wire/index.js'
import { ManualClock } from './helpers/manual-clock.js'
import { StubConnection } from './helpers/pair.js'

const BLOB = defineProtocol('peerkit/test-blob/1', z.object({ n: z.number() }), z.instanceof(Uint8Array))

/** A connection whose remote never reads: sends are never accepted. It records pause and resume. */
class UnreadConnection extends StubConnection {
  paused = 0
  resumed = 0
  private release: (() => void)[] = []
  constructor(remotePeer: string, direction: 'inbound' | 'outbound') {
    super(remotePeer, direction)
    this.other = new StubConnection('victim', 'outbound')
  }
  override async send(): Promise<void> {
    if (this.closed) throw new PeerUnreachableError('closed')
    await new Promise<void>((resolve) => this.release.push(resolve))
  }
  /** The remote reads again: every queued send is taken. */
  drainAll(): void {
    for (const r of this.release.splice(0)) r()
  }
  pauseReading(): void {
    this.paused++
  }
  resumeReading(): void {
    this.resumed++
  }
}

const LIMITS: MuxLimits = {
  maxPendingRequests: 1000,
  maxSendQueue: 1024 * 1024,
  sendStallTimeout: 5000,
  maxMessageItems: 1000,
}

function victim(limits = LIMITS) {
  const clock = new ManualClock()
  const conn = new UnreadConnection('attacker', 'inbound')
  const mux = new Mux(conn, clock, undefined, limits)
  mux.on('request', (_p, body, reply) => reply.respond(new Uint8Array(64 * 1024 + (body as { n: number }).n)))
  return { clock, conn, mux }
}

function request(conn: StubConnection, id: number): void {
  conn.emit('message', encode([Kind.Request, id, BLOB.name, { n: 0 }]))
}

const settle = () => new Promise((resolve) => setImmediate(resolve))

test('answers a peer does not read stop its requests from being read at a quarter of maxSendQueue; reading resumes when they drain', async (t) => {
  const { conn, mux } = victim()
  for (let id = 1; id <= 3; id++) request(conn, id)
  await settle()
  t.is(conn.paused, 0)
  request(conn, 4) // 4 × 64 KiB = a quarter of 1 MiB
  await settle()
  t.is(conn.paused, 1)
  t.true(mux.readPaused)
  t.true(mux.sendQueue >= 256 * 1024)
  conn.drainAll()
  await settle()
  t.is(conn.resumed, 1)
  t.is(mux.sendQueue, 0)
  t.false(conn.closed)
})

test('past maxSendQueue the connection is closed with RateLimitError, and nothing stays queued', async (t) => {
  const { conn, mux } = victim()
  let reason: Error | undefined
  conn.on('close', (err) => {
    reason = err
  })
  // A transport that read on regardless (the requests were already buffered): 17 answers of 64 KiB.
  for (let id = 1; id <= 17; id++) request(conn, id)
  await settle()
  t.true(conn.closed)
  t.is(reason?.name, 'RateLimitError')
  t.regex(reason?.message ?? '', /network\.maxSendQueue/)
  conn.drainAll()
  await settle()
  t.is(mux.sendQueue, 0)
})

test('a connection paused for sendStallTimeout without an answer leaving is closed', async (t) => {
  const { clock, conn } = victim()
  for (let id = 1; id <= 4; id++) request(conn, id)
  await settle()
  t.is(conn.paused, 1)
  await clock.advance(4000)
  t.false(conn.closed)
  await clock.advance(1000)
  t.true(conn.closed)
})

test('at maxPendingRequests answers being prepared, reading pauses too', async (t) => {
  const clock = new ManualClock()
  const conn = new UnreadConnection('attacker', 'inbound')
  new Mux(conn, clock, undefined, { ...LIMITS, maxPendingRequests: 3 }).on('request', () => {
    // never answered: the handler is slow
  })
  for (let id = 1; id <= 3; id++) request(conn, id)
  await settle()
  t.is(conn.paused, 1)
})

test('without pauseReading, requests that arrive while paused are refused with RateLimitError', async (t) => {
  const clock = new ManualClock()
  const [a, b] = [new StubConnection('victim', 'outbound'), new StubConnection('attacker', 'inbound')]
  a.other = b
  b.other = a
  let served = 0
  new Mux(b, clock, undefined, { ...LIMITS, maxPendingRequests: 2 }).on('request', () => {
    served++ // never answered
  })
  const client = new Mux(a, clock)
  const answers = Array.from({ length: 4 }, () =>
    client.request(BLOB, { n: 0 }, { timeout: 1000 }).catch((err: Error) => err.name),
  )
  await settle()
  await settle()
  t.is(served, 2)
  await clock.advance(1000)
  const names = await Promise.all(answers)
  t.deepEqual(names.filter((n) => n === 'RateLimitError').length, 2)
})
