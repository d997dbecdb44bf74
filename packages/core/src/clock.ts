import { onAbort as whenAborted } from './abort.js'
import { AbortError, TimeoutError } from './errors.js'

/** An opaque timer handle returned by `Clock.setTimeout`. */
export type TimerHandle = unknown

/**
 * Time, injected. Every timer, timeout and clock reading in the overlays and
 * the transfer goes through a Clock, so the simulator can run them in virtual time.
 */
export interface Clock {
  /** Whole milliseconds since an arbitrary epoch (real clock: `Date.now()`); never goes backwards. */
  now(): number
  setTimeout(fn: () => void, ms: number): TimerHandle
  clearTimeout(handle: TimerHandle): void
}

/** The wall clock: `Date.now()` and Node's timers. Components clear their timers on `stop()`. */
export class RealClock implements Clock {
  now(): number {
    return Date.now()
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return setTimeout(fn, Math.max(0, ms))
  }

  clearTimeout(handle: TimerHandle): void {
    clearTimeout(handle as NodeJS.Timeout)
  }
}

/** Resolves after `ms` on `clock`; rejects with `AbortError` when `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortError('Aborted', { cause: signal.reason }))
    let cancel: (() => void) | undefined
    const timer = clock.setTimeout(() => {
      cancel?.()
      resolve()
    }, ms)
    if (signal)
      cancel = whenAborted(signal, () => {
        clock.clearTimeout(timer)
        reject(new AbortError('Aborted', { cause: signal.reason }))
      })
  })
}

/**
 * Settles like `promise`, but rejects with `TimeoutError` after `ms` on `clock`
 * and with `AbortError` when `signal` aborts. `onCancel` runs when it gave up.
 * `message` is the TimeoutError's, or a function that writes it when needed
 * (a request's message, written for every request, is almost never read).
 */
export function withTimeout<T>(
  clock: Clock,
  promise: Promise<T>,
  ms: number | undefined,
  options: { signal?: AbortSignal; message?: string | (() => string); onCancel?: (err: Error) => void } = {},
): Promise<T> {
  const { signal, message, onCancel } = options
  if (ms === undefined && signal === undefined) return promise
  return new Promise<T>((resolve, reject) => {
    let timer: TimerHandle | undefined
    let cancel: (() => void) | undefined
    const finish = () => {
      if (timer !== undefined) clock.clearTimeout(timer)
      cancel?.()
    }
    const fail = (err: Error) => {
      finish()
      onCancel?.(err)
      reject(err)
    }
    if (signal !== undefined) {
      // Made only for a signal: most waits (a request's timeout) have none.
      const onAbort = () => fail(new AbortError('Aborted', { cause: signal.reason }))
      if (signal.aborted) {
        promise.catch(() => {}) // given up on: its rejection is nobody's to handle
        return onAbort()
      }
      // One listener per signal however many waits share it (abort.ts), taken off when this one settles.
      cancel = whenAborted(signal, onAbort)
    }
    if (ms !== undefined && Number.isFinite(ms))
      timer = clock.setTimeout(
        () =>
          fail(
            new TimeoutError(
              message === undefined
                ? `timed out after ${ms} ms`
                : typeof message === 'string'
                  ? message
                  : message(),
            ),
          ),
        ms,
      )
    promise.then(
      (v) => {
        finish()
        resolve(v)
      },
      (e) => {
        finish()
        reject(e)
      },
    )
  })
}

/**
 * A repeating task on a Clock; `stop()` cancels it. The task never overlaps
 * itself, and one that throws (or rejects) does not stop the schedule:
 * `onError` hears of the failure (log it there), else the task is expected to
 * report its own.
 */
export function every(
  clock: Clock,
  ms: number,
  task: () => unknown,
  onError?: (err: unknown) => void,
): { stop(): void } {
  return new Every(clock, ms, task, onError)
}

/** The handle of `every`: one object and one bound method per task, rather than a nest of closures. */
class Every {
  private stopped = false
  private timer: TimerHandle | undefined
  private readonly tick: () => Promise<void>

  constructor(
    private readonly clock: Clock,
    private readonly ms: number,
    private readonly task: () => unknown,
    private readonly onError: ((err: unknown) => void) | undefined,
  ) {
    this.tick = this.run.bind(this)
    this.timer = clock.setTimeout(this.tick, ms)
  }

  stop(): void {
    this.stopped = true
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
  }

  private async run(): Promise<void> {
    if (this.stopped) return
    try {
      await this.task()
    } catch (err) {
      this.onError?.(err) // without onError, the task reports its own failures; the schedule goes on either way
    }
    if (!this.stopped) this.timer = this.clock.setTimeout(this.tick, this.ms)
  }
}
