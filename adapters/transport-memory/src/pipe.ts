import type { Clock, TimerHandle } from '@peerkit/core'

/** What travels on a pipe: a message, or one of the connection's control frames. */
export type FrameKind = 'data' | 'auth' | 'fin' | 'rst'

export interface Frame {
  kind: FrameKind
  /** The message (a copy), the proof (`auth`) or the reason (`rst`). */
  data: unknown
  size: number
  /** When its last byte is on the wire (it stops counting against the send buffer). */
  departAt: number
  /** When it reaches the other end. */
  arriveAt: number
  /** Dropped by loss or a partition: it takes its turn on the link but is never delivered. */
  lost: boolean
}

const COMPACT_AFTER = 1024

/** Where a pipe's frames go: its connection's other end (methods, so a pipe holds no closures). */
export interface PipeSink {
  /** A frame arrived (lost ones never do). */
  deliverFrame(frame: Frame): void
  /** Bytes left the send buffer while someone waited for room (see `watch`). */
  drained(): void
}

/**
 * One direction of a connection: a FIFO of frames, each leaving after the
 * frames ahead of it (`size / bandwidth` seconds on the wire) and arriving
 * `latency` later, never before the frame ahead of it. One clock timer at a
 * time, for the next due event; frames due now go on a microtask, so a link
 * without latency or bandwidth limit costs no timers at all.
 */
export class Pipe {
  private frames: (Frame | undefined)[] = []
  /** Index of the next frame to arrive. */
  private head = 0
  /** Index of the first frame not yet on the wire. */
  private departed = 0
  private queuedBytes = 0
  private busyUntil = 0
  private lastArrival = 0
  private microtask = false
  private timer: TimerHandle | undefined
  private timerAt = Number.POSITIVE_INFINITY
  private running = false
  private watching = false

  constructor(
    private readonly clock: Clock,
    private readonly sink: PipeSink,
  ) {}

  /** Bytes accepted but not yet on the wire. */
  get queued(): number {
    this.advance(this.clock.now())
    return this.queuedBytes
  }

  /** Frames not yet delivered. */
  get length(): number {
    return this.frames.length - this.head
  }

  /** Appends a frame; `bandwidth` in bytes per second (`Infinity` for no limit), `latency` in ms. */
  push(
    kind: FrameKind,
    data: unknown,
    size: number,
    latency: number,
    bandwidth: number,
    lost: boolean,
  ): void {
    const now = this.clock.now()
    const start = Math.max(now, this.busyUntil)
    const departAt = Number.isFinite(bandwidth) ? start + (size * 1000) / bandwidth : start
    this.busyUntil = departAt
    const arriveAt = Math.max(this.lastArrival, departAt + latency)
    this.lastArrival = arriveAt
    this.frames.push({ kind, data, size, departAt, arriveAt, lost })
    this.queuedBytes += size
    this.schedule(now)
  }

  /** Asks for a `drained` call whenever bytes leave the send buffer (while someone waits for room). */
  watch(on: boolean): void {
    if (this.watching === on) return
    this.watching = on
    if (on) this.schedule(this.clock.now())
  }

  /** Forgets the frames not yet on the wire (their sender vanished); those in flight still arrive. */
  dropQueued(): void {
    const now = this.clock.now()
    this.advance(now)
    this.frames.length = this.departed
    this.queuedBytes = 0
    this.busyUntil = now
    this.lastArrival = this.length > 0 ? (this.frames[this.frames.length - 1] as Frame).arriveAt : 0
  }

  /** Forgets everything and cancels the timer. */
  clear(): void {
    this.frames = []
    this.head = 0
    this.departed = 0
    this.queuedBytes = 0
    this.cancelTimer()
  }

  private advance(now: number): void {
    const frames = this.frames
    if (this.busyUntil <= now) {
      // The last frame is on the wire, so every frame is: no need to read them (their sizes add up to
      // queuedBytes exactly: whole numbers).
      this.departed = frames.length
      this.queuedBytes = 0
      return
    }
    while (this.departed < frames.length) {
      const f = frames[this.departed] as Frame
      if (f.departAt > now) break
      this.queuedBytes -= f.size
      this.departed++
    }
  }

  private run(): void {
    this.running = true
    const now = this.clock.now()
    try {
      const before = this.queuedBytes
      this.advance(now)
      while (this.head < this.frames.length) {
        const f = this.frames[this.head] as Frame
        if (f.arriveAt > now) break
        this.frames[this.head] = undefined
        this.head++
        if (!f.lost) this.sink.deliverFrame(f)
      }
      this.compact()
      if (this.watching && this.queuedBytes < before) this.sink.drained()
    } finally {
      this.running = false
      this.schedule(now)
    }
  }

  private compact(): void {
    if (this.head === this.frames.length) {
      this.frames.length = 0
      this.head = 0
      this.departed = 0
    } else if (this.head > COMPACT_AFTER && this.head * 2 > this.frames.length) {
      this.frames = this.frames.slice(this.head)
      this.departed -= this.head
      this.head = 0
    }
  }

  private schedule(now: number): void {
    if (this.running || this.microtask) return
    let next = Number.POSITIVE_INFINITY
    if (this.head < this.frames.length) next = (this.frames[this.head] as Frame).arriveAt
    if (this.watching && this.departed < this.frames.length) {
      next = Math.min(next, (this.frames[this.departed] as Frame).departAt)
    }
    if (next === Number.POSITIVE_INFINITY) {
      this.cancelTimer()
      return
    }
    if (next <= now) {
      this.runSoon()
      return
    }
    if (this.timer !== undefined && this.timerAt <= next) return
    this.cancelTimer()
    this.runAt(next, now)
  }

  // The closures live in methods of their own: in `schedule`, the scope they
  // capture would be allocated on every call, even those that make none.

  // Each made once per pipe, with its first use (not one closure per frame: every frame that crosses a link
  // with latency waits for a timer, and most of them are still in flight when the young generation is collected).
  private onMicrotask: (() => void) | undefined
  private onTimer: (() => void) | undefined

  private runSoon(): void {
    this.microtask = true
    this.onMicrotask ??= () => {
      this.microtask = false
      this.run()
    }
    queueMicrotask(this.onMicrotask)
  }

  private runAt(next: number, now: number): void {
    this.timerAt = next
    this.onTimer ??= () => {
      this.timer = undefined
      this.timerAt = Number.POSITIVE_INFINITY
      this.run()
    }
    this.timer = this.clock.setTimeout(this.onTimer, next - now)
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    this.timer = undefined
    this.timerAt = Number.POSITIVE_INFINITY
  }
}
