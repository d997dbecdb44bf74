/**
 * The Transport compliance suite: every transport runs it against itself.
 *
 * ```ts
 * // adapters/transport-tcp/test/compliance.test.ts
 * import test from 'ava'
 * import { RealClock, SeededRandom } from '@peerkit/core'
 * import { transportSuite } from '@peerkit/compliance'
 * import { TcpTransport, parseTcpTransportOptions } from '../src/index.js'
 *
 * transportSuite(test, () => ({
 *   // A fresh, independent transport for `identity` (the suite always passes one;
 *   // for impersonation cases it passes a forged one whose `sign` uses another key).
 *   create: (identity) => ({
 *     transport: new TcpTransport(identity, new RealClock(), new SeededRandom(), parseTcpTransportOptions()),
 *     listenAddress: 'tcp://127.0.0.1:0',
 *   }),
 *   // Optional: make the far end of `connection` receive a malformed or an oversized frame
 *   // straight from the wire (bypassing `send`'s checks). Cases that need it are skipped without it.
 *   injectFrame: (connection, kind) => { … },
 *   // Optional: the maxMessageSize the created transports use (default DEFAULT_MAX_MESSAGE_SIZE).
 *   maxMessageSize: 4 * 1024 * 1024,
 *   // Optional: how far (bytes) `send` may resolve ahead of receipt in the 64 MiB stream (default 16 MiB).
 *   sendAheadBound: 16 * 1024 * 1024,
 *   // Optional: runs after each case, once the suite closed every transport it created.
 *   teardown: async () => {},
 * }))
 * ```
 *
 * `setup` runs once per case, so each case gets its own harness. Case titles
 * start with `transport: ` (or `options.prefix`), so a file can run the suite
 * twice with different setups and prefixes. Every wait is bounded.
 */
import {
  type Connection,
  DEFAULT_MAX_MESSAGE_SIZE,
  Identity,
  type Listener,
  type PeerId,
  type Transport,
} from '@peerkit/core'
import type { ExecutionContext, TestFn } from 'ava'

/** One transport made by the harness, and an address it can listen on (a fresh one each time: port 0, `memory://*`). */
export interface TransportEndpoint {
  transport: Transport
  listenAddress: string
}

/** What a transport's compliance test provides to the suite. */
export interface TransportHarness {
  /** A new, independent transport that authenticates as `identity`. */
  create(identity: Identity): TransportEndpoint | Promise<TransportEndpoint>
  /**
   * Makes the far end of `connection` receive, from the wire, a frame the
   * transport's own framing rejects: `malformed` (garbage) or `oversized`
   * (larger than `maxMessageSize`). The far end must close that connection
   * with a `ProtocolError`, and its listener must go on accepting.
   */
  injectFrame?(connection: Connection, kind: 'malformed' | 'oversized'): void | Promise<void>
  /** The largest message the created transports accept. @default DEFAULT_MAX_MESSAGE_SIZE */
  maxMessageSize?: number
  /** Bytes `send` may resolve ahead of the receiver's `message` events. @default 16 MiB */
  sendAheadBound?: number
  /** Runs after each case, once the suite closed the transports it created. */
  teardown?(): void | Promise<void>
}

export type TransportSetup = () => TransportHarness | Promise<TransportHarness>

export interface TransportSuiteOptions {
  /** Prefix of every case title. @default 'transport' */
  prefix?: string
  /** Bound of every wait in ms. @default 10000 */
  timeout?: number
}

const MiB = 1024 * 1024

interface Context {
  harness: TransportHarness
  make(identity?: Identity): Promise<TransportEndpoint & { identity: Identity }>
  listen(endpoint: TransportEndpoint): Promise<{ listener: Listener; address: string }>
  within<T>(promise: Promise<T>, what: string): Promise<T>
}

