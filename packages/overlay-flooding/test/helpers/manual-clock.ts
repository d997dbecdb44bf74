import type { Clock, TimerHandle } from '@peerkit/core'

interface Pending {
  at: number
  fn: () => void
}

/** Lets every queued promise continuation run before the next timer fires. */
const settleMicrotasks = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * A clock the test moves by hand. `advance(ms)` runs the timers that fall due,
 * in order, synchronously (for pure parts). `drive(done, limitMs)` is for a
 * network in virtual time: it lets the promise continuations run after every
 * timer, so messages over the memory transport (delivered on microtasks)
 * arrive at the virtual instant they were sent.
 */
export class ManualClock implements Clock {
  private time = 0
  private nextId = 1
  private readonly timers = new Map<number, Pending>()

  now(): number {
    return this.time
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++
    this.timers.set(id, { at: this.time + Math.max(0, ms), fn })
    return id
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number)
  }

  get pending(): number {
    return this.timers.size
  }

  advance(ms: number): void {
    const end = this.time + ms
    for (let next = this.due(end); next; next = this.due(end)) next()
    this.time = end
  }

  /**
   * Fires timers (draining microtasks before each) until `done()` holds, or
   * `limitMs` of virtual time pass; then throws naming `what`. Returns the
   * virtual time it took.
   */
  async drive(done: () => boolean, limitMs: number, what = 'the condition'): Promise<number> {
    const start = this.time
    await this.run(done, start + limitMs)
    if (!done()) throw new Error(`${what} did not happen within ${limitMs} virtual ms`)
    return this.time - start
  }

  /** Lets `ms` of virtual time pass, firing the timers due (draining microtasks before each). */
  pass(ms: number): Promise<void> {
    return this.run(() => false, this.time + ms)
  }

  /** Drives the clock until `promise` settles (at most `limitMs` virtual ms) and returns its outcome. */
  async settle<T>(promise: Promise<T>, limitMs: number, what = 'the promise'): Promise<T> {
    let settled = false
    const watched = promise.finally(() => {
      settled = true
    })
    watched.catch(() => {}) // the outcome is returned (or thrown) by `await promise` below
    await this.drive(() => settled, limitMs, what)
    return promise
  }

  private async run(done: () => boolean, end: number): Promise<void> {
    for (;;) {
      await settleMicrotasks()
      if (done()) return
      const next = this.due(end)
      if (!next) break
      next()
    }
    this.time = end
    await settleMicrotasks()
  }

  /** Removes and returns the earliest timer due by `end` (moving time to it), if any. */
  private due(end: number): (() => void) | undefined {
    let next: [number, Pending] | undefined
    for (const e of this.timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e
    if (!next) return undefined
    this.timers.delete(next[0])
    this.time = next[1].at
    return next[1].fn
  }
}
