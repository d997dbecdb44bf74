/** One scheduled callback. The object itself is the Clock's timer handle. */
export interface Timer {
  /** Virtual time it is due at, in milliseconds. */
  readonly at: number
  /** Insertion sequence: timers due at the same time fire in the order they were set. */
  readonly seq: number
  fn: (() => void) | undefined
  /** While queued, the id of the heap that holds it; -1 once popped or removed (set by the heap). */
  pos: number
}

/** Removed timers a heap may hold before it sweeps them out: at least this many, and more than its live ones. */
const SWEEP_FROM = 1024

/** Heaps made so far: each has its own id, which its timers carry while queued. */
let heaps = 0

/**
 * A binary min-heap of timers ordered by (at, seq). Each timer's keys are
 * kept beside it in arrays of numbers, so sifting compares numbers in a row
 * instead of reaching into timer objects spread over the heap (at a
 * simulator's scale, a cache miss per comparison). A removed timer is marked
 * and stays until it reaches the top or the heap sweeps (when it holds more
 * removed timers than live ones, and at least `SWEEP_FROM`), so cleared
 * timeouts hold at most as much memory as live ones, at O(1) per removal.
 * Keys are unique (`seq`), so the order timers come out in does not depend on
 * the heap's layout.
 */
export class TimerHeap {
  private readonly id = heaps++
  private items: Timer[] = []
  private ats: number[] = []
  private seqs: number[] = []
  /** Removed timers still in `items`. */
  private removed = 0

  /** Timers queued and not removed. */
  get size(): number {
    return this.items.length - this.removed
  }

  /** Timers the heap holds, removed ones not yet swept included: at most `max(2 * size, size + SWEEP_FROM)`. */
  get held(): number {
    return this.items.length
  }

  peek(): Timer | undefined {
    this.dropRemovedTop()
    return this.items[0]
  }

  push(timer: Timer): void {
    timer.pos = this.id
    this.items.push(timer)
    this.ats.push(timer.at)
    this.seqs.push(timer.seq)
    this.up(this.items.length - 1)
  }

  pop(): Timer | undefined {
    this.dropRemovedTop()
    const top = this.items[0]
    if (top === undefined) return undefined
    this.popTop()
    top.pos = -1
    return top
  }

  /** Removes a timer that is still queued here; returns false when it already fired or was removed, or is another heap's. */
  remove(timer: Timer): boolean {
    if (timer.pos !== this.id) return false
    timer.pos = -1
    this.removed++
    if (this.removed >= SWEEP_FROM && this.removed * 2 > this.items.length) this.sweep()
    return true
  }

  clear(): void {
    for (const t of this.items) t.pos = -1
    this.items = []
    this.ats = []
    this.seqs = []
    this.removed = 0
  }

  private dropRemovedTop(): void {
    const items = this.items
    while (items.length > 0 && (items[0] as Timer).pos < 0) {
      this.popTop()
      this.removed--
    }
  }

  /** Takes the root out (the last item takes its place and sinks). */
  private popTop(): void {
    const items = this.items
    const last = items.pop() as Timer
    const at = this.ats.pop() as number
    const seq = this.seqs.pop() as number
    if (items.length > 0) this.down(0, last, at, seq)
  }

  /** Keeps the live timers only, and rebuilds the heap from them. */
  private sweep(): void {
    const items: Timer[] = []
    const ats: number[] = []
    const seqs: number[] = []
    for (let i = 0; i < this.items.length; i++) {
      const t = this.items[i] as Timer
      if (t.pos < 0) continue
      items.push(t)
      ats.push(this.ats[i] as number)
      seqs.push(this.seqs[i] as number)
    }
    this.items = items
    this.ats = ats
    this.seqs = seqs
    this.removed = 0
    for (let i = (items.length >> 1) - 1; i >= 0; i--)
      this.down(i, items[i] as Timer, ats[i] as number, seqs[i] as number)
  }

  private up(i: number): void {
    const { items, ats, seqs } = this
    const t = items[i] as Timer
    const at = ats[i] as number
    const seq = seqs[i] as number
    while (i > 0) {
      const p = (i - 1) >> 1
      const pa = ats[p] as number
      if (pa < at || (pa === at && (seqs[p] as number) < seq)) break
      items[i] = items[p] as Timer
      ats[i] = pa
      seqs[i] = seqs[p] as number
      i = p
    }
    items[i] = t
    ats[i] = at
    seqs[i] = seq
  }

  /** Places timer `t` (keys `at`, `seq`) at `i` or below. */
  private down(i: number, t: Timer, at: number, seq: number): void {
    const { items, ats, seqs } = this
    const n = items.length
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      let c = l
      let ca = ats[l] as number
      let cs = seqs[l] as number
      const r = l + 1
      if (r < n) {
        const ra = ats[r] as number
        const rs = seqs[r] as number
        if (ra < ca || (ra === ca && rs < cs)) {
          c = r
          ca = ra
          cs = rs
        }
      }
      if (at < ca || (at === ca && seq < cs)) break
      items[i] = items[c] as Timer
      ats[i] = ca
      seqs[i] = cs
      i = c
    }
    items[i] = t
    ats[i] = at
    seqs[i] = seq
  }
}
