import { getEventListeners } from 'node:events'
import { type Connection, Identity, SeededRandom } from '@peerkit/core'
import test from 'ava'
import { MemoryNetwork, type MemoryTransport } from '../src/index.js'
import { connect, node, record } from './helpers/pairs.js'
import { makeTransport } from './helpers/transports.js'
import { VirtualClock } from './helpers/virtual-clock.js'

const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill)

test('latency: a dial takes one round trip, the listener sees it half a trip later, messages take one way', async (t) => {
  const clock = new VirtualClock()
  const hub = new MemoryNetwork({ latency: 10 })
  const a = await node(hub, clock, 'a')
  const b = await node(hub, clock, 'b')
  const dial = a.transport.dial(b.address)
  const out = await clock.settle(dial)
  t.is(clock.now(), 20)
  t.is(b.inbound.length, 0)
  await clock.until(() => b.inbound.length === 1)
  t.is(clock.now(), 30)
  const got = record(b.inbound[0] as Connection, clock)
  await out.send(bytes(10))
  await clock.until(() => got.length === 1)
  t.is(got[0]?.at, 40)
})

test('latency 0 delivers on microtasks, with no clock timer', async (t) => {
  const clock = new VirtualClock()
  const hub = new MemoryNetwork()
  const a = await node(hub, clock, 'a')
  const b = await node(hub, clock, 'b')
  const pair = await connect(clock, a, b)
  const got = record(pair.in, clock)
  for (let i = 0; i < 100; i++) await pair.out.send(bytes(100, i))
  t.is(clock.pending, 0)
  await new Promise((r) => setImmediate(r))
  t.is(got.length, 100)
  t.deepEqual(
    got.map((m) => m.data[0]),
    Array.from({ length: 100 }, (_, i) => i),
  )
  t.is(clock.now(), 0)
})

test('latency can be a function of the two names, and changed at runtime', async (t) => {
  const clock = new VirtualClock()
  const hub = new MemoryNetwork({ latency: (from, to) => (from === 'a' && to === 'b' ? 30 : 5) })
  const a = await node(hub, clock, 'a')
  const b = await node(hub, clock, 'b')
  const pair = await connect(clock, a, b)
  const there = record(pair.in, clock)
  const back = record(pair.out, clock)
  const t0 = clock.now()
  await pair.out.send(bytes(1))
  await pair.in.send(bytes(1))
  await clock.until(() => there.length === 1 && back.length === 1)
  t.is(back[0]?.at, t0 + 5)
  t.is(there[0]?.at, t0 + 30)
  hub.setLatency(50)
  const t1 = clock.now()
  await pair.out.send(bytes(1))
  await clock.until(() => there.length === 2)
  t.is(there[1]?.at, t1 + 50)
})

test('random latency (exponential, from the injected Random) never reorders messages', async (t) => {
  const clock = new VirtualClock()
  const hub = new MemoryNetwork({ latency: { mean: 20 } })
  const a = await node(hub, clock, 'a')
  const b = await node(hub, clock, 'b')
  const pair = await connect(clock, a, b)
  const got = record(pair.in, clock)
  const sentAt: number[] = []
  for (let i = 0; i < 200; i++) {
    sentAt.push(clock.now())
    await pair.out.send(bytes(4, i % 256))
    await clock.advance(1)
  }
  await clock.until(() => got.length === 200)
  t.deepEqual(
    got.map((m) => m.data[0]),
    Array.from({ length: 200 }, (_, i) => i % 256),
  )
  for (let i = 1; i < got.length; i++) t.true((got[i]?.at ?? 0) >= (got[i - 1]?.at ?? 0))
  for (let i = 0; i < got.length; i++) t.true((got[i]?.at ?? 0) >= (sentAt[i] ?? 0))
  // The draws themselves are exponential with the given mean.
  const random = new SeededRandom(11)
  const draws = Array.from({ length: 5000 }, () => hub.latency('a', 'b', random))
  const mean = draws.reduce((s, d) => s + d, 0) / draws.length
  t.true(mean > 18 && mean < 22, `mean draw ${mean} ms`)
  t.true(draws.every((d) => d >= 0))
})

