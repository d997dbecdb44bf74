import { getEventListeners } from 'node:events'
import test from 'ava'
import { container as root } from 'tsyringe'
import { z } from 'zod'
import {
  createLogger,
  createPeer,
  defineProtocol,
  LOGGER,
  type LogEntry,
  NotFoundError,
} from '../src/index.js'
import { registerStubs, STUB_PEER } from './helpers/stub-components.js'

registerStubs()
const base = STUB_PEER
/** Answered when the test lets it be. */
const HELD = defineProtocol(
  'test/held/1',
  z.object({ n: z.number().int() }),
  z.object({ n: z.number().int() }),
)

async function pair(t: { teardown(fn: () => unknown): void }, name: string) {
  const a = await createPeer({ ...base, listen: [`stub://${name}-a`] })
  const b = await createPeer({ ...base, listen: [`stub://${name}-b`] })
  t.teardown(() => Promise.all([a.stop(), b.stop()]))
  await a.start()
  await b.start()
  let release!: () => void
  const released = new Promise<void>((resolve) => {
    release = resolve
  })
  a.network.handle(HELD, async ({ n }) => {
    await released
    return { n }
  })
  return { a, b, release }
}

/** Collects the process warnings named `MaxListenersExceededWarning` until the returned function is called. */
function watchWarnings(): () => Promise<Error[]> {
  const seen: Error[] = []
  const onWarning = (w: Error) => {
    if (w.name === 'MaxListenersExceededWarning') seen.push(w)
  }
  process.on('warning', onWarning)
  return async () => {
    // Node emits warnings on a later tick.
    await new Promise((resolve) => setImmediate(resolve))
    process.off('warning', onWarning)
    return seen
  }
}

test('dialAddress resolves to the PeerRef that answered, and the connection is reused by id', async (t) => {
  const { a, b, release } = await pair(t, 'dial')
  release()
  const ref = await b.network.dialAddress('stub://dial-a')
  t.is(ref.id, a.id)
  t.deepEqual(ref.addresses, ['stub://dial-a'], 'the dialed address, until it identifies')
  t.true(b.network.isConnected(a.id))
  t.deepEqual(await b.network.request(ref.id, HELD, { n: 7 }), { n: 7 })
  await t.throwsAsync(b.network.dialAddress('stub://dial-b'), { name: 'PeerUnreachableError' })
})

test('many requests sharing one abort signal put one listener on it, and none once they settle', async (t) => {
  const { a, b, release } = await pair(t, 'shared')
  const warnings = watchWarnings()
  const walkers = new AbortController()
  const signal = walkers.signal
  const target = { id: a.id, addresses: ['stub://shared-a'] }
  const requests = Array.from({ length: 50 }, (_, n) =>
    b.network.request(target, HELD, { n }, { signal, timeout: 60_000 }),
  )
  await new Promise((resolve) => setImmediate(resolve))
  t.true(getEventListeners(signal, 'abort').length <= 1, 'one listener for 50 requests in flight')
  release()
  const answers = await Promise.all(requests)
  t.deepEqual(
    answers.map((r) => r.n),
    Array.from({ length: 50 }, (_, n) => n),
  )
  t.is(getEventListeners(signal, 'abort').length, 0, 'the listener left with the last request')
  t.deepEqual(await warnings(), [])
})

test('aborting a signal shared by many requests fails each with AbortError and leaves no listener', async (t) => {
  const { a, b, release } = await pair(t, 'abort')
  t.teardown(release)
  const warnings = watchWarnings()
  const ac = new AbortController()
  const target = { id: a.id, addresses: ['stub://abort-a'] }
  const requests = Array.from({ length: 30 }, (_, n) =>
    b.network.request(target, HELD, { n }, { signal: ac.signal, timeout: 60_000 }),
  )
  await new Promise((resolve) => setImmediate(resolve))
  ac.abort()
  const results = await Promise.allSettled(requests)
  t.deepEqual(
    [...new Set(results.map((r) => (r.status === 'rejected' ? (r.reason as Error).name : 'fulfilled')))],
    ['AbortError'],
  )
  t.is(getEventListeners(ac.signal, 'abort').length, 0)
  // A later request on a live signal is not disturbed by the aborted one's bookkeeping.
  release()
  const fresh = new AbortController()
  t.deepEqual(await b.network.request(target, HELD, { n: 1 }, { signal: fresh.signal }), { n: 1 })
  t.is(getEventListeners(fresh.signal, 'abort').length, 0)
  t.deepEqual(await warnings(), [])
})

