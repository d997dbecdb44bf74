import type { Clock, TimerHandle } from '@peerkit/core'

interface Timer {
  at: number
  seq: number
  fn: () => void
}

/**
 * A virtual clock as a loaded machine's real one behaves: a timer due at `at`
 * fires while `now()` still reads `at - 1` (Node's timers run on the loop's
 * cached monotonic time, which can be a millisecond ahead of `Date.now()`),
 * and the millisecond ticks on the first reading inside the callback, so a
 * second reading gives `at`. Time moves only when the test calls `advance`.
 */
export class EarlyClock implements Clock {
  private time = 0
  private seq = 0
  private tickTo: number | undefined
  private timers: Timer[] = []

  now(): number {
    const t = this.time
    if (this.tickTo !== undefined) {
      this.time = Math.max(this.time, this.tickTo)
      this.tickTo = undefined
    }
    return t
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: Timer = { at: this.time + Math.max(0, ms), seq: this.seq++, fn }
    this.timers.push(timer)
    return timer
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers = this.timers.filter((t) => t !== handle)
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.timers.length
  }

  /** Moves time forward by `ms`, firing every timer due meanwhile (each 1 ms early), in time order. */
  advance(ms: number): void {
    const end = this.time + ms
    for (;;) {
      const next = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0]
      if (!next) break
      this.timers = this.timers.filter((t) => t !== next)
      this.time = Math.max(this.time, next.at - 1)
      this.tickTo = next.at
      next.fn()
      this.tickTo = undefined
      this.time = Math.max(this.time, next.at)
    }
    this.time = end
  }
}