test('bandwidth: a message occupies the link size/bandwidth seconds and the next queues behind it', async (t) => {
  const clock = new VirtualClock()
  const hub = new MemoryNetwork({ latency: 5, bandwidth: 1_000_000 })
  const a = await node(hub, clock, 'a')
  const b = await node(hub, clock, 'b')
  const pair = await connect(clock, a, b)
  const got = record(pair.in, clock)
  const t0 = clock.now()
  await Promise.all([
    pair.out.send(bytes(100_000)),
    pair.out.send(bytes(100_000)),
    pair.out.send(bytes(100_000)),
  ])
  await clock.until(() => got.length === 3)
  t.deepEqual(
    got.map((m) => m.at - t0),
    [105, 205, 305],
  )
})

test('backpressure: with bandwidth, send resolves when the bytes are on the wire; the buffer stays bounded', async (t) => {
  const clock = new VirtualClock()
  const hub = new MemoryNetwork({ bandwidth: 1_000_000 })
  const a = await node(hub, clock, 'a', { sendBufferSize: 150_000 })
  const b = await node(hub, clock, 'b')
  const pair = await connect(clock, a, b)
  const t0 = clock.now()
  const resolvedAt: number[] = []
  let maxBuffered = 0
  const writer = (async () => {
    for (let i = 0; i < 10; i++) {
      await pair.out.send(bytes(100_000))
      resolvedAt.push(clock.now() - t0)
      maxBuffered = Math.max(maxBuffered, (pair.out as unknown as { bufferedBytes: number }).bufferedBytes)
    }
  })()
  await clock.settle(writer)
  // Room for one 100 kB message beside a departing one: each send waits for the one before last to leave.
  t.deepEqual(resolvedAt, [0, 100, 200, 300, 400, 500, 600, 700, 800, 900])
  t.true(maxBuffered <= 200_000, `at most ${maxBuffered} bytes queued`)
})

test('a send waiting for room can be aborted, and the message is not sent', async (t) => {
  const clock = new VirtualClock()
  const hub = new MemoryNetwork({ bandwidth: 1000 })
  const a = await node(hub, clock, 'a', { sendBufferSize: 100 })
  const b = await node(hub, clock, 'b')
  const pair = await connect(clock, a, b)
  const got = record(pair.in, clock)
  await pair.out.send(bytes(100, 1))
  const ac = new AbortController()
  const waiting = pair.out.send(bytes(100, 2), { signal: ac.signal })
  ac.abort()
  await t.throwsAsync(waiting, { name: 'AbortError' })
  await clock.settle(pair.out.send(bytes(100, 3)))
  await clock.until(() => got.length === 2)
  t.deepEqual(
    got.map((m) => m.data[0]),
    [1, 3],
  )
})

test('many sends waiting for room on one signal put one listener on it and leave none', async (t) => {
  const warnings: string[] = []
  const onWarning = (w: Error) => {
    if (w.name === 'MaxListenersExceededWarning') warnings.push(w.message)
  }
  process.on('warning', onWarning)
  t.teardown(() => process.off('warning', onWarning))
  const clock = new VirtualClock()
  const hub = new MemoryNetwork({ bandwidth: 1000 })
  const a = await node(hub, clock, 'a', { sendBufferSize: 100 })
  const b = await node(hub, clock, 'b')
  const pair = await connect(clock, a, b)
  const got = record(pair.in, clock)
  await pair.out.send(bytes(100, 0))
  // 50 sends wait for room and are sent; 50 more wait and are aborted.
  const kept = new AbortController()
  const sent = Array.from({ length: 50 }, (_, i) => pair.out.send(bytes(100, i + 1), { signal: kept.signal }))
  t.is(getEventListeners(kept.signal, 'abort').length, 1)
  await clock.settle(Promise.all(sent))
  t.is(getEventListeners(kept.signal, 'abort').length, 0, 'every delivered send took its callback off')
  const dropped = new AbortController()
  const aborted = Array.from({ length: 50 }, () => pair.out.send(bytes(100, 99), { signal: dropped.signal }))
  t.is(getEventListeners(dropped.signal, 'abort').length, 1)
  dropped.abort()
  for (const p of aborted) await t.throwsAsync(p, { name: 'AbortError' })
  t.is(getEventListeners(dropped.signal, 'abort').length, 0)
  await clock.until(() => got.length === 51)
  t.false(
    got.some((m) => m.data[0] === 99),
    'no aborted send was delivered',
  )
  await new Promise((r) => setImmediate(r)) // process warnings are emitted on a later tick
  t.deepEqual(warnings, [])
})

