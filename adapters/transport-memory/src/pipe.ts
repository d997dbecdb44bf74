import { type Clock, ConnectionEmitter, type TimerHandle } from '@peerkit/core'

/** What travels on a pipe: a message, or one of the connection's control frames. */
export type FrameKind = 'data' | 'auth' | 'fin' | 'rst'

/** The kind a lost frame is queued under: it takes its turn on the link and is never delivered. */
const LOST = 'lost'

/**
 * The slots a frame takes in its pipe's queue, `STRIDE` in all: its kind
 * (`LOST` when loss or a partition dropped it), its data (the message, a
 * copy; the proof, `auth`; or the reason, `rst`), its size in bytes, when its
 * last byte is on the wire (it stops counting against the send buffer) and
 * when it reaches the other end, in whole milliseconds (as the clock fires
 * timers). Numbers, not an enum: the compiler keeps an enum as an object, and
 * every slot read would load its offset from it.
 */
const [KIND, DATA, SIZE, DEPART, ARRIVE, STRIDE] = [0, 1, 2, 3, 4, 5] as const

/** Frames an emptied queue keeps room for (a larger one is let go). */
const KEEP_ROOM = 64 * STRIDE
/** Slots of delivered frames a queue may hold before it moves the others to its front. */
const COMPACT_AFTER = 1024 * STRIDE

/**
 * One direction of a connection: a FIFO of frames, each leaving after the
 * frames ahead of it (`size / bandwidth` seconds on the wire) and arriving
 * `latency` later, never before the frame ahead of it. One clock timer at a
 * time, for the next due event; frames due now go on a microtask, so a link
 * without latency or bandwidth limit costs no timers at all.
 *
 * The frames live in one array, `STRIDE` slots each, reused as they are
 * delivered: no object per frame (a simulation has tens of thousands of
 * frames in flight, each of which outlived the young generation's
 * collections as an object), and arrival times in whole milliseconds stay
 * small integers, not boxed numbers.
 *
 * The pipe is its receiving end itself (the base class of a connection), not an object of its own:
 * a frame's arrival reads its timer's function and then the connection, whose lines of memory it
 * reads side by side from one address, where a pipe of its own was one more object to reach first,
 * and the connection only through it (a simulated node's are nearly always out of the CPU's caches
 * by the time a frame arrives). The sender pushes onto the other end's pipe (`push`); the pipe calls
 * its own `deliverFrame` as frames arrive, and `pipeDrained` as bytes leave while someone watches.
 */
export abstract class Pipe extends ConnectionEmitter {
  // What every frame reads comes first, in a few lines of memory side by side.
  /**
   * The clock the frames travel on: their sender's (`MemoryNetwork`: every delay runs on the sending
   * transport's clock), which the connection sets as it is joined to its other end.
   */
  protected clock: Clock
  /**
   * The frame in flight while it is the only one and went on the wire at once (a link without a
   * bandwidth limit, nearly always in a simulation): its kind (`LOST` when dropped; undefined: no
   * such frame), its data and when it arrives, in fields of the pipe. A message's path reads the
   * pipe alone, not the queue's array and its elements too (two more objects, most of them out of
   * the CPU's caches by the time the frame arrives). A frame pushed while it is there, or while the
   * queue holds frames, goes to the queue: this one is always the oldest.
   */
  private soleKind: FrameKind | typeof LOST | undefined = undefined
  private soleData: unknown = undefined
  private soleArrive = 0
  private running = false
  private microtask = false
  private timer: TimerHandle | undefined = undefined
  /**
   * When `timer` fires (read only while there is one). A whole number, never `Infinity`: a field that
   * held a non-integer is a box of its own (a heap number), one more object to read at every frame.
   */
  private timerAt = 0
  private busyUntil = 0
  private lastArrival = 0
  /** Slot of the next frame to arrive. */
  private head = 0
  /** Slot after the last frame. */
  private tail = 0
  /** Slot of the first frame not yet on the wire. */
  private departed = 0
  /** Bytes of the frames from `departed` on (0 when all of them are on the wire). */
  private queuedBytes = 0
  private watching = false
  private q: unknown[] = []
  // Each made once, with the pipe (not one closure per frame: every frame that crosses a link with
  // latency waits for a timer, and most of them are still in flight when the young generation is
  // collected). Bound methods, not arrows: a bound function holds the pipe itself, where an arrow
  // reaches it through its scope, one more object to read at every frame's arrival.
  private readonly onMicrotask: () => void
  private readonly onTimer: () => void

  constructor(clock: Clock) {
    super()
    this.clock = clock
    this.onMicrotask = this.ranSoon.bind(this)
    this.onTimer = this.fired.bind(this)
  }

  /** A frame arrived (lost ones never do): its kind and its message, proof or reason. */
  protected abstract deliverFrame(kind: FrameKind, data: unknown): void

  /** Bytes left the send buffer while someone waited for room (see `watch`): the sender's to handle. */
  protected abstract pipeDrained(): void

  /** Bytes accepted but not yet on the wire. */
  get queued(): number {
    if (this.queuedBytes === 0) return 0
    this.advance(this.clock.now())
    return this.queuedBytes
  }