test("a handler's failure is logged: an unexpected error at warn (the remote sees InternalError), a refusal at debug", async (t) => {
  const entries: LogEntry[] = []
  const parent = root.createChildContainer()
  parent.register(LOGGER, { useValue: createLogger({ level: 'debug', sink: (e) => entries.push(e) }) })
  const a = await createPeer({ ...base, listen: ['stub://log-a'] }, { container: parent })
  const b = await createPeer({ ...base, listen: ['stub://log-b'] })
  t.teardown(() => Promise.all([a.stop(), b.stop()]))
  await a.start()
  await b.start()
  const BUGGY = defineProtocol('test/buggy/1', z.object({ n: z.number() }), z.null())
  const NOTE = defineProtocol('test/note/1', z.object({ n: z.number() }), z.null())
  let noted!: () => void
  const note = new Promise<void>((resolve) => {
    noted = resolve
  })
  a.network.handle(BUGGY, ({ n }) => {
    if (n === 1) throw new TypeError('undefined is not a function')
    throw new NotFoundError('no such thing')
  })
  a.network.handle(NOTE, () => {
    queueMicrotask(noted)
    throw new RangeError('a bug in a one-way handler')
  })
  // An asynchronous one-way handler's rejection is logged as a synchronous throw is.
  const LATER = defineProtocol('test/later/1', z.object({ n: z.number() }), z.null())
  let laterNoted!: () => void
  const later = new Promise<void>((resolve) => {
    laterNoted = resolve
  })
  a.network.handle(LATER, async () => {
    await Promise.resolve()
    queueMicrotask(laterNoted)
    throw new NotFoundError('refused later')
  })
  const target = { id: a.id, addresses: ['stub://log-a'] }
  const bug = await t.throwsAsync(b.network.request(target, BUGGY, { n: 1 }))
  t.is(bug?.name, 'InternalError', 'the remote learns nothing of the bug')
  await t.throwsAsync(b.network.request(target, BUGGY, { n: 2 }), { name: 'NotFoundError' })
  await b.network.send(target, NOTE, { n: 3 })
  await note
  await b.network.send(target, LATER, { n: 4 })
  await later
  await new Promise((resolve) => setImmediate(resolve))
  const about = (level: string) =>
    entries
      .filter((e) => e.component === 'peerkit:network' && e.level === level)
      .map((e) => `${e.fields?.protocol} ${(e.fields?.err as Error | undefined)?.name}`)
  t.deepEqual(about('warn'), ['test/buggy/1 TypeError', 'test/note/1 RangeError'])
  t.deepEqual(about('debug'), ['test/buggy/1 NotFoundError', 'test/later/1 NotFoundError'])
  t.true(entries.every((e) => e.fields?.peer === undefined || e.fields.peer === b.id))
})

test("a handler's context has the sender's addresses as learned now: after identify, after learn, after they were forgotten", async (t) => {
  const a = await createPeer({ ...base, listen: ['stub://ctx-a'], network: { maxKnownPeers: 2 } })
  const b = await createPeer({ ...base, listen: ['stub://ctx-b'] })
  t.teardown(() => Promise.all([a.stop(), b.stop()]))
  await a.start()
  await b.start()
  const seen: string[][] = []
  a.network.handle(HELD, (_, ctx) => {
    seen.push(ctx.peer.addresses)
    return { n: 0 }
  })
  const ask = () => b.network.request({ id: a.id, addresses: ['stub://ctx-a'] }, HELD, { n: 0 })
  await ask()
  t.deepEqual(seen.at(-1), ['stub://ctx-b'], 'from its identify')
  await ask()
  t.deepEqual(seen.at(-1), ['stub://ctx-b'])
  a.network.learn({ id: b.id, addresses: ['stub://moved-b'] })
  await ask()
  t.deepEqual(seen.at(-1), ['stub://moved-b'], 'learned again')
  // Two other peers learned push b out of the two a may know.
  a.network.learn({ id: 'A'.repeat(43), addresses: ['stub://x'] })
  a.network.learn({ id: 'B'.repeat(43), addresses: ['stub://y'] })
  t.deepEqual(a.network.addressesOf(b.id), [])
  await ask()
  t.deepEqual(seen.at(-1), [], 'forgotten')
  const last = seen.at(-1)
  await ask()
  t.not(seen.at(-1), last, 'an unknown peer gets a new empty array each time, as from addressesOf')
  a.network.learn({ id: b.id, addresses: ['stub://back-b'] })
  await ask()
  t.deepEqual(seen.at(-1), ['stub://back-b'])
})

