import { getEventListeners } from 'node:events'
import test from 'ava'
import { DIAL_GROUP_WINDOW } from '../src/dial-groups.js'
import {
  AbortError,
  type Connection,
  createLogger,
  type DialOptions,
  Identity,
  type Listener,
  Network,
  onAbort,
  type PeerRef,
  parsePeerConfig,
  type Transport,
} from '../src/index.js'
import { ManualClock } from './helpers/manual-clock.js'
import { connectionPair } from './helpers/pair.js'

/** One dial the test settles by hand, with what its transport saw. */
interface HeldDial {
  address: string
  signal: AbortSignal | undefined
  /** When its signal aborted, on the test's clock. */
  abortedAt: number | undefined
  connect(): Connection
  fail(err: Error): void
}

/**
 * A transport whose dials settle only when the test says, and which gives
 * up a dial when its signal aborts (as memory and tcp do), unless `deaf`.
 */
class HeldTransport implements Transport {
  readonly name = 'held'
  readonly dials: HeldDial[] = []
  deaf = false

  constructor(
    private readonly clock: ManualClock,
    private readonly self: string,
  ) {}

  handles(address: string): boolean {
    return address.startsWith('held://')
  }

  listen(): Promise<Listener> {
    throw new Error('not used in these tests')
  }

  dial(address: string, options: DialOptions = {}): Promise<Connection> {
    const { signal } = options
    if (signal?.aborted)
      return Promise.reject(new AbortError(`dial ${address} aborted`, { cause: signal.reason }))
    return new Promise((resolve, reject) => {
      const dial: HeldDial = {
        address,
        signal,
        abortedAt: undefined,
        connect: () => {
          const [mine] = connectionPair(this.self, options.peer ?? address)
          resolve(mine)
          return mine
        },
        fail: reject,
      }
      if (signal !== undefined && !this.deaf)
        onAbort(signal, () => {
          dial.abortedAt = this.clock.now()
          reject(new AbortError(`dial ${address} aborted`, { cause: signal.reason }))
        })
      else if (signal !== undefined) onAbort(signal, () => (dial.abortedAt = this.clock.now()))
      this.dials.push(dial)
    })
  }

  async close(): Promise<void> {}
}

const DIAL_TIMEOUT = 100

async function setup(t: { teardown(fn: () => unknown): void }) {
  const clock = new ManualClock()
  const identity = Identity.generate()
  const transport = new HeldTransport(clock, identity.peerId)
  const config = parsePeerConfig({ overlay: 'x', network: { dialTimeout: DIAL_TIMEOUT } })
  const network = new Network([transport], identity, clock, config, createLogger({ level: 'silent' }))
  await network.start()
  t.teardown(() => network.stop())
  return { clock, transport, network }
}

const peer = (n: number): PeerRef => ({ id: Identity.generate().peerId, addresses: [`held://${n}`] })

/** Lets the promise callbacks queued so far run. */
const tick = () => new Promise((resolve) => setImmediate(resolve))

/** Whether a promise has settled yet (without waiting for it). */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false
  p.then(
    () => (done = true),
    () => (done = true),
  )
  await tick()
  return done
}

test('a dial that outlasts dialTimeout fails on time, and its transport is told to give up then', async (t) => {
  const { clock, transport, network } = await setup(t)
  const dial = network.connect(peer(1))
  await clock.advance(DIAL_TIMEOUT - 1)
  t.false(await settled(dial))
  await clock.advance(1)
  await t.throwsAsync(dial, { name: 'PeerUnreachableError', message: /timed out after 100 ms/ })
  t.is(transport.dials[0]?.abortedAt, DIAL_TIMEOUT, 'alone on its signal: aborted at its timeout')
})

