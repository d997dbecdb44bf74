import type { Clock, TimerHandle } from '@peerkit/core'

interface Pending {
  readonly at: number
  readonly order: number
  run: (() => void) | undefined
}

/** Lets queued promise continuations and immediates run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * Virtual time for the chord attack tests: a timer fires only while `advance`
 * drives the clock, earliest first (ties in the order they were set), with
 * the pending promise work settled after each one.
 */
export class TestClock implements Clock {
  private time = 0
  private order = 0
  private queue: Pending[] = []

  now(): number {
    return this.time
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: Pending = { at: this.time + Math.max(0, ms), order: this.order++, run: fn }
    this.queue.push(timer)
    return timer
  }

  clearTimeout(handle: TimerHandle): void {
    ;(handle as Pending).run = undefined
  }

  /** Fires every timer due within `ms` from now, in time order; the clock ends `ms` later. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms
    for (;;) {
      await settle()
      this.queue = this.queue.filter((p) => p.run !== undefined)
      const next = this.queue.reduce<Pending | undefined>(
        (best, p) => (!best || p.at < best.at || (p.at === best.at && p.order < best.order) ? p : best),
        undefined,
      )
      if (!next || next.at > end) break
      this.queue = this.queue.filter((p) => p !== next)
      this.time = Math.max(this.time, next.at)
      next.run?.()
    }
    this.time = end
    await settle()
  }
}