test('known peers leave least recently learned first, whether learned again with the same addresses or new ones', async (t) => {
  const a = await createPeer({ ...base, listen: ['stub://lru-a'], network: { maxKnownPeers: 3 } })
  t.teardown(() => a.stop())
  const [x, y, z, w] = ['X', 'Y', 'Z', 'W'].map((c) => c.repeat(43)) as [string, string, string, string]
  const learn = (id: string, address: string) => a.network.learn({ id, addresses: [address] })
  learn(x, 'stub://x')
  learn(y, 'stub://y')
  learn(y, 'stub://y') // the last learned, again: it stays last
  learn(x, 'stub://x') // the same addresses: x moves to the end all the same
  learn(z, 'stub://z')
  learn(w, 'stub://w') // one too many: y, learned least recently, leaves
  t.deepEqual(a.network.addressesOf(y), [])
  t.deepEqual(a.network.addressesOf(x), ['stub://x'])
  const kept = a.network.addressesOf(x)
  learn(x, 'stub://x')
  t.is(a.network.addressesOf(x), kept, 'learned again with the same addresses: the same array')
  learn(z, 'stub://z2')
  t.deepEqual(a.network.addressesOf(z), ['stub://z2'])
  learn(y, 'stub://y') // w leaves: x and z were learned since
  t.deepEqual(a.network.addressesOf(w), [])
  t.deepEqual(
    [x, z, y].map((id) => a.network.addressesOf(id)),
    [['stub://x'], ['stub://z2'], ['stub://y']],
  )
})

test('a message goes to the handler registered now: none after unhandle, the new one after a second handle', async (t) => {
  const a = await createPeer({ ...base, listen: ['stub://rehandle-a'] })
  const b = await createPeer({ ...base, listen: ['stub://rehandle-b'] })
  t.teardown(() => Promise.all([a.stop(), b.stop()]))
  await a.start()
  await b.start()
  const NOTE = defineProtocol('test/rehandled/1', z.object({ n: z.number() }), z.null())
  const OTHER = defineProtocol('test/other/1', z.object({ n: z.number() }), z.null())
  const got: string[] = []
  let secondArrived!: () => void
  const second = new Promise<void>((resolve) => {
    secondArrived = resolve
  })
  a.network.handle(NOTE, ({ n }) => {
    got.push(`first ${n}`)
    if (n === 2) secondArrived()
  })
  a.network.handle(OTHER, ({ n }) => {
    got.push(`other ${n}`)
  })
  const target = { id: a.id, addresses: ['stub://rehandle-a'] }
  const settle = () => b.network.request(target, HELD_ECHO, { n: 0 })
  a.network.handle(HELD_ECHO, ({ n }) => ({ n }))
  await b.network.send(target, NOTE, { n: 1 })
  await b.network.send(target, NOTE, { n: 2 })
  await second // the last message a looked a handler up for was of NOTE
  a.network.unhandle(NOTE)
  await b.network.send(target, NOTE, { n: 3 })
  await b.network.send(target, OTHER, { n: 4 })
  await settle()
  a.network.handle(NOTE, ({ n }) => {
    got.push(`second ${n}`)
  })
  await b.network.send(target, NOTE, { n: 5 })
  await settle()
  t.deepEqual(got, ['first 1', 'first 2', 'other 4', 'second 5'])
  t.true(b.network.isConnected(a.id), 'a message for a protocol handled before does not close the connection')
  // Counted under each registration (the first's kept once it is gone), not while there was none.
  t.is(a.network.stats()['test/rehandled/1']?.received, 3)
  t.deepEqual(Object.keys(a.network.stats()).slice(1), ['test/rehandled/1', 'test/other/1', 'test/echo/1'])
})