/** Registers the Transport compliance cases on ava's `test`. */
export function transportSuite(
  test: TestFn,
  setup: TransportSetup,
  options: TransportSuiteOptions = {},
): void {
  const prefix = options.prefix ?? 'transport'
  const timeout = options.timeout ?? 10_000

  async function prepare(t: ExecutionContext): Promise<Context> {
    const harness = await setup()
    const made: Transport[] = []
    t.teardown(async () => {
      await Promise.allSettled(made.map((tr) => tr.close()))
      await harness.teardown?.()
    })
    const within = <T>(promise: Promise<T>, what: string): Promise<T> => bounded(promise, timeout, what)
    return {
      harness,
      within,
      async make(identity = Identity.generate()) {
        const endpoint = await harness.create(identity)
        made.push(endpoint.transport)
        return { ...endpoint, identity }
      },
      async listen(endpoint) {
        const listener = await within(endpoint.transport.listen(endpoint.listenAddress), 'listen')
        const address = listener.addresses()[0]
        if (address === undefined) throw new Error('a listener reported no address')
        return { listener, address }
      },
    }
  }

  /** Dials `address` from `dialer` and returns both ends. */
  async function connect(ctx: Context, dialer: TransportEndpoint, listener: Listener, address: string) {
    const inbound = nextEvent<Connection>(listener, 'connection', timeout, 'inbound connection')
    const outbound = await ctx.within(dialer.transport.dial(address), `dial ${address}`)
    return { outbound, inbound: await inbound }
  }

  test(`${prefix}: listens, dials both ways, and both ends know each other's PeerId`, async (t) => {
    const ctx = await prepare(t)
    const a = await ctx.make()
    const b = await ctx.make()
    t.true(a.transport.handles(a.listenAddress))
    const la = await ctx.listen(a)
    const lb = await ctx.listen(b)
    const ab = await connect(ctx, a, lb.listener, lb.address)
    const ba = await connect(ctx, b, la.listener, la.address)
    for (const [pair, dialer, listener] of [
      [ab, a, b],
      [ba, b, a],
    ] as const) {
      t.is(pair.outbound.remotePeer, listener.identity.peerId)
      t.is(pair.inbound.remotePeer, dialer.identity.peerId)
      t.is(pair.outbound.direction, 'outbound')
      t.is(pair.inbound.direction, 'inbound')
      t.false(pair.outbound.closed)
      t.is(typeof pair.inbound.remoteAddress, 'string')
      const there = collect(pair.inbound, 3)
      const back = collect(pair.outbound, 1)
      for (const text of ['one', 'two', 'three']) await ctx.within(pair.outbound.send(bytes(text)), 'send')
      t.deepEqual((await ctx.within(there, 'messages')).map(text), ['one', 'two', 'three'])
      await ctx.within(pair.inbound.send(bytes('reply')), 'send')
      t.deepEqual((await ctx.within(back, 'reply')).map(text), ['reply'])
    }
  })

  test(`${prefix}: carries empty messages and copies what it sends`, async (t) => {
    const ctx = await prepare(t)
    const a = await ctx.make()
    const b = await ctx.make()
    const lb = await ctx.listen(b)
    const { outbound, inbound } = await connect(ctx, a, lb.listener, lb.address)
    const got = collect(inbound, 2)
    const data = bytes('original')
    const sent = outbound.send(data)
    data.fill(0) // the sender reuses its buffer at once
    await ctx.within(sent, 'send')
    await ctx.within(outbound.send(new Uint8Array(0)), 'send empty')
    const [first, empty] = await ctx.within(got, 'messages')
    t.is(text(first as Uint8Array), 'original')
    t.is(empty?.byteLength, 0)
  })

  test(`${prefix}: what the listener side sends at once reaches a dialer that listens a little later`, async (t) => {
    const ctx = await prepare(t)
    const a = await ctx.make()
    const b = await ctx.make()
    const lb = await ctx.listen(b)
    // Core's Network attaches its handlers a few ticks after `dial` resolves,
    // while the other side greets at once: nothing may be lost in between.
    lb.listener.on('connection', (conn) => {
      void conn.send(bytes('hello')).then(() => conn.send(bytes('world')))
    })
    const conn = await ctx.within(a.transport.dial(lb.address), 'dial')
    await new Promise((resolve) => setTimeout(resolve, 50))
    const got = collect(conn, 2)
    t.deepEqual((await ctx.within(got, 'greeting')).map(text), ['hello', 'world'])
  })

  test(`${prefix}: 50 connections at once to one listener`, async (t) => {
    const ctx = await prepare(t)
    const server = await ctx.make()
    const { listener, address } = await ctx.listen(server)
    const inbound = new Set<PeerId>()
    listener.on('connection', (conn) => {
      inbound.add(conn.remotePeer)
      conn.on('message', (m) => void conn.send(m).catch(() => {})) // an echo lost to a closing connection fails the client's wait for it
    })
    const clients = await Promise.all(Array.from({ length: 50 }, () => ctx.make()))
    const echoes = await ctx.within(
      Promise.all(
        clients.map(async (c, i) => {
          const conn = await c.transport.dial(address, { peer: server.identity.peerId })
          const echo = collect(conn, 1)
          await conn.send(bytes(`hello ${i}`))
          return text(((await echo) as Uint8Array[])[0] as Uint8Array)
        }),
      ),
      '50 echoes',
    )
    t.deepEqual(
      echoes,
      clients.map((_, i) => `hello ${i}`),
    )
    t.is(inbound.size, 50)
    for (const c of clients) t.true(inbound.has(c.identity.peerId))
  })

  test(`${prefix}: streams 64 MiB whole and in order, with send bounded by the receiver`, async (t) => {
    const ctx = await prepare(t)
    const a = await ctx.make()
    const b = await ctx.make()
    const lb = await ctx.listen(b)
    const { outbound, inbound } = await connect(ctx, a, lb.listener, lb.address)
    const size = 256 * 1024
    const count = (64 * MiB) / size
    const bound = ctx.harness.sendAheadBound ?? 16 * MiB
    let received = 0
    let next = 0
    let bad = 0
    const done = new Promise<void>((resolve, reject) => {
      inbound.on('message', (m) => {
        if (m.byteLength !== size || !matches(m, next)) bad++
        next++
        received += m.byteLength
        if (next === count) resolve()
      })
      inbound.on('close', () => reject(new Error(`closed after ${next} of ${count} messages`)))
    })
    done.catch(() => {}) // awaited below with the writer; this only keeps an early close from being unhandled meanwhile
    let sent = 0
    let ahead = 0
    const writer = (async () => {
      for (let i = 0; i < count; i++) {
        await outbound.send(message(i, size))
        sent += size
        ahead = Math.max(ahead, sent - received)
      }
    })()
    await ctx.within(Promise.all([writer, done]), '64 MiB stream')
    t.is(next, count)
    t.is(bad, 0, 'every message arrived whole, with the content sent, in order')
    t.is(received, 64 * MiB)
    t.true(ahead <= bound, `send resolved ${ahead} bytes ahead of receipt (bound ${bound})`)
  })

  test(`${prefix}: close on one side closes the other, and sends after it fail`, async (t) => {
    const ctx = await prepare(t)
    const a = await ctx.make()
    const b = await ctx.make()
    const lb = await ctx.listen(b)
    for (const closer of ['outbound', 'inbound'] as const) {
      const pair = await connect(ctx, a, lb.listener, lb.address)
      const local = pair[closer]
      const remote = closer === 'outbound' ? pair.inbound : pair.outbound
      const localClose = nextEvent<Error | undefined>(local, 'close', timeout, 'local close')
      const remoteClose = nextEvent<Error | undefined>(remote, 'close', timeout, 'remote close')
      const last = collect(remote, 1)
      await ctx.within(local.send(bytes('last words')), 'send')
      await ctx.within(local.close(), 'close')
      t.true(local.closed)
      t.is(await localClose, undefined)
      t.deepEqual((await ctx.within(last, 'message sent before close')).map(text), ['last words'])
      await remoteClose
      t.true(remote.closed)
      await t.throwsAsync(local.send(bytes('late')), { name: 'PeerUnreachableError' })
      await t.throwsAsync(remote.send(bytes('late')), { name: 'PeerUnreachableError' })
      await ctx.within(local.close(), 'second close is a no-op')
    }
  })

  test(`${prefix}: close(err) hands err to local close listeners; transport.close() closes everything`, async (t) => {
    const ctx = await prepare(t)
    const a = await ctx.make()
    const b = await ctx.make()
    const lb = await ctx.listen(b)
    const first = await connect(ctx, a, lb.listener, lb.address)
    const reason = new Error('giving up')
    const localClose = nextEvent<Error | undefined>(first.outbound, 'close', timeout, 'local close')
    const remoteClose = nextEvent<Error | undefined>(first.inbound, 'close', timeout, 'remote close')
    await first.outbound.close(reason)
    t.is(await localClose, reason)
    await remoteClose
    t.true(first.inbound.closed)

    const second = await connect(ctx, a, lb.listener, lb.address)
    const closes = [
      nextEvent(second.outbound, 'close', timeout, 'dialer close'),
      nextEvent(second.inbound, 'close', timeout, 'listener close'),
      nextEvent(lb.listener, 'close', timeout, 'listener closed'),
    ]
    await ctx.within(b.transport.close(), 'transport close')
    await ctx.within(Promise.all(closes), 'everything closed')
    t.true(second.outbound.closed)
    t.deepEqual(lb.listener.addresses(), [])
    await t.throwsAsync(ctx.within(a.transport.dial(lb.address), 'dial a closed listener'), {
      name: 'PeerUnreachableError',
    })
  })

  test(`${prefix}: a dial to an address nobody listens on fails with PeerUnreachableError`, async (t) => {
    const ctx = await prepare(t)
    const a = await ctx.make()
    const b = await ctx.make()
    const lb = await ctx.listen(b)
    await lb.listener.close()
    await t.throwsAsync(ctx.within(a.transport.dial(lb.address), 'dial'), { name: 'PeerUnreachableError' })
  })

  test(`${prefix}: aborting a pending dial rejects it with AbortError`, async (t) => {
    const ctx = await prepare(t)
    const a = await ctx.make()
    const b = await ctx.make()
    const lb = await ctx.listen(b)
    const before = new AbortController()
    before.abort()
    await t.throwsAsync(a.transport.dial(lb.address, { signal: before.signal }), { name: 'AbortError' })
    const during = new AbortController()
    const dial = a.transport.dial(lb.address, { signal: during.signal })
    during.abort()
    await t.throwsAsync(ctx.within(dial, 'aborted dial'), { name: 'AbortError' })
    // The transport still works.
    const ok = await connect(ctx, a, lb.listener, lb.address)
    t.is(ok.outbound.remotePeer, b.identity.peerId)
  })

  test(`${prefix}: an oversized send rejects with ProtocolError and the connection goes on`, async (t) => {
    const ctx = await prepare(t)
    const a = await ctx.make()
    const b = await ctx.make()
    const lb = await ctx.listen(b)
    const { outbound, inbound } = await connect(ctx, a, lb.listener, lb.address)
    const max = ctx.harness.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE
    const got = collect(inbound, 2)
    await t.throwsAsync(outbound.send(new Uint8Array(max + 1)), { name: 'ProtocolError' })
    await ctx.within(outbound.send(new Uint8Array(max)), 'largest message')
    await ctx.within(outbound.send(bytes('after')), 'send')
    const [largest, after] = await ctx.within(got, 'messages')
    t.is(largest?.byteLength, max)
    t.is(text(after as Uint8Array), 'after')
    t.false(outbound.closed)
  })

  for (const kind of ['malformed', 'oversized'] as const) {
    test(`${prefix}: ${kind === 'malformed' ? 'a' : 'an'} ${kind} frame closes that connection with ProtocolError; the listener goes on`, async (t) => {
      const ctx = await prepare(t)
      const inject = ctx.harness.injectFrame
      if (!inject) {
        t.log(`harness has no injectFrame: the ${kind} frame case does not apply`)
        t.pass()
        return
      }
      const a = await ctx.make()
      const b = await ctx.make()
      const lb = await ctx.listen(b)
      const bad = await connect(ctx, a, lb.listener, lb.address)
      const messages = collect(bad.inbound, 1)
      const inboundClose = nextEvent<Error | undefined>(bad.inbound, 'close', timeout, 'inbound close')
      const outboundClose = nextEvent(bad.outbound, 'close', timeout, 'outbound close')
      await inject(bad.outbound, kind)
      const err = await inboundClose
      t.is(err?.name, 'ProtocolError')
      await outboundClose
      t.true(bad.outbound.closed)
      t.false(await settledWithin(messages, 50), 'the bad frame was not delivered as a message')
      // The listener goes on accepting.
      const good = await connect(ctx, a, lb.listener, lb.address)
      const got = collect(good.inbound, 1)
      await ctx.within(good.outbound.send(bytes('still here')), 'send')
      t.deepEqual((await ctx.within(got, 'message')).map(text), ['still here'])
    })
  }

  test(`${prefix}: a dialer that claims another's PeerId is refused with AuthenticationError`, async (t) => {
    const ctx = await prepare(t)
    const victim = Identity.generate()
    const liar = await ctx.make(forge(victim, Identity.generate()))
    const honest = await ctx.make()
    const { listener, address } = await ctx.listen(honest)
    let accepted = 0
    listener.on('connection', () => accepted++)
    const refused = nextEvent<Error>(listener, 'error', timeout, 'listener error')
    const outcome = liar.transport.dial(address).then(
      async (conn) => {
        if (!conn.closed) await nextEvent(conn, 'close', timeout, "liar's connection close")
        return 'closed'
      },
      (err: Error) => `rejected with ${err.name}`,
    )
    t.is((await refused).name, 'AuthenticationError')
    t.regex(await ctx.within(outcome, "liar's dial"), /^(closed|rejected with \w+)$/)
    t.is(accepted, 0)
    // An honest dialer is still accepted.
    const other = await ctx.make()
    const ok = await connect(ctx, other, listener, address)
    t.is(ok.inbound.remotePeer, other.identity.peerId)
    t.is(accepted, 1)
  })

  test(`${prefix}: a listener that claims another's PeerId is refused with AuthenticationError`, async (t) => {
    const ctx = await prepare(t)
    const victim = Identity.generate()
    const liar = await ctx.make(forge(victim, Identity.generate()))
    const { address } = await ctx.listen(liar)
    const dialer = await ctx.make()
    await t.throwsAsync(ctx.within(dialer.transport.dial(address), 'dial'), { name: 'AuthenticationError' })
    await t.throwsAsync(ctx.within(dialer.transport.dial(address, { peer: victim.peerId }), 'dial'), {
      name: 'AuthenticationError',
    })
  })

  test(`${prefix}: dialing with the wrong expected PeerId fails with AuthenticationError`, async (t) => {
    const ctx = await prepare(t)
    const a = await ctx.make()
    const b = await ctx.make()
    const lb = await ctx.listen(b)
    const other = Identity.generate().peerId
    await t.throwsAsync(ctx.within(a.transport.dial(lb.address, { peer: other }), 'dial'), {
      name: 'AuthenticationError',
    })
    const conn = await ctx.within(a.transport.dial(lb.address, { peer: b.identity.peerId }), 'dial')
    t.is(conn.remotePeer, b.identity.peerId)
  })
}