test('bandwidth makes a multi-source transfer faster than a single source', async (t) => {
  const clock = new VirtualClock()
  const hub = new MemoryNetwork({ latency: 10, bandwidth: 1_000_000 })
  const downloader = await node(hub, clock, 'downloader')
  const sources = [await node(hub, clock, 's1'), await node(hub, clock, 's2'), await node(hub, clock, 's3')]
  const chunk = 64 * 1024
  const total = 48 // chunks of the whole file
  async function fetch(from: typeof sources): Promise<number> {
    const start = clock.now()
    let received = 0
    const links = []
    for (const s of from) {
      const pair = await connect(clock, s, downloader)
      pair.in.on('message', () => received++)
      links.push(pair.out)
    }
    const t0 = clock.now()
    const writers = links.map(async (out, i) => {
      for (let c = i; c < total; c += links.length) await out.send(bytes(chunk))
    })
    await clock.settle(Promise.all(writers))
    await clock.until(() => received === total)
    t.true(t0 >= start)
    return clock.now() - t0
  }
  const one = await fetch(sources.slice(0, 1))
  const three = await fetch(sources)
  t.log(`1 source: ${one} ms, 3 sources: ${three} ms`)
  t.true(Math.abs(one - (total * chunk) / 1000 - 10) < 1)
  t.true(one / three > 2.8, `speed-up ${one / three}`)
})

test('loss drops messages at the given rate (seeded), never reorders, and counts them', async (t) => {
  const clock = new VirtualClock()
  const hub = new MemoryNetwork({ loss: 0.3 })
  const a = await node(hub, clock, 'a', {}, 42)
  const b = await node(hub, clock, 'b')
  const pair = await connect(clock, a, b)
  const got = record(pair.in, clock)
  for (let i = 0; i < 1000; i++) {
    const m = new Uint8Array(4)
    new DataView(m.buffer).setUint32(0, i)
    await pair.out.send(m)
  }
  await clock.advance(1)
  t.true(got.length > 620 && got.length < 780, `${got.length} of 1000 arrived`)
  const seq = got.map((m) => new DataView(m.data.buffer, m.data.byteOffset).getUint32(0))
  for (let i = 1; i < seq.length; i++) t.true((seq[i] ?? 0) > (seq[i - 1] ?? 0))
  t.is(hub.stats().lost, 1000 - got.length)
  t.false(pair.out.closed)
  hub.setLoss(0)
  await pair.out.send(bytes(1))
  await clock.until(() => got.length === seq.length + 1)
  t.pass()
})