/** Answers at once: a request that comes back after the messages sent before it were handled. */
const HELD_ECHO = defineProtocol(
  'test/echo/1',
  z.object({ n: z.number().int() }),
  z.object({ n: z.number().int() }),
)

test('a prepared message goes to many peers as sent when prepared, counted like send; a later change of its body is not sent', async (t) => {
  const peers = await Promise.all(
    ['hub', 'x', 'y', 'z'].map((n) => createPeer({ ...base, listen: [`stub://prepared-${n}`] })),
  )
  t.teardown(() => Promise.all(peers.map((p) => p.stop())))
  await Promise.all(peers.map((p) => p.start()))
  const [hub, ...others] = peers as [(typeof peers)[0], ...typeof peers]
  const NOTE = defineProtocol(
    'test/prepared/1',
    z.object({ n: z.number(), words: z.array(z.string()) }),
    z.null(),
  )
  const got: string[] = []
  for (const [i, p] of others.entries()) {
    p.network.handle(NOTE, ({ n, words }) => {
      got.push(`${i}:${n}:${words.join(',')}`)
    })
    p.network.handle(HELD_ECHO, ({ n }) => ({ n }))
  }
  const body = { n: 1, words: ['a', 'b'] }
  const prepared = hub.network.prepare(NOTE, body)
  body.n = 2 // not sent: the message is what it was when prepared
  body.words.push('c')
  const targets = others.map((p, i) => ({ id: p.id, addresses: [`stub://prepared-${['x', 'y', 'z'][i]}`] }))
  await Promise.all(targets.map((ref) => hub.network.sendPrepared(ref, prepared)))
  // A request answered after the message on the same connection: the message was handled before.
  await Promise.all(targets.map((ref) => hub.network.request(ref, HELD_ECHO, { n: 0 })))
  t.deepEqual(got.sort(), ['0:1:a,b', '1:1:a,b', '2:1:a,b'])
  t.is(hub.network.stats()['test/prepared/1']?.sent, 3, 'each send counted')
  // The bytes are those send would put on the wire: the same message through send arrives the same.
  await hub.network.send(targets[0] as (typeof targets)[0], NOTE, { n: 1, words: ['a', 'b'] })
  await hub.network.request(targets[0] as (typeof targets)[0], HELD_ECHO, { n: 0 })
  t.is(got.filter((g) => g === '0:1:a,b').length, 2)
})

/**
 * Started peers `stub://PREFIX-NAME` (stopped at the end of the test); each but the first records the
 * messages of a protocol `test/PREFIX/1` it gets in `got` (`NAME:n`) and answers HELD_ECHO.
 */
async function notePeers(t: { teardown(fn: () => unknown): void }, prefix: string, names: string[]) {
  const peers = await Promise.all(
    names.map((n) => createPeer({ ...base, listen: [`stub://${prefix}-${n}`] })),
  )
  t.teardown(() => Promise.all(peers.map((p) => p.stop())))
  await Promise.all(peers.map((p) => p.start()))
  const NOTE = defineProtocol(`test/${prefix}/1`, z.object({ n: z.number() }), z.null())
  const got: string[] = []
  for (const [i, p] of peers.entries()) {
    if (i === 0) continue
    p.network.handle(NOTE, ({ n }) => {
      got.push(`${names[i]}:${n}`)
    })
    p.network.handle(HELD_ECHO, ({ n }) => ({ n }))
  }
  return { peers, NOTE, got }
}