  /** Frames not yet delivered. */
  get length(): number {
    return (this.tail - this.head) / STRIDE + (this.soleKind === undefined ? 0 : 1)
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
    // Whole milliseconds: the clock's times are, and its timers fire at the next whole one.
    const arriveAt = Math.ceil(Math.max(this.lastArrival, departAt + latency))
    this.lastArrival = arriveAt
    if (departAt <= now && this.soleKind === undefined && this.head === this.tail) {
      // The only frame in flight, on the wire at once: kept in the pipe's own fields (see `soleKind`).
      this.soleKind = lost ? LOST : kind
      this.soleData = data
      this.soleArrive = arriveAt
      this.departed = this.tail
      this.queuedBytes = 0
      this.schedule(now)
      return
    }
    const q = this.q
    const at = this.tail
    if (at === q.length) q.push(lost ? LOST : kind, data, size, departAt, arriveAt)
    else {
      q[at + KIND] = lost ? LOST : kind
      q[at + DATA] = data
      q[at + SIZE] = size
      q[at + DEPART] = departAt
      q[at + ARRIVE] = arriveAt
    }
    this.tail = at + STRIDE
    if (departAt <= now) {
      // On the wire at once (no bandwidth limit, nothing ahead of it): so is every frame before it.
      this.departed = this.tail
      this.queuedBytes = 0
    } else this.queuedBytes += size
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
    this.forget(this.departed, this.tail)
    this.tail = this.departed
    this.queuedBytes = 0
    this.busyUntil = now
    if (this.head === this.tail && this.q.length > KEEP_ROOM) this.q = []
    this.lastArrival =
      this.tail > this.head
        ? (this.q[this.tail - STRIDE + ARRIVE] as number)
        : this.soleKind === undefined
          ? 0
          : this.soleArrive
  }

  /** Forgets everything and cancels the timer. */
  clear(): void {
    this.soleKind = undefined
    this.soleData = undefined
    this.forget(this.head, this.tail)
    if (this.q.length > KEEP_ROOM) this.q = []
    this.head = 0
    this.departed = 0
    this.tail = 0
    this.queuedBytes = 0
    this.cancelTimer()
  }

  private advance(now: number): void {
    if (this.busyUntil <= now) {
      // The last frame is on the wire, so every frame is: no need to read them (their sizes add up to
      // queuedBytes exactly: whole numbers).
      this.departed = this.tail
      this.queuedBytes = 0
      return
    }
    const q = this.q
    while (this.departed < this.tail) {
      if ((q[this.departed + DEPART] as number) > now) break
      this.queuedBytes -= q[this.departed + SIZE] as number
      this.departed += STRIDE
    }
  }

  private run(): void {
    this.running = true
    const now = this.clock.now()
    try {
      const before = this.queuedBytes
      this.advance(now)
      const sole = this.soleKind
      // The oldest frame: when it is not due, no frame of the queue is (none arrives before it).
      const due = sole === undefined || this.soleArrive <= now
      if (sole !== undefined && due) {
        const data = this.soleData
        this.soleKind = undefined
        this.soleData = undefined
        if (sole !== LOST) this.deliverFrame(sole, data)
      }
      const q = this.q
      while (due && this.head < this.tail) {
        const at = this.head
        if ((q[at + ARRIVE] as number) > now) break
        const kind = q[at + KIND] as FrameKind | typeof LOST
        const data = q[at + DATA]
        q[at + DATA] = undefined
        this.head = at + STRIDE
        if (kind !== LOST) this.deliverFrame(kind, data)
      }
      this.compact()
      if (this.watching && this.queuedBytes < before) this.pipeDrained()
    } finally {
      this.running = false
      this.schedule(now)
    }
  }

  /** Lets go of the messages in slots `from` to `to` (the queue's array outlives them). */
  private forget(from: number, to: number): void {
    for (let i = from + DATA; i < to; i += STRIDE) this.q[i] = undefined
  }

  private compact(): void {
    if (this.head === this.tail) {
      // An empty queue at its first slot was never used since it was last let go or emptied (see
      // `dropQueued`): the frame kept in the pipe's own fields arrives without a read of the queue's array.
      if (this.tail === 0) return
      if (this.q.length > KEEP_ROOM) this.q = []
      this.head = 0
      this.departed = 0
      this.tail = 0
    } else if (this.head > COMPACT_AFTER && this.head * 2 > this.tail) {
      this.q = this.q.slice(this.head, this.tail)
      this.departed -= this.head
      this.tail -= this.head
      this.head = 0
    }
  }

  private schedule(now: number): void {
    if (this.running || this.microtask) return
    let next = Number.POSITIVE_INFINITY
    if (this.soleKind !== undefined) next = this.soleArrive
    else if (this.head < this.tail) next = this.q[this.head + ARRIVE] as number
    if (this.watching && this.departed < this.tail) {
      next = Math.min(next, this.q[this.departed + DEPART] as number)
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

  private runSoon(): void {
    this.microtask = true
    queueMicrotask(this.onMicrotask)
  }

  private ranSoon(): void {
    this.microtask = false
    this.run()
  }

  private runAt(next: number, now: number): void {
    this.timerAt = next
    this.timer = this.clock.setTimeout(this.onTimer, next - now)
  }

  private fired(): void {
    this.timer = undefined
    this.run()
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    this.timer = undefined
  }
}
