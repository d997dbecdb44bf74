import type { Clock, TimerHandle } from './clock.js'

interface Timer {
  at: number
  seq: number
  fn: (() => void) | undefined
}

/** Lets every queued promise continuation and immediate run. */
const settle = () => new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)))

/**
 * A virtual clock that runs by itself: whenever the process has nothing left
 * to do at the current virtual instant (no microtask, no immediate), it jumps
 * to the next timer and fires it. Virtual hours pass in the real time their
 * events take, so a test can wait hours of heartbeats and maintenance with
 * `sleep(ms)`. Only for work that does no real I/O (the memory transport).
 * `TestClock` is the one a test drives by hand; this one suits tests where
 * many peers keep timers of their own (heartbeats, elections) for hours.
 */
export class RunningClock implements Clock {
  private time: number
  private seq = 0
  private readonly timers: Timer[] = []
  private loop: Promise<void> | undefined
  private stopped = false

  /** `start`: the virtual time at creation (a wall-clock-like value keeps logged times readable). @default 0 */
  constructor(start = 0) {
    this.time = start
  }

  now(): number {
    return this.time
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: Timer = { at: this.time + (ms > 0 ? Math.ceil(ms) : 0), seq: this.seq++, fn }
    let i = this.timers.length
    while (i > 0 && (this.timers[i - 1] as Timer).at > timer.at) i--
    this.timers.splice(i, 0, timer)
    this.loop ??= this.run().finally(() => {
      this.loop = undefined
    })
    return timer
  }

  clearTimeout(handle: TimerHandle): void {
    const timer = handle as Timer | undefined
    if (!timer || typeof timer !== 'object' || !('seq' in timer)) return
    timer.fn = undefined
    const i = this.timers.indexOf(timer)
    if (i >= 0) this.timers.splice(i, 1)
  }

  /** Resolves after `ms` of virtual time. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms))
  }

  /** Polls `probe` every `step` virtual ms until it holds (true) or `ms` passed (false). */
  async until(ms: number, probe: () => boolean | Promise<boolean>, step = 100): Promise<boolean> {
    const deadline = this.time + ms
    while (!(await probe())) {
      if (this.time >= deadline) return false
      await this.sleep(step)
    }
    return true
  }

  /** Timers set and not yet fired or cleared. */
  get pending(): number {
    return this.timers.length
  }

  /** Stops firing timers (at teardown). */
  stop(): void {
    this.stopped = true
  }

  private async run(): Promise<void> {
    for (;;) {
      await settle()
      const next = this.timers.shift()
      if (!next || this.stopped) return
      if (next.at > this.time) this.time = next.at
      next.fn?.()
    }
  }
}