/** An identity that claims `claimed`'s PeerId but can only sign with `actual`'s key. */
function forge(claimed: Identity, actual: Identity): Identity {
  return {
    peerId: claimed.peerId,
    publicKey: claimed.publicKey,
    sign: (data: Uint8Array) => actual.sign(data),
    toPem: () => actual.toPem(),
  } as unknown as Identity
}

/** Any eventemitter3 emitter, whatever its event map. */
interface Emitter {
  once(event: never, fn: never): unknown
}

/** The first argument of the next `event`, or a rejection after `ms`. */
function nextEvent<T = unknown>(emitter: Emitter, event: string, ms: number, what: string): Promise<T> {
  return bounded(
    new Promise<T>((resolve) => {
      emitter.once(event as never, ((value: T) => resolve(value)) as never)
    }),
    ms,
    what,
  )
}

/** The next `n` messages of `conn` (unbounded: wrap it). */
function collect(conn: Connection, n: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  return new Promise((resolve) => {
    const on = (m: Uint8Array) => {
      out.push(m)
      if (out.length === n) {
        conn.off('message', on)
        resolve(out)
      }
    }
    conn.on('message', on)
  })
}

function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms)
  })
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer))
}

/** True when `promise` settles within `ms`. */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return bounded(
    promise.then(
      () => true,
      () => true,
    ),
    ms,
    'settle',
  ).catch(() => false) // not settled within ms: that is the answer
}

function bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s)
}

function text(b: Uint8Array): string {
  return new TextDecoder().decode(b)
}

/** Message `i` of the stream: its index, then a pattern derived from it. */
function message(i: number, size: number): Uint8Array {
  const m = new Uint8Array(size)
  new DataView(m.buffer).setUint32(0, i)
  for (let k = 4; k < size; k += 997) m[k] = (i + k) & 0xff
  m[size - 1] = i & 0xff
  return m
}

function matches(m: Uint8Array, i: number): boolean {
  if (m.byteLength < 4 || new DataView(m.buffer, m.byteOffset, 4).getUint32(0) !== i) return false
  for (let k = 4; k < m.byteLength; k += 997) if (m[k] !== ((i + k) & 0xff)) return false
  return m[m.byteLength - 1] === (i & 0xff)
}
