import { every, SeededRandom, withTimeout } from '@peerkit/core'
import test from 'ava'
import { TimerHeap, VirtualClock } from '../src/index.js'
import { type Timer, TimerQueue } from '../src/timer-heap.js'

test('timers fire in time order, ties in insertion order', async (t) => {
  const clock = new VirtualClock()
  const fired: string[] = []
  clock.setTimeout(() => fired.push(`c@${clock.now()}`), 30)
  clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10)
  clock.setTimeout(() => fired.push(`b1@${clock.now()}`), 20)
  clock.setTimeout(() => fired.push(`b2@${clock.now()}`), 20)
  clock.setTimeout(() => fired.push(`z@${clock.now()}`), -5)
  const r = await clock.run()
  t.deepEqual(fired, ['z@0', 'a@10', 'b1@20', 'b2@20', 'c@30'])
  t.is(r.reason, 'idle')
  t.is(r.events, 5)
  t.is(clock.now(), 30)
})

test('a cleared timer never fires and leaves the queue', async (t) => {
  const clock = new VirtualClock()
  let fired = 0
  const h = clock.setTimeout(() => fired++, 10)
  clock.setTimeout(() => fired++, 20)
  clock.clearTimeout(h)
  clock.clearTimeout(h) // twice is harmless
  clock.clearTimeout(undefined)
  t.is(clock.pending, 1)
  await clock.run()
  t.is(fired, 1)
})

test('promise chains across timers resolve in virtual time', async (t) => {
  const clock = new VirtualClock(1000)
  const seen: number[] = []
  const task = (async () => {
    for (let i = 0; i < 5; i++) {
      await clock.sleep(100)
      await Promise.resolve()
      await new Promise<void>((r) => process.nextTick(r))
      seen.push(clock.now())
    }
    return 'done'
  })()
  t.is(await clock.settle(task), 'done')
  t.deepEqual(seen, [1100, 1200, 1300, 1400, 1500])
})

test('a continuation runs at the instant of its timer, before time advances', async (t) => {
  const clock = new VirtualClock()
  const log: string[] = []
  clock.setTimeout(() => {
    // A deep promise chain started by the event must finish at t=10.
    let p = Promise.resolve()
    for (let i = 0; i < 50; i++) p = p.then(() => undefined)
    p.then(() => log.push(`chain@${clock.now()}`))
  }, 10)
  clock.setTimeout(() => log.push(`next@${clock.now()}`), 11)
  await clock.run()
  t.deepEqual(log, ['chain@10', 'next@11'])
})

test('a timer set with 0 ms inside a timer fires after the microtasks of that batch', async (t) => {
  const clock = new VirtualClock()
  const log: string[] = []
  clock.setTimeout(() => {
    clock.setTimeout(() => log.push('zero'), 0)
    void Promise.resolve().then(() => log.push('micro'))
  }, 5)
  await clock.run()
  t.deepEqual(log, ['micro', 'zero'])
  t.is(clock.now(), 5)
})

test('a one-hour virtual sleep waits on no real timer', async (t) => {
  // Not a real-time bound (a loaded machine can take a second for anything): the sleep must set no real
  // timer of its own. Polling with short real ones instead would take the hour, past ava's timeout.
  const clock = new VirtualClock()
  const realSetTimeout = globalThis.setTimeout
  const realSetInterval = globalThis.setInterval
  const long: number[] = []
  const spy = <F extends (fn: () => void, ms?: number) => unknown>(real: F) =>
    ((fn: () => void, ms?: number) => {
      if ((ms ?? 0) > 100) long.push(ms as number)
      return real(fn, ms)
    }) as unknown as F
  globalThis.setTimeout = spy(realSetTimeout)
  globalThis.setInterval = spy(realSetInterval)
  try {
    await clock.settle(clock.sleep(3_600_000))
  } finally {
    globalThis.setTimeout = realSetTimeout
    globalThis.setInterval = realSetInterval
  }
  t.is(clock.now(), 3_600_000)
  t.deepEqual(long, [], 'real timers set while the clock slept')
})

test('withTimeout and every from core run on the virtual clock', async (t) => {
  const clock = new VirtualClock()
  await t.throwsAsync(clock.settle(withTimeout(clock, new Promise(() => {}), 5000)), {
    name: 'TimeoutError',
  })
  t.is(clock.now(), 5000)
  const ticks: number[] = []
  const task = every(clock, 1000, () => ticks.push(clock.now()))
  await clock.advance(3500)
  task.stop()
  t.deepEqual(ticks, [6000, 7000, 8000])
  t.is(clock.now(), 8500)
  t.is(clock.pending, 0)
})