test("a message draws its latency, then its loss, from the sender's Random, as MemoryNetwork.link does", async (t) => {
  const clock = new VirtualClock()
  const options = { latency: { mean: 20 }, loss: 0.4 }
  const hub = new MemoryNetwork(options)
  // The sender's draws go through `drawn`, so a second stream can be brought to the same point.
  const drawn: number[] = []
  const source = new SeededRandom(3)
  const random = {
    next: () => {
      drawn.push(0)
      return source.next()
    },
    int: (n: number) => {
      drawn.push(n)
      return source.int(n)
    },
    bytes: (n: number) => {
      drawn.push(-n)
      return source.bytes(n)
    },
    fork: () => source.fork(),
  }
  const a = makeTransport(hub, { clock, random, authenticate: false })
  await a.listen('memory://a')
  const b = await node(hub, clock, 'b', { authenticate: false })
  const out = await clock.settle(a.dial(b.address))
  await clock.until(() => b.inbound.length === 1)
  const got = record(b.inbound[0] as Connection, clock)
  const reference = new SeededRandom(3)
  for (const d of drawn) d === 0 ? reference.next() : d > 0 ? reference.int(d) : reference.bytes(-d)
  const t0 = clock.now()
  const expected: Array<{ at: number; i: number }> = []
  let arrival = 0
  const model = new MemoryNetwork(options)
  for (let i = 0; i < 200; i++) {
    const link = model.link('a', 'b', reference, 1, false)
    arrival = Math.max(arrival, t0 + link.latency)
    if (!link.lost) expected.push({ at: Math.ceil(arrival), i })
    await out.send(new Uint8Array([i]))
  }
  await clock.advance(10_000)
  t.deepEqual(
    got.map((m) => ({ at: m.at, i: m.data[0] })),
    expected,
  )
  t.true(expected.length > 90 && expected.length < 150, `${expected.length} of 200 arrive`)
  t.deepEqual(hub.stats(), model.stats())
})

test('partition: dials across fail, messages across are dropped, others flow; heal restores', async (t) => {
  const clock = new VirtualClock()
  const hub = new MemoryNetwork({ latency: 1 })
  const a = await node(hub, clock, 'a')
  const b = await node(hub, clock, 'b')
  const c = await node(hub, clock, 'c')
  const ab = await connect(clock, a, b)
  const ac = await connect(clock, a, c)
  const atB = record(ab.in, clock)
  const atC = record(ac.in, clock)
  hub.partition(['a'], ['b'])
  t.true(hub.isPartitioned('b', 'a'))
  await t.throwsAsync(clock.settle(a.transport.dial(b.address)), { name: 'PeerUnreachableError' })
  await t.throwsAsync(clock.settle(b.transport.dial(a.address)), { name: 'PeerUnreachableError' })
  await ab.out.send(bytes(1, 1))
  await ac.out.send(bytes(1, 2))
  await clock.advance(10)
  t.is(atB.length, 0)
  t.is(atC.length, 1)
  t.false(ab.out.closed)
  t.is(hub.stats().blocked, 1)
  hub.heal()
  await ab.out.send(bytes(1, 3))
  await clock.until(() => atB.length === 1)
  t.is(atB[0]?.data[0], 3)
  const again = await connect(clock, a, b)
  t.is(again.out.remotePeer, b.transport.identity.peerId)
})

test('a close lost to a partition is found out by the next send after heal (reset)', async (t) => {
  const clock = new VirtualClock()
  const hub = new MemoryNetwork({ latency: 3 })
  const a = await node(hub, clock, 'a')
  const b = await node(hub, clock, 'b')
  const pair = await connect(clock, a, b)
  hub.partition(['a'], ['b'])
  await pair.out.close()
  await clock.advance(20)
  t.false(pair.in.closed, 'the close did not cross the partition')
  hub.heal()
  let reason: Error | undefined
  pair.in.on('close', (err) => {
    reason = err
  })
  await pair.in.send(bytes(1))
  await clock.until(() => pair.in.closed)
  t.is(reason?.name, 'PeerUnreachableError')
})

test('kill: the node vanishes; its own ends close at once, the far ends one latency later', async (t) => {
  const clock = new VirtualClock()
  const hub = new MemoryNetwork({ latency: 10 })
  const a = await node(hub, clock, 'a')
  const b = await node(hub, clock, 'b')
  const pair = await connect(clock, a, b)
  const closes: Array<{ side: string; at: number; err?: string }> = []
  pair.out.on('close', (err) => closes.push({ side: 'a', at: clock.now(), err: err?.name }))
  pair.in.on('close', (err) => closes.push({ side: 'b', at: clock.now(), err: err?.name }))
  const t0 = clock.now()
  t.true(hub.kill('b'))
  t.false(hub.kill('b'))
  t.false(hub.has('b'))
  t.true(b.transport.killed)
  await clock.until(() => closes.length === 2)
  t.deepEqual(closes, [
    { side: 'b', at: t0, err: 'PeerUnreachableError' },
    { side: 'a', at: t0 + 10, err: 'PeerUnreachableError' },
  ])
  await t.throwsAsync(clock.settle(a.transport.dial(b.address)), { name: 'PeerUnreachableError' })
  await t.throwsAsync(b.transport.dial(a.address), { name: 'PeerUnreachableError' })
  await t.throwsAsync(b.transport.listen('memory://b2'), { name: 'PeerUnreachableError' })
})

