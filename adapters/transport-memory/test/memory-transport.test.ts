import { getEventListeners } from 'node:events'
import { type Connection, Identity, RealClock, SeededRandom } from '@peerkit/core'
import test from 'ava'
import { MemoryNetwork, MemoryTransport, parseMemoryTransportOptions, rawSend } from '../src/index.js'
import { connect, node, record } from './helpers/pairs.js'
import { makeTransport } from './helpers/transports.js'
import { VirtualClock } from './helpers/virtual-clock.js'

test('an aborted dial mid-handshake leaves no timer and no connection behind', async (t) => {
  const clock = new VirtualClock()
  const hub = new MemoryNetwork({ latency: 10 })
  const a = await node(hub, clock, 'a')
  const b = await node(hub, clock, 'b')
  const ac = new AbortController()
  const dial = a.transport.dial(b.address, { signal: ac.signal })
  dial.catch(() => {}) // handled until the test awaits it with throwsAsync below
  await clock.advance(15) // the dial reached b; its answer is on the way
  ac.abort()
  await t.throwsAsync(dial, { name: 'AbortError' })
  t.is(clock.pending, 0)
  await clock.advance(100)
  t.is(b.inbound.length, 0)
  t.is(a.transport.connectionCount, 0)
})

test('many dials on one signal put one listener on it and leave none', async (t) => {
  const clock = new VirtualClock()
  const hub = new MemoryNetwork({ latency: 10 })
  const a = await node(hub, clock, 'a')
  const targets = [] as Awaited<ReturnType<typeof node>>[]
  for (let i = 0; i < 30; i++) targets.push(await node(hub, clock, `b${i}`))
  const kept = new AbortController()
  const dials = targets.map((b) => a.transport.dial(b.address, { signal: kept.signal }))
  t.is(getEventListeners(kept.signal, 'abort').length, 1)
  const conns = await clock.settle(Promise.all(dials))
  t.is(conns.length, 30)
  t.is(getEventListeners(kept.signal, 'abort').length, 0, 'every dial that connected took its callback off')
  const dropped = new AbortController()
  const aborted = targets.map((b) => a.transport.dial(b.address, { signal: dropped.signal }))
  t.is(getEventListeners(dropped.signal, 'abort').length, 1)
  dropped.abort()
  for (const p of aborted) await t.throwsAsync(p, { name: 'AbortError' })
  t.is(getEventListeners(dropped.signal, 'abort').length, 0)
})

test('transport.close() fails its pending dials with PeerUnreachableError', async (t) => {
  const clock = new VirtualClock()
  const hub = new MemoryNetwork({ latency: 10 })
  const a = await node(hub, clock, 'a')
  const b = await node(hub, clock, 'b')
  const dial = a.transport.dial(b.address)
  dial.catch(() => {}) // handled until the test awaits it with throwsAsync below
  await clock.advance(5)
  await a.transport.close()
  await t.throwsAsync(dial, { name: 'PeerUnreachableError' })
  t.deepEqual(hub.names(), ['b'])
})

test('the listener hands out a connection only once the dialer proved its PeerId', async (t) => {
  const clock = new VirtualClock()
  const hub = new MemoryNetwork({ latency: 10 })
  const a = await node(hub, clock, 'a')
  const b = await node(hub, clock, 'b')
  const out = await clock.settle(a.transport.dial(b.address))
  t.is(b.inbound.length, 0)
  t.is(b.transport.connectionCount, 1, 'the inbound end exists, waiting for the proof')
  const got: number[] = []
  await out.send(new Uint8Array([1]))
  await clock.until(() => b.inbound.length === 1)
  ;(b.inbound[0] as Connection).on('message', (m) => got.push(m[0] ?? -1))
  await clock.advance(1)
  t.deepEqual(got, [1], 'data sent before the proof arrived is delivered after it')
})

test('messages that arrive before any listener are held and handed over in order', async (t) => {
  const clock = new VirtualClock()
  const hub = new MemoryNetwork()
  const a = await node(hub, clock, 'a')
  const b = await node(hub, clock, 'b')
  const pair = await connect(clock, a, b)
  for (let i = 0; i < 5; i++) await pair.out.send(new Uint8Array([i]))
  await clock.advance(1)
  const got = record(pair.in, clock)
  await clock.advance(1)
  t.deepEqual(
    got.map((m) => m.data[0]),
    [0, 1, 2, 3, 4],
  )
  await pair.out.send(new Uint8Array([5]))
  await clock.advance(1)
  t.is(got.length, 6)
})