test('run stops at a condition, a deadline and a maximum of events', async (t) => {
  const clock = new VirtualClock()
  let n = 0
  const task = every(clock, 10, () => n++)
  t.teardown(() => task.stop())
  const a = await clock.run({ until: () => n >= 3 })
  t.is(a.reason, 'until')
  t.is(clock.now(), 30)
  const b = await clock.run({ deadline: 55 })
  t.is(b.reason, 'deadline')
  t.is(clock.now(), 55)
  t.is(n, 5)
  const c = await clock.run({ maxEvents: 2 })
  t.is(c.reason, 'max-events')
  t.is(n, 7)
})

test('settle reports a promise that can never settle', async (t) => {
  const clock = new VirtualClock()
  await t.throwsAsync(clock.settle(new Promise(() => {})), { name: 'SimulationStalledError' })
  const late = clock.sleep(1000)
  await t.throwsAsync(clock.settle(late, { duration: 10 }), { name: 'SimulationStalledError' })
  t.is(clock.now(), 10)
})

test('run refuses to run twice at once and surfaces a throwing timer', async (t) => {
  const clock = new VirtualClock()
  clock.setTimeout(() => {}, 10)
  const first = clock.run()
  await t.throwsAsync(clock.run(), { name: 'InvalidOptionsError' })
  await first
  clock.setTimeout(() => {
    throw new Error('component bug')
  }, 1)
  await t.throwsAsync(clock.run(), { message: 'component bug' })
  t.false(clock.isRunning)
})

for (const Queue of [TimerHeap, TimerQueue]) {
  test(`${Queue.name}: orders many random timers and removes arbitrary ones`, (t) => {
    const random = new SeededRandom(7)
    const heap = new Queue()
    const timers = []
    for (let i = 0; i < 2000; i++) {
      const timer = { at: random.int(500), seq: i, fn: undefined, pos: -1 }
      timers.push(timer)
      heap.push(timer)
    }
    const removed = new Set(timers.filter((_, i) => i % 3 === 0))
    for (const timer of removed) t.true(heap.remove(timer))
    t.false(heap.remove(timers[0] as (typeof timers)[0]))
    const out = []
    for (let x = heap.pop(); x; x = heap.pop()) out.push(x)
    const expected = timers.filter((x) => !removed.has(x)).sort((a, b) => a.at - b.at || a.seq - b.seq)
    t.deepEqual(
      out.map((x) => x.seq),
      expected.map((x) => x.seq),
    )
  })

  test(`${Queue.name}: removed timers are swept once they outnumber the live ones: the order stays, the memory is bounded`, (t) => {
    const random = new SeededRandom(11)
    const heap = new Queue()
    const timers = []
    let maxHeld = 0
    for (let i = 0; i < 20_000; i++) {
      const timer = { at: random.int(3000), seq: i, fn: undefined, pos: -1 }
      timers.push(timer)
      heap.push(timer)
      // Most timeouts are cleared before they fire, as a request's are when its answer comes.
      if (i % 10 !== 0) t.true(heap.remove(timer))
      maxHeld = Math.max(maxHeld, heap.held)
      t.true(heap.held <= Math.max(2 * heap.size, heap.size + 1024), `held ${heap.held}, live ${heap.size}`)
    }
    t.is(heap.size, 2000)
    t.true(maxHeld < 4100, `at most ${maxHeld} held for 2,000 live timers`)
    t.false(heap.remove(timers[1] as (typeof timers)[0]), 'a removed timer cannot be removed again')
    const out = []
    for (let x = heap.pop(); x; x = heap.pop()) out.push(x)
    const expected = timers.filter((_, i) => i % 10 === 0).sort((a, b) => a.at - b.at || a.seq - b.seq)
    t.deepEqual(
      out.map((x) => x.seq),
      expected.map((x) => x.seq),
    )
    t.is(heap.held, 0)
    t.true(out.every((x) => x.pos === -1))
  })
}

