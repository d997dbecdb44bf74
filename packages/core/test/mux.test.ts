import test from 'ava'
import { z } from 'zod'
import { defineProtocol } from '../src/index.js'
import { encode, Kind, Mux } from '../src/wire/index.js'
import { ManualClock } from './helpers/manual-clock.js'
import { connectionPair } from './helpers/pair.js'

const ECHO = defineProtocol(
  'peerkit/test-echo/1',
  z.object({ text: z.string() }),
  z.object({ text: z.string() }),
)
function pair() {
  // Virtual time: a timeout fires only when a test advances the clock.
  const clock = new ManualClock()
  const [a, b] = connectionPair('peer-b', 'peer-a')
  const ma = new Mux(a, clock)
  const mb = new Mux(b, clock)
  mb.on('request', (_protocol, body, reply) => {
    const text = (body as { text: string }).text
    if (text === 'fail') reply.fail(new Error('secret internals'))
    else if (text === 'bad') reply.respond({ wrong: 1 })
    else if (text !== 'silent') reply.respond({ text: text.toUpperCase() })
  })
  return { a, b, ma, mb, clock }
}

test('requests are matched to their responses by id, many at once', async (t) => {
  const { ma } = pair()
  const words = Array.from({ length: 50 }, (_, i) => `w${i}`)
  const answers = await Promise.all(words.map((text) => ma.request(ECHO, { text }, { timeout: 2000 })))
  t.deepEqual(
    answers.map((r) => r.text),
    words.map((w) => w.toUpperCase()),
  )
  t.is(ma.inFlight, 0)
})

test('a handler failure that is not a peerkit error reveals nothing', async (t) => {
  const { ma } = pair()
  const err = await t.throwsAsync(ma.request(ECHO, { text: 'fail' }, { timeout: 2000 }))
  t.is(err?.name, 'InternalError')
  t.notRegex(err?.message ?? '', /secret/)
})

test('a response that fails its schema is a ProtocolError and closes the connection', async (t) => {
  const { ma, a } = pair()
  await t.throwsAsync(ma.request(ECHO, { text: 'bad' }, { timeout: 2000 }), { name: 'ProtocolError' })
  t.true(a.closed)
})

test('an unanswered request times out at its timeout on the clock, and is forgotten', async (t) => {
  const { ma, clock } = pair()
  let outcome = 'waiting'
  const p = ma.request(ECHO, { text: 'silent' }, { timeout: 30 }).catch((err: Error) => {
    outcome = err.name
  })
  await clock.advance(29)
  t.is(outcome, 'waiting', '29 virtual ms in')
  t.is(ma.inFlight, 1)
  await clock.advance(1)
  await p
  t.is(outcome, 'TimeoutError')
  t.is(ma.inFlight, 0)
})

test('requests answered out of order, some timing out, leave nothing behind; the rest fail in the order sent on close', async (t) => {
  const clock = new ManualClock()
  const [a, b] = connectionPair('peer-b', 'peer-a')
  const ma = new Mux(a, clock)
  const mb = new Mux(b, clock)
  const held = new Map<string, () => void>()
  mb.on('request', (_protocol, body, reply) => {
    const text = (body as { text: string }).text
    held.set(text, () => reply.respond({ text: text.toUpperCase() }))
  })
  const settle = () => new Promise((resolve) => setImmediate(resolve))
  const outcome: string[] = []
  const ask = (text: string, timeout: number) =>
    ma.request(ECHO, { text }, { timeout }).then(
      (r) => outcome.push(r.text),
      (err: Error) => outcome.push(`${text}:${err.name}`),
    )
  const done = [ask('a', 5000), ask('b', 5000), ask('c', 10), ask('d', 5000)]
  await settle()
  t.is(ma.inFlight, 4)
  held.get('b')?.() // a newer one first, then the oldest
  held.get('a')?.()
  await settle()
  t.deepEqual(outcome, ['B', 'A'])
  t.is(ma.inFlight, 2)
  await clock.advance(10)
  await settle()
  t.deepEqual(outcome, ['B', 'A', 'c:TimeoutError'])
  held.get('c')?.() // after its timeout: dropped
  t.is(ma.inFlight, 1)
  const e = ask('e', 5000)
  await settle()
  t.is(ma.inFlight, 2)
  await b.close()
  await Promise.all([...done, e])
  t.deepEqual(outcome.slice(3), ['d:PeerUnreachableError', 'e:PeerUnreachableError'], 'the order sent')
  t.is(ma.inFlight, 0)
})

test('an aborted request rejects with AbortError', async (t) => {
  const { ma } = pair()
  const ac = new AbortController()
  const p = ma.request(ECHO, { text: 'silent' }, { signal: ac.signal })
  ac.abort()
  await t.throwsAsync(p, { name: 'AbortError' })
})

test('pending requests fail with PeerUnreachableError when the connection closes', async (t) => {
  const { ma, b } = pair()
  const p = ma.request(ECHO, { text: 'silent' }, { timeout: 5000 })
  await b.close()
  await t.throwsAsync(p, { name: 'PeerUnreachableError' })
})

for (const [what, frame] of [
  ['bytes that are not msgpack', new Uint8Array([0xc1, 0xc1])],
  ['an unknown envelope kind', encode([9, 1, 'x'])],
  ['a request without a protocol', encode([Kind.Request, 1])],
  ['a negative request id', encode([Kind.Response, -1, null])],
] as const) {
  test(`${what} closes the connection with a ProtocolError`, async (t) => {
    const { a, b } = pair()
    const closed = new Promise<Error | undefined>((resolve) => b.once('close', resolve))
    a.inject(frame)
    const err = await closed
    t.is(err?.name, 'ProtocolError')
  })
}