test('a frame larger than the receiver accepts closes the connection with ProtocolError', async (t) => {
  const clock = new VirtualClock()
  const hub = new MemoryNetwork()
  const a = await node(hub, clock, 'a')
  const b = await node(hub, clock, 'b', { maxMessageSize: 1000 })
  const pair = await connect(clock, a, b)
  const errors: string[] = []
  pair.in.on('error', (err) => errors.push(err.name))
  let closedWith: Error | undefined
  pair.in.on('close', (err) => {
    closedWith = err
  })
  await pair.out.send(bytes(1000))
  await pair.out.send(bytes(1001))
  await clock.until(() => pair.out.closed)
  t.deepEqual(errors, ['ProtocolError'])
  t.is(closedWith?.name, 'ProtocolError')
  t.regex(closedWith?.message ?? '', /1001 bytes/)
})

test('close delivers what was sent before it, behind the bandwidth queue', async (t) => {
  const clock = new VirtualClock()
  const hub = new MemoryNetwork({ bandwidth: 10_000 })
  const a = await node(hub, clock, 'a')
  const b = await node(hub, clock, 'b')
  const pair = await connect(clock, a, b)
  const got = record(pair.in, clock)
  let closedAt = -1
  pair.in.on('close', () => {
    closedAt = clock.now()
  })
  const t0 = clock.now()
  void pair.out.send(bytes(1000))
  void pair.out.send(bytes(1000))
  await pair.out.close()
  await clock.until(() => closedAt >= 0)
  t.deepEqual(
    got.map((m) => m.at - t0),
    [100, 200],
  )
  t.is(closedAt - t0, 200)
})

test('names: wildcards pick fresh names, a taken name is refused, a closed one is free again', async (t) => {
  const hub = new MemoryNetwork()
  const x = makeTransport(hub)
  const l1 = await x.listen('memory://')
  const l2 = await x.listen('memory://*')
  const l3 = await x.listen('memory://0')
  const names = [l1, l2, l3].map((l) => l.addresses()[0])
  t.is(new Set(names).size, 3)
  for (const n of names) t.regex(n ?? '', /^memory:\/\/node-\d+$/)
  await x.listen('memory://taken')
  await t.throwsAsync(makeTransport(hub).listen('memory://taken'), { name: 'InvalidOptionsError' })
  await t.throwsAsync(x.listen('tcp://127.0.0.1:0'), { name: 'InvalidOptionsError' })
  await t.throwsAsync(x.dial('memory://*'), { name: 'InvalidOptionsError' })
  await l1.close()
  t.false(hub.has((names[0] ?? '').slice('memory://'.length)))
  t.true(x.handles('memory://a'))
  t.false(x.handles('tcp://127.0.0.1:1'))
  await x.close()
  t.deepEqual(hub.names(), [])
})

test('authenticate: false trusts the hub, and still checks the expected PeerId', async (t) => {
  const clock = new VirtualClock()
  const hub = new MemoryNetwork()
  const a = await node(hub, clock, 'a', { authenticate: false })
  const b = await node(hub, clock, 'b', { authenticate: false })
  const pair = await connect(clock, a, b)
  t.is(pair.out.remotePeer, b.transport.identity.peerId)
  t.is(pair.in.remotePeer, a.transport.identity.peerId)
  await t.throwsAsync(clock.settle(a.transport.dial(b.address, { peer: Identity.generate().peerId })), {
    name: 'AuthenticationError',
  })
})