test('the receiver gets its own copy; mutating it touches nothing else', async (t) => {
  const clock = new VirtualClock()
  const hub = new MemoryNetwork()
  const a = await node(hub, clock, 'a')
  const b = await node(hub, clock, 'b')
  const pair = await connect(clock, a, b)
  const got = record(pair.in, clock)
  const data = new Uint8Array([1, 2, 3])
  await pair.out.send(data)
  data[0] = 9
  await clock.advance(1)
  t.deepEqual([...(got[0]?.data ?? [])], [1, 2, 3])
  t.not(got[0]?.data.buffer, data.buffer)
  // A Node Buffer's own slice() is a view of the same memory: the copy must not use it.
  const buffer = Buffer.from([4, 5, 6])
  await pair.out.send(buffer)
  buffer[0] = 9
  await clock.advance(1)
  t.deepEqual([...(got[1]?.data ?? [])], [4, 5, 6], 'a Buffer the sender changes after send arrives as sent')
  // Both may come from Node's Buffer pool (one ArrayBuffer): what matters is that their bytes do not overlap.
  t.true(disjoint(got[1]?.data, buffer), 'the copy shares no byte with the sent Buffer')
})

/** Whether two views share no byte of memory. */
function disjoint(a: Uint8Array | undefined, b: Uint8Array): boolean {
  if (a === undefined) return false
  if (a.buffer !== b.buffer) return true
  return a.byteOffset + a.byteLength <= b.byteOffset || b.byteOffset + b.byteLength <= a.byteOffset
}

test('a malformed frame closes the receiving end with ProtocolError, the sending end cleanly', async (t) => {
  const clock = new VirtualClock()
  const hub = new MemoryNetwork({ latency: 5 })
  const a = await node(hub, clock, 'a')
  const b = await node(hub, clock, 'b')
  const pair = await connect(clock, a, b)
  const closes: Array<[string, string | undefined]> = []
  pair.in.on('close', (err) => closes.push(['in', err?.name]))
  pair.out.on('close', (err) => closes.push(['out', err?.name]))
  rawSend(pair.out, 'garbage')
  await clock.until(() => closes.length === 2)
  t.deepEqual(closes, [
    ['in', 'ProtocolError'],
    ['out', undefined],
  ])
})

test('rawSend refuses connections of other transports', (t) => {
  t.throws(() => rawSend({} as Connection, new Uint8Array(1)), { instanceOf: TypeError })
})

test('the transport can be built by hand, as its container would', async (t) => {
  const hub = new MemoryNetwork()
  const id = Identity.generate()
  const tr = new MemoryTransport(id, new RealClock(), new SeededRandom(1), hub, parseMemoryTransportOptions())
  t.is(tr.name, 'memory')
  t.is(String(tr), '[object @peerkit/transport-memory]')
  const listener = await tr.listen('memory://by-hand')
  t.deepEqual(listener.addresses(), ['memory://by-hand'])
  t.is(tr.nodeName, 'by-hand')
  const other = makeTransport(hub)
  const conn = await other.dial('memory://by-hand', { peer: id.peerId })
  t.is(conn.remotePeer, id.peerId)
  t.regex(other.nodeName, /^anon-\d+$/)
  await tr.dispose()
  t.false(hub.has('by-hand'))
})

test('a node is named by its first open listener, then by the next, then anon-N', async (t) => {
  const hub = new MemoryNetwork()
  const tr = makeTransport(hub)
  const first = await tr.listen('memory://first')
  const second = await tr.listen('memory://second')
  t.is(tr.nodeName, 'first')
  await first.close()
  t.is(tr.nodeName, 'second')
  const third = await tr.listen('memory://third')
  t.is(tr.nodeName, 'second')
  await second.close()
  t.is(tr.nodeName, 'third')
  await third.close()
  t.regex(tr.nodeName, /^anon-\d+$/)
  const again = tr.nodeName
  await tr.listen('memory://fourth')
  t.is(tr.nodeName, 'fourth')
  await tr.close()
  t.is(tr.nodeName, again)
})
