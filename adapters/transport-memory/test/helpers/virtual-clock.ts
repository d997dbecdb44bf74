import type { Clock, TimerHandle } from '@peerkit/core'

interface Timer {
  at: number
  seq: number
  fn: (() => void) | undefined
}

/** Lets every queued microtask and promise continuation run. */
export function drain(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/**
 * A test clock in virtual time: timers fire only when the test drives it, in
 * time order, with the microtask queue drained after every instant.
 */
export class VirtualClock implements Clock {
  private time = 0
  private seq = 0
  private timers: Timer[] = []

  now(): number {
    return this.time
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: Timer = { at: this.time + Math.max(0, ms), seq: this.seq++, fn }
    this.timers.push(timer)
    return timer
  }

  clearTimeout(handle: TimerHandle): void {
    const timer = handle as Timer
    timer.fn = undefined
    this.timers = this.timers.filter((t) => t !== timer)
  }

  get pending(): number {
    return this.timers.length
  }

  /** Runs timers up to `now() + ms`, then leaves the clock at exactly that time. */
  async advance(ms: number): Promise<void> {
    await this.runUntil(() => false, this.time + ms)
  }

  /** Drives the clock until `done()` holds (checked after every instant) or `limit` ms pass; returns the time it took. */
  async until(done: () => boolean, limit = 60_000): Promise<number> {
    const start = this.time
    await this.runUntil(done, start + limit)
    if (!done()) throw new Error(`condition not met within ${limit} virtual ms`)
    return this.time - start
  }

  /** Drives the clock until `promise` settles; returns its value. */
  async settle<T>(promise: Promise<T>, limit = 60_000): Promise<T> {
    let state: 'pending' | 'done' = 'pending'
    const watched = promise.finally(() => {
      state = 'done'
    })
    watched.catch(() => {})
    await this.runUntil(() => state === 'done', this.time + limit)
    if (state === 'pending') throw new Error(`promise still pending after ${limit} virtual ms`)
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
      this.timers = this.timers.filter((t) => t !== next)
      this.time = next.at
      next.fn?.()
    }
  }
}