test('two thousand peers in a ring, on one hub', async (t) => {
  const clock = new VirtualClock()
  const hub = new MemoryNetwork()
  const n = 2000
  const random = new SeededRandom(3)
  const before = process.memoryUsage().heapUsed
  const nodes = []
  for (let i = 0; i < n; i++) {
    const transport = makeTransport(hub, { clock, random: random.fork(), authenticate: false })
    await transport.listen(`memory://p${i}`)
    nodes.push(transport)
  }
  let received = 0
  const conns = await clock.settle(Promise.all(nodes.map((tr, i) => tr.dial(`memory://p${(i + 1) % n}`))))
  for (const tr of nodes) t.is(tr.connectionCount, 2)
  const all = conns.map((c) => {
    c.on('message', () => received++)
    return c
  })
  t.is(all.length, n)
  const perConnection = (process.memoryUsage().heapUsed - before) / n
  t.log(`about ${Math.round(perConnection / 1024)} KiB of heap per peer with one connection each way`)
  await clock.settle(Promise.all(conns.map((c) => c.send(bytes(16)))))
  await clock.until(() => hub.stats().messages === n)
  t.is(hub.stats().messages, n)
  t.is(received, 0, 'the messages went to the inbound ends')
})

test('the same seeds give the same timeline: latency, loss and bandwidth draws are reproducible', async (t) => {
  async function run(seed: number): Promise<string[]> {
    const clock = new VirtualClock()
    const hub = new MemoryNetwork({ latency: { mean: 15 }, loss: 0.1, bandwidth: 2_000_000 })
    const nodes = []
    for (let i = 0; i < 6; i++) nodes.push(await node(hub, clock, `n${i}`, { authenticate: false }, seed + i))
    const timeline: string[] = []
    const pairs = []
    for (let i = 0; i < nodes.length; i++) {
      const from = nodes[i] as (typeof nodes)[number]
      const to = nodes[(i + 1) % nodes.length] as (typeof nodes)[number]
      pairs.push(await connect(clock, from, to))
    }
    pairs.forEach((p, i) => {
      p.in.on('message', (m) => timeline.push(`${clock.now().toFixed(3)} ${i} ${m.byteLength}`))
    })
    await clock.settle(
      Promise.all(
        pairs.map(async (p, i) => {
          for (let k = 0; k < 20; k++) await p.out.send(new Uint8Array(1000 + 100 * i + k))
        }),
      ),
    )
    await clock.advance(1000)
    return timeline
  }
  const first = await run(1)
  const again = await run(1)
  const other = await run(2)
  t.true(first.length > 80 && first.length < 120, `${first.length} of 120 arrived`)
  t.deepEqual(again, first)
  t.notDeepEqual(other, first)
})

test('a thousand peers exchanging messages over random latency on a virtual clock', async (t) => {
  const clock = new VirtualClock()
  const hub = new MemoryNetwork({ latency: { min: 5, max: 50 } })
  const n = 1000
  const random = new SeededRandom(9)
  const transports: Array<{ tr: MemoryTransport; received: () => number }> = []
  for (let i = 0; i < n; i++) {
    const tr = makeTransport(hub, { clock, random: random.fork(), authenticate: false })
    const l = await tr.listen(`memory://q${i}`)
    let got = 0
    l.on('connection', (c) => c.on('message', () => got++))
    transports.push({ tr, received: () => got })
  }
  const conns = await clock.settle(
    Promise.all(transports.map(({ tr }, i) => tr.dial(`memory://q${(i * 7 + 1) % n}`))),
  )
  await clock.settle(Promise.all(conns.flatMap((c) => [1, 2, 3].map(() => c.send(new Uint8Array(64))))))
  const took = await clock.until(() => transports.reduce((s, x) => s + x.received(), 0) === 3 * n)
  t.true(took <= 50, `all delivered within the largest latency (${took} virtual ms)`)
  t.is(hub.stats().messages, 3 * n)
})