test('sendIfConnected sends over an open connection and says so; to a peer without one it says no and never dials', async (t) => {
  const { peers, NOTE, got } = await notePeers(t, 'ifconnected', ['hub', 'near', 'far'])
  const [hub, near, far] = peers as [(typeof peers)[0], (typeof peers)[0], (typeof peers)[0]]
  await hub.network.request({ id: near.id, addresses: ['stub://ifconnected-near'] }, HELD_ECHO, { n: 0 })
  hub.network.learn({ id: far.id, addresses: ['stub://ifconnected-far'] })
  const prepared = hub.network.prepare(NOTE, { n: 1 })
  t.true(hub.network.sendIfConnected(near.id, prepared))
  t.false(hub.network.sendIfConnected(far.id, prepared), 'a known address, no connection')
  t.is(hub.network.stats()['test/ifconnected/1'], undefined, 'counted when it leaves, on the next microtask')
  await hub.network.request(near.id, HELD_ECHO, { n: 0 }) // answered after the message on the same connection
  t.deepEqual(got, ['near:1'])
  t.is(hub.network.stats()['test/ifconnected/1']?.sent, 1)
  t.false(hub.network.isConnected(far.id), 'nothing was dialed')
  await hub.network.hangUp(near.id)
  t.false(hub.network.sendIfConnected(near.id, prepared), 'closed')
  await hub.stop()
  t.false(hub.network.sendIfConnected(near.id, prepared), 'stopped')
})

test('sendEachIfConnected sends to each connected peer but one, in order, and calls missing at its turn: the sends after it leave after what missing queued', async (t) => {
  const { peers, NOTE, got } = await notePeers(t, 'each', ['hub', 'x', 'y', 'far'])
  const [hub, x, y, far] = peers as [
    (typeof peers)[0],
    (typeof peers)[0],
    (typeof peers)[0],
    (typeof peers)[0],
  ]
  for (const [name, p] of [['x', x] as const, ['y', y] as const])
    await hub.network.request({ id: p.id, addresses: [`stub://each-${name}`] }, HELD_ECHO, { n: 0 })
  const sent = () => hub.network.stats()['test/each/1']?.sent ?? 0
  const missing: string[] = []
  const prepared = hub.network.prepare(NOTE, { n: 1 })
  const n = hub.network.sendEachIfConnected([x.id, far.id, y.id, hub.id], prepared, hub.id, (id) => {
    // What sendIfConnected's sends would show: the one before has left when this microtask runs, the one after not yet.
    queueMicrotask(() => missing.push(`${id === far.id ? 'far' : id} after ${sent()} sent`))
  })
  t.is(n, 2)
  t.is(sent(), 0, 'counted when they leave, on a microtask')
  await hub.network.request(x.id, HELD_ECHO, { n: 0 })
  await hub.network.request(y.id, HELD_ECHO, { n: 0 })
  t.deepEqual(missing, ['far after 1 sent'])
  t.deepEqual(got.sort(), ['x:1', 'y:1'])
  t.is(sent(), 2)
  t.false(hub.network.isConnected(far.id), 'nothing was dialed')
  await hub.stop()
  const gone: string[] = []
  t.is(
    hub.network.sendEachIfConnected([x.id, y.id], prepared, undefined, (id) => gone.push(id)),
    0,
    'stopped',
  )
  t.deepEqual(gone, [x.id, y.id])
})

test('a handler is called on the self it was given', async (t) => {
  const { peers } = await notePeers(t, 'self', ['a', 'b'])
  const [a, b] = peers as [(typeof peers)[0], (typeof peers)[0]]
  const owner = {
    n: 7,
    answer(this: { n: number }) {
      return { n: this.n }
    },
  }
  a.network.handle(HELD, owner.answer, owner)
  t.deepEqual(await b.network.request({ id: a.id, addresses: ['stub://self-a'] }, HELD, { n: 0 }), { n: 7 })
})

test("what a handler keeps in its context's memo stays with the connection until the peer's addresses change", async (t) => {
  const { peers } = await notePeers(t, 'memo', ['a', 'b'])
  const [a, b] = peers as [(typeof peers)[0], (typeof peers)[0]]
  const memos: unknown[] = []
  let kept = 0
  a.network.handle(HELD, (_, ctx) => {
    memos.push(ctx.memo)
    ctx.memo ??= ++kept
    return { n: kept }
  })
  const ask = () => b.network.request({ id: a.id, addresses: ['stub://memo-a'] }, HELD, { n: 0 })
  await ask()
  await ask()
  a.network.learn({ id: b.id, addresses: ['stub://moved-b'] })
  await ask()
  await ask()
  t.deepEqual(memos, [undefined, 1, undefined, 2], 'kept between messages; a new context after new addresses')
})