test("the calendar queue gives the heap's order with timers set as they fire, beyond its ring, at fractions and in the past", (t) => {
  const random = new SeededRandom(5)
  const heap = new TimerHeap()
  const queue = new TimerQueue()
  const live: Timer[][] = []
  let seq = 0
  let now = 0
  const out: [number[], number[]] = [[], []]
  for (let i = 0; i < 30_000; i++) {
    const r = random.int(100)
    if (r < 55) {
      // Mostly soon (a message's latency), some beyond the ring (65,536 ms), a few at fractions or before now.
      const kind = random.int(20)
      const at =
        kind === 0
          ? now + 65_000 + random.int(200_000)
          : kind === 1
            ? now + random.int(100) + 0.5
            : kind === 2
              ? Math.max(0, now - random.int(50))
              : now + random.int(300)
      const pair = [heap, queue].map(() => ({ at, seq, fn: undefined, pos: -1 }) as Timer)
      seq++
      heap.push(pair[0] as Timer)
      queue.push(pair[1] as Timer)
      live.push(pair)
    } else if (r < 70 && live.length > 0) {
      const k = random.int(live.length)
      const [a, b] = live[k] as [Timer, Timer]
      t.is(heap.remove(a), queue.remove(b))
    } else {
      const a = heap.pop()
      const b = queue.pop()
      t.is(b?.seq, a?.seq)
      t.is(b?.at, a?.at)
      if (a !== undefined) {
        now = Math.max(now, Math.floor(a.at))
        out[0].push(a.seq)
        out[1].push((b as Timer).seq)
      }
    }
    t.is(queue.size, heap.size)
  }
  for (let a = heap.pop(); a !== undefined; a = heap.pop()) {
    out[0].push(a.seq)
    out[1].push((queue.pop() as Timer).seq)
  }
  t.is(queue.pop(), undefined)
  t.deepEqual(out[1], out[0])
  t.true(out[0].length > 10_000)
})

test("a heap removes only its own timers: another clock's handle changes none of its counts", async (t) => {
  const a = new TimerHeap()
  const b = new TimerHeap()
  const timer = { at: 5, seq: 0, fn: undefined, pos: -1 }
  a.push(timer)
  t.false(b.remove(timer))
  t.is(b.size, 0)
  t.is(a.size, 1)
  t.true(a.remove(timer))
  t.is(a.size, 0)
  const clockA = new VirtualClock()
  const clockB = new VirtualClock()
  let fired = 0
  const handle = clockA.setTimeout(() => fired++, 10)
  clockB.setTimeout(() => fired++, 10)
  clockB.clearTimeout(handle) // cancels the callback, as before, but B's queue keeps its own timer
  t.is(clockB.pending, 1)
  await clockB.run()
  t.is(fired, 1)
  await clockA.run()
  t.is(fired, 1)
  t.is(clockA.pending, 0)
})

test('a cleared timer at the head of the queue neither fires nor moves the clock', async (t) => {
  const clock = new VirtualClock()
  const fired: number[] = []
  const first = clock.setTimeout(() => fired.push(clock.now()), 10)
  clock.setTimeout(() => fired.push(clock.now()), 20)
  clock.clearTimeout(first)
  t.is(clock.nextAt(), 20)
  const r = await clock.run({ deadline: 15 })
  t.is(r.reason, 'deadline')
  t.is(clock.now(), 15)
  t.deepEqual(fired, [])
  await clock.run()
  t.deepEqual(fired, [20])
  t.is(clock.pending, 0)
})

test('the same seed drives the same schedule', async (t) => {
  const trace = async (seed: number) => {
    const clock = new VirtualClock()
    const random = new SeededRandom(seed)
    const log: string[] = []
    for (let i = 0; i < 20; i++) {
      const r = random.fork()
      const loop = async () => {
        for (let k = 0; k < 5; k++) {
          await clock.sleep(r.int(100))
          log.push(`${i}:${clock.now()}`)
        }
      }
      void loop()
    }
    await clock.run()
    return log
  }
  t.deepEqual(await trace(42), await trace(42))
  t.notDeepEqual(await trace(42), await trace(43))
})

test('virtual time is whole milliseconds: fractional delays round up', async (t) => {
  const clock = new VirtualClock()
  const at: number[] = []
  clock.setTimeout(() => at.push(clock.now()), 0.2)
  clock.setTimeout(() => at.push(clock.now()), 10.5)
  await clock.run()
  t.deepEqual(at, [1, 11])
  await clock.advance(2.7)
  t.is(clock.now(), 13)
  t.throws(() => new VirtualClock(0.5), { name: 'InvalidOptionsError' })
})
