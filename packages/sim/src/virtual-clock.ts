import { type Clock, InvalidOptionsError, sleep, type TimerHandle } from '@peerkit/core'
import { SimulationStalledError } from './errors.js'
import { type Timer, TimerQueue } from './timer-heap.js'

/** When `VirtualClock.run` stops. */
export interface RunOptions {
  /** Stop as soon as this returns true; checked whenever the microtask queue is empty. */
  until?: () => boolean
  /** Stop at this virtual time (absolute, ms); the clock then reads exactly this time. */
  deadline?: number
  /** Stop after this much virtual time (relative to now, ms); combined with `deadline`, the earlier wins. */
  duration?: number
  /** Stop after firing this many timers. */
  maxEvents?: number
}

export interface RunResult {
  /** `until`: the condition held; `deadline`: virtual time reached it; `idle`: no timer left; `max-events`. */
  reason: 'until' | 'deadline' | 'idle' | 'max-events'
  /** Virtual time at the stop. */
  now: number
  /** Timers fired by this run. */
  events: number
}

/** Lets every queued microtask, promise continuation and `process.nextTick` run. */
function drain(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/**
 * A discrete-event clock: `setTimeout` queues callbacks in a calendar
 * queue (`TimerQueue`) keyed by virtual time, in whole milliseconds like `Date.now()` (ties fire
 * in insertion order), and nothing happens
 * until `run` drives it. `run` alternates two things: let the Node microtask
 * queue drain completely (so every promise chain started by the last events
 * finishes at the current virtual instant), then advance virtual time to the
 * next timer and fire every timer due at that instant. An hour of virtual
 * sleep costs one queue operation.
 */
export class VirtualClock implements Clock {
  readonly [Symbol.toStringTag] = '@peerkit/sim:VirtualClock'
  private readonly queue = new TimerQueue()
  private time: number
  private seq = 0
  private running = false
  private firedTotal = 0

  constructor(start = 0) {
    if (!Number.isInteger(start)) throw new InvalidOptionsError(`start must be an integer (got ${start})`)
    this.time = start
  }

  now(): number {
    return this.time
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    // Whole milliseconds, as Date.now() reads (components may rely on integer
    // times): a fractional delay is rounded up, never firing early. NaN and
    // negatives fire at the current instant.
    const delay = ms > 0 ? Math.ceil(ms) : 0
    const timer: Timer = { at: this.time + delay, seq: this.seq++, fn, pos: -1, next: undefined }
    this.queue.push(timer)
    return timer
  }

  clearTimeout(handle: TimerHandle): void {
    const timer = handle as Timer | undefined
    if (timer === undefined || timer === null || typeof timer !== 'object' || !('seq' in timer)) return
    timer.fn = undefined
    this.queue.remove(timer)
  }

  /** Timers waiting to fire. */
  get pending(): number {
    return this.queue.size
  }

  /** Timers fired since the clock was made. */
  get fired(): number {
    return this.firedTotal
  }

  /** True while `run` is driving the clock. */
  get isRunning(): boolean {
    return this.running
  }

  /** Virtual time of the next timer, or undefined when none is queued. */
  nextAt(): number | undefined {
    return this.queue.peek()?.at
  }

  /**
   * Drives the event loop until `until` holds, the deadline, `maxEvents`, or
   * no timer is left. Only one `run` at a time. A timer callback that throws
   * stops the run with that error (a simulated component has a bug).
   */
  async run(options: RunOptions = {}): Promise<RunResult> {
    if (this.running) throw new InvalidOptionsError('VirtualClock.run is already running')
    const { until, maxEvents = Number.POSITIVE_INFINITY } = options
    let deadline = options.deadline ?? Number.POSITIVE_INFINITY
    if (options.duration !== undefined) deadline = Math.min(deadline, this.time + options.duration)
    if (Number.isNaN(deadline)) throw new InvalidOptionsError('deadline must be a number (got NaN)')
    deadline = Math.floor(deadline)
    this.running = true
    let events = 0
    const result = (reason: RunResult['reason']): RunResult => ({ reason, now: this.time, events })
    try {
      for (;;) {
        await drain()
        if (until?.()) return result('until')
        if (events >= maxEvents) return result('max-events')
        const next = this.queue.peek()
        if (next === undefined || next.at > deadline) {
          if (Number.isFinite(deadline) && deadline > this.time) this.time = deadline
          return result(next === undefined && !Number.isFinite(deadline) ? 'idle' : 'deadline')
        }
        this.time = next.at
        // Fire every timer due now that was set before this batch; those set by
        // the batch itself wait for the next step, after the microtasks.
        const limit = this.seq
        for (let t = this.queue.peek(); t !== undefined && t.at === this.time && t.seq < limit; ) {
          this.queue.take(t)
          const fn = t.fn
          t.fn = undefined
          events++
          this.firedTotal++
          fn?.()
          if (events >= maxEvents) break
          t = this.queue.peek()
        }
      }
    } finally {
      this.running = false
    }
  }

  /** Runs for `ms` of virtual time. */
  advance(ms: number, options: Omit<RunOptions, 'duration'> = {}): Promise<RunResult> {
    return this.run({ ...options, duration: ms })
  }

  /**
   * Drives the clock until `promise` settles and returns its value (or throws
   * its error). Throws `SimulationStalledError` when the queue empties or the
   * deadline passes first.
   */
  async settle<T>(promise: Promise<T>, options: Omit<RunOptions, 'until'> = {}): Promise<T> {
    const out: { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } = {
      state: 'pending',
    }
    promise.then(
      (v) => {
        out.state = 'resolved'
        out.value = v
      },
      (e) => {
        out.state = 'rejected'
        out.error = e
      },
    )
    const r = await this.run({ ...options, until: () => out.state !== 'pending' })
    if (out.state === 'rejected') throw out.error
    if (out.state === 'pending')
      throw new SimulationStalledError(
        `the awaited promise had not settled when the run stopped (${r.reason} at virtual ${r.now} ms, ${this.pending} timers queued)`,
      )
    return out.value as T
  }

  /** A promise that resolves after `ms` of virtual time (once something drives the clock). */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleep(this, ms, signal)
  }
}
