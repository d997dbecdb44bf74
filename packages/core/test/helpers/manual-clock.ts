import type { Clock, TimerHandle } from '../../src/index.js'

interface Timer {
  at: number
  fn: () => void
}

/** Virtual time for core's own tests: timers fire only in `advance`, in time order. */
export class ManualClock implements Clock {
  private time = 0
  private timers = new Set<Timer>()

  now(): number {
    return this.time
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = { at: this.time + Math.max(0, ms), fn }
    this.timers.add(timer)
    return timer
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as Timer)
  }

  /** Moves time on by `ms`, firing due timers in order with microtasks drained after each. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms
    for (;;) {
      let next: Timer | undefined
      for (const t of this.timers) if (t.at <= end && (!next || t.at < next.at)) next = t
      if (!next) break
      this.timers.delete(next)
      this.time = next.at
      next.fn()
      await new Promise((resolve) => setImmediate(resolve))
    }
    this.time = end
  }
}