test('dials within one window share their signal; one that timed out is aborted once the others have ended', async (t) => {
  const { clock, transport, network } = await setup(t)
  const first = network.connect(peer(1))
  await clock.advance(50)
  const second = network.connect(peer(2))
  await tick()
  const [a, b] = transport.dials as [HeldDial, HeldDial]
  t.is(a.signal, b.signal, 'one signal for both')
  await clock.advance(50)
  await t.throwsAsync(first, { name: 'PeerUnreachableError', message: /timed out/ })
  t.is(a.abortedAt, undefined, 'not while the other dial on its signal goes on')
  await clock.advance(20)
  b.connect()
  t.truthy(await second, 'the other dial connects')
  t.is(a.abortedAt, 120, 'aborted when the other ended, within DIAL_GROUP_WINDOW of its timeout')
  // A dial that timed out joins no group: the next one gets a signal of its own.
  const third = network.connect(peer(3))
  await tick()
  t.not(transport.dials[2]?.signal, a.signal)
  transport.dials[2]?.connect()
  await third
})

test('two dials on one signal that both time out are aborted at the second timeout', async (t) => {
  const { clock, transport, network } = await setup(t)
  const first = network.connect(peer(1))
  await clock.advance(30)
  const second = network.connect(peer(2))
  await clock.advance(70)
  await t.throwsAsync(first, { message: /timed out/ })
  t.is(transport.dials[0]?.abortedAt, undefined)
  await clock.advance(30)
  await t.throwsAsync(second, { message: /timed out/ })
  t.deepEqual(
    transport.dials.map((d) => d.abortedAt),
    [130, 130],
  )
})

test('dials in turn share a signal within DIAL_GROUP_WINDOW, and not past it', async (t) => {
  const { clock, transport, network } = await setup(t)
  const signals: (AbortSignal | undefined)[] = []
  for (const [n, at] of [0, 10, DIAL_GROUP_WINDOW + 10].entries()) {
    await clock.advance(at - clock.now())
    const dial = network.connect(peer(n))
    await tick()
    const held = transport.dials[n] as HeldDial
    signals.push(held.signal)
    held.connect()
    await dial
  }
  t.is(signals[0], signals[1])
  t.not(signals[1], signals[2])
  t.true(
    signals.every((s) => s?.aborted === false),
    'a dial that connected aborts nothing',
  )
})

test('a connection arriving after its dial timed out is closed', async (t) => {
  const { clock, transport, network } = await setup(t)
  transport.deaf = true
  const ref = peer(1)
  const dial = network.connect(ref)
  await clock.advance(DIAL_TIMEOUT)
  await t.throwsAsync(dial, { message: /timed out/ })
  t.is(transport.dials[0]?.abortedAt, DIAL_TIMEOUT)
  const late = (transport.dials[0] as HeldDial).connect()
  await tick()
  t.true(late.closed, 'closed, not attached')
  t.false(network.isConnected(ref.id))
})

test("aborting the caller's signal aborts its dials with AbortError, and only those", async (t) => {
  const { transport, network } = await setup(t)
  const x = new AbortController()
  const y = new AbortController()
  const onX = [network.connect(peer(1), { signal: x.signal }), network.connect(peer(2), { signal: x.signal })]
  const onY = network.connect(peer(3), { signal: y.signal })
  await tick()
  const [a, b, c] = transport.dials as [HeldDial, HeldDial, HeldDial]
  t.is(a.signal, b.signal)
  t.not(a.signal, c.signal)
  x.abort(new Error('enough'))
  for (const d of onX) await t.throwsAsync(d, { name: 'AbortError' })
  t.false(c.signal?.aborted)
  c.connect()
  t.truthy(await onY)
  t.is(getEventListeners(x.signal, 'abort').length, 0)
  t.is(
    getEventListeners(y.signal, 'abort').length,
    0,
    'settled dials leave no listener on the caller’s signal',
  )
  await t.throwsAsync(network.connect(peer(4), { signal: x.signal }), { name: 'AbortError' })
})

test('a dial given an aborted signal fails with AbortError at once', async (t) => {
  const { transport, network } = await setup(t)
  const x = new AbortController()
  x.abort()
  await t.throwsAsync(network.dialAddress('held://9', { signal: x.signal }), { name: 'AbortError' })
  t.is(transport.dials.length, 0, 'refused before the transport held it')
})
