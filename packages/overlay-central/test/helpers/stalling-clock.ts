import type { Clock, TimerHandle } from '@peerkit/core'
import type { TestClock } from '@peerkit/core/testing'

/**
 * A `TestClock` whose process can stall: `stall(ms)` moves time on by `ms`
 * and fires nothing, so every pending timer fires `ms` late (an event loop
 * blocked by load or a long garbage collection), and periodic ones keep
 * their interval after. The test drives `inner` as it drives a TestClock.
 */
export class StallingClock implements Clock {
  private lag = 0

  constructor(readonly inner: TestClock) {}

  now(): number {
    return this.inner.now() + this.lag
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.inner.setTimeout(fn, ms)
  }

  clearTimeout(handle: TimerHandle): void {
    this.inner.clearTimeout(handle)
  }

  /** The process stalls for `ms`: nothing runs, and every pending timer fires late by as much. */
  stall(ms: number): void {
    this.lag += ms
  }
}
