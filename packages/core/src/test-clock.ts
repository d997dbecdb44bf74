import type { Clock, TimerHandle } from './clock.js'

interface Timer {
  at: number
  seq: number
  fn: (() => void) | undefined
}

/** Lets every queued microtask, promise continuation and `process.nextTick` run. */
export function drain(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/**
 * The test kit's clock (re-exported by `@peerkit/compliance`), in virtual time: timers fire only when the test drives
 * it, in time order (ties in the order they were set), with the microtask
 * queue drained after every instant, so a behaviour test never sleeps and
 * never depends on the machine's speed. Register it as `CLOCK` in the test's
 * parent container (`createTestnet` and `startNetwork` take a container).
 *
 * ```ts sketch
 * const clock = new TestClock()
 * const parent = memoryContainer(new MemoryNetwork())
 * parent.register(CLOCK, { useValue: clock })
 * const done = peer.download(hash, { to }).done
 * const result = await clock.settle(done, 60_000) // an hour of timeouts costs nothing
 * ```
 */
export class TestClock implements Clock {
  readonly [Symbol.toStringTag] = '@peerkit/core:TestClock'
  private time: number
  private seq = 0
  private timers: Timer[] = []

  constructor(start = 0) {
    this.time = start
  }

  now(): number {
    return this.time
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    // Whole milliseconds, as Date.now() reads; a fractional or negative delay never fires early or in the past.
    const delay = Number.isFinite(ms) ? Math.max(0, Math.ceil(ms)) : 0
    const timer: Timer = { at: this.time + delay, seq: this.seq++, fn }
    this.timers.push(timer)
    return timer
  }

  clearTimeout(handle: TimerHandle): void {
    const timer = handle as Timer
    if (!timer) return
    timer.fn = undefined
    const i = this.timers.indexOf(timer)
    if (i >= 0) this.timers.splice(i, 1)
  }

  /** Timers waiting to fire. */
  get pending(): number {
    return this.timers.length
  }

  /** Runs every timer due up to `now() + ms`, then leaves the clock at exactly that time. */
  async advance(ms: number): Promise<void> {
    await this.runUntil(() => false, this.time + ms)
  }

  /** Drives the clock until `done()` holds (checked after every instant) or `limit` virtual ms pass; returns the virtual time it took. */
  async until(done: () => boolean, limit = 60_000, what = 'the condition'): Promise<number> {
    const start = this.time
    await this.runUntil(done, start + limit)
    if (!done()) throw new Error(`${what} did not hold within ${limit} virtual ms`)
    return this.time - start
  }

  /** Drives the clock until `promise` settles (or `limit` virtual ms pass), and returns its outcome. */
  async settle<T>(promise: Promise<T>, limit = 60_000): Promise<T> {
    let settled = false
    promise.then(
      () => {
        settled = true
      },
      () => {
        settled = true // the rejection is returned to the caller below
      },
    )
    await this.runUntil(() => settled, this.time + limit)
    if (!settled) throw new Error(`promise still pending after ${limit} virtual ms`)
    return promise
  }

  private async runUntil(done: () => boolean, end: number): Promise<void> {
    for (;;) {
      await drain()
      if (done()) return
      let next: Timer | undefined
      for (const t of this.timers)
        if (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq)) next = t
      if (!next || next.at > end) {
        this.time = Math.max(this.time, end)
        await drain()
        return
      }
      this.timers.splice(this.timers.indexOf(next), 1)
      this.time = next.at
      next.fn?.()
    }
  }
}
