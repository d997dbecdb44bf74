import test from 'ava'
import { type FrameKind, Pipe } from '../src/pipe.js'
import { VirtualClock } from './helpers/virtual-clock.js'

/** A pipe whose arrivals and drains are recorded (a connection is the pipe of the frames sent to it). */
class RecordingPipe extends Pipe {
  readonly arrived: Array<{ at: number; frame: { kind: FrameKind; data: unknown } }> = []
  drains = 0

  protected override deliverFrame(kind: FrameKind, data: unknown): void {
    this.arrived.push({ at: this.clock.now(), frame: { kind, data } })
  }

  protected override pipeDrained(): void {
    this.drains++
  }

  protected override onMessageListener(): void {}
}

function pipe(clock: VirtualClock) {
  const p = new RecordingPipe(clock)
  return { p, arrived: p.arrived, drains: () => p.drains }
}

test('frames leave one after another at the bandwidth and arrive a latency later, in order', async (t) => {
  const clock = new VirtualClock()
  const { p, arrived } = pipe(clock)
  p.push('data', 'a', 300, 2, 1000, false) // 0.3 s on the wire
  p.push('data', 'b', 1, 50, 1000, false) // leaves at 301 ms, would arrive at 351
  p.push('data', 'c', 0, 0, 1000, false) // leaves at 301 ms, but not before b
  t.is(p.queued, 301)
  await clock.advance(1000)
  t.deepEqual(
    arrived.map((a) => [a.frame.data, a.at]),
    [
      ['a', 302],
      ['b', 351],
      ['c', 351],
    ],
  )
  t.is(p.queued, 0)
  t.is(p.length, 0)
})

test('lost frames take their turn on the link and are never delivered', async (t) => {
  const clock = new VirtualClock()
  const { p, arrived } = pipe(clock)
  p.push('data', 'lost', 100, 0, 1000, true)
  p.push('data', 'kept', 100, 0, 1000, false)
  await clock.advance(1000)
  t.deepEqual(
    arrived.map((a) => [a.frame.data, a.at]),
    [['kept', 200]],
  )
})

test('drained is called as bytes leave, only while watched', async (t) => {
  const clock = new VirtualClock()
  const { p, drains } = pipe(clock)
  p.push('data', 1, 100, 500, 1000, false)
  p.push('data', 2, 100, 500, 1000, false)
  await clock.advance(150)
  t.is(drains(), 0, 'no departure events without a watcher')
  p.watch(true)
  await clock.advance(100)
  t.true(drains() >= 1)
  t.is(p.queued, 0)
})

test('dropQueued forgets what is not on the wire; clear forgets everything', async (t) => {
  const clock = new VirtualClock()
  const { p, arrived } = pipe(clock)
  p.push('data', 'in flight', 100, 50, 1000, false)
  p.push('data', 'queued', 100, 50, 1000, false)
  await clock.advance(120)
  p.dropQueued()
  p.push('rst', 'reset', 0, 10, Number.POSITIVE_INFINITY, false)
  await clock.advance(1000)
  t.deepEqual(
    arrived.map((a) => [a.frame.data, a.at]),
    [
      ['in flight', 150],
      ['reset', 150],
    ],
  )
  p.push('data', 'never', 10, 5, Number.POSITIVE_INFINITY, false)
  p.clear()
  await clock.advance(100)
  t.is(arrived.length, 2)
  t.is(clock.pending, 0)
})

test('queued counts the bytes not yet on the wire, frame by frame, while frames still fly', async (t) => {
  const clock = new VirtualClock()
  const { p, arrived } = pipe(clock)
  p.push('data', 'a', 100, 1000, 1000, false) // on the wire 0-100 ms
  p.push('data', 'b', 200, 1000, 1000, false) // 100-300 ms
  p.push('data', 'c', 50, 1000, 1000, false) // 300-350 ms
  t.is(p.queued, 350)
  await clock.advance(100)
  t.is(p.queued, 250)
  await clock.advance(200)
  t.is(p.queued, 50)
  await clock.advance(50)
  t.is(p.queued, 0)
  t.is(p.length, 3, 'all three are still on their way')
  p.push('data', 'd', 10, 1000, Number.POSITIVE_INFINITY, false)
  t.is(p.queued, 0, 'without a bandwidth limit a frame is on the wire at once')
  t.is(p.length, 4)
  await clock.advance(2000)
  t.deepEqual(
    arrived.map((a) => [a.frame.data, a.at]),
    [
      ['a', 1100],
      ['b', 1300],
      ['c', 1350],
      ['d', 1350],
    ],
  )
})
