/** One scheduled callback. The object itself is the Clock's timer handle. */
export interface Timer {
  /** Virtual time it is due at, in milliseconds. */
  readonly at: number
  /** Insertion sequence: timers due at the same time fire in the order they were set. */
  readonly seq: number
  fn: (() => void) | undefined
  /** While queued, the id of the heap that holds it; -1 once popped or removed (set by the heap). */
  pos: number
  /** The next timer due at the same time, while a `TimerQueue`'s ring holds it (set by the queue). */
  next?: Timer | undefined
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

  /** Removed timers it holds. */
  get removedCount(): number {
    return this.removed
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
  sweep(): void {
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

/** Milliseconds a `TimerQueue`'s ring covers (a power of two): a timer due later waits in its heap. */
const RING = 1 << 16
const RING_MASK = RING - 1
/** 32-bit words of the ring's map of non-empty slots. */
const RING_WORDS = RING >>> 5

/**
 * The virtual clock's queue: the same timers in the same order as a
 * `TimerHeap` (by `at`, then `seq`), as a calendar. A timer due at a whole
 * millisecond within `RING` of the last one taken out goes to that
 * millisecond's slot of a ring, at the end of the slot's list (a link in the
 * timer itself): a slot holds the timers of one instant, in the order they
 * were set, which is `seq`'s. Any other timer (due later, or at a fraction of
 * a millisecond) waits in a `TimerHeap`, and the earlier of the two heads
 * comes out. A bit per slot tells the non-empty ones, so the next instant is
 * found a word of 32 milliseconds at a time.
 *
 * A simulation's timers are nearly all due within a few hundred milliseconds
 * (a message's latency, mean 50 ms): each is set and taken out at O(1), with
 * no sifting through the levels of a heap of tens of thousands (a cache miss
 * at nearly every level). A removed timer is marked, skipped when its slot
 * comes, and swept out as the heap's are: when removed timers are more than
 * the live ones and at least `SWEEP_FROM`.
 */
export class TimerQueue {
  private readonly id = heaps++
  /** Timers due later than the ring covers (or at a fraction of a millisecond). */
  private readonly later = new TimerHeap()
  /** Each slot's first and last timer (made with the first timer the ring takes). */
  private firsts: (Timer | undefined)[] = []
  private lasts: (Timer | undefined)[] = []
  /** Bit `s & 31` of word `s >>> 5`: slot `s` holds timers. */
  private bits = new Int32Array(0)
  /**
   * No timer of the ring is due before it, and each is due before `base + RING`: the time of the
   * last timer taken out (it only grows), so slot `at & RING_MASK` holds the timers due at `at` alone.
   */
  private base = 0
  /** Timers in the ring, removed ones not yet swept included, and the removed ones. */
  private count = 0
  private removed = 0

  /** Timers queued and not removed. */
  get size(): number {
    return this.count - this.removed + this.later.size
  }

  /** Timers held, removed ones not yet swept included: at most `max(2 * size, size + SWEEP_FROM)`. */
  get held(): number {
    return this.count + this.later.held
  }

  peek(): Timer | undefined {
    const r = this.ringTop()
    if (this.later.size === 0) return r
    const o = this.later.peek() as Timer
    if (r === undefined || o.at < r.at || (o.at === r.at && o.seq < r.seq)) return o
    return r
  }

  push(timer: Timer): void {
    const at = timer.at
    const d = at - this.base
    if (!(d >= 0 && d < RING && Number.isInteger(at))) {
      this.later.push(timer)
      return
    }
    if (this.bits.length === 0) {
      this.firsts = new Array(RING).fill(undefined)
      this.lasts = new Array(RING).fill(undefined)
      this.bits = new Int32Array(RING_WORDS)
    }
    timer.pos = this.id
    timer.next = undefined
    const slot = at & RING_MASK
    const last = this.lasts[slot]
    if (last === undefined) {
      this.firsts[slot] = timer
      this.bits[slot >>> 5] = (this.bits[slot >>> 5] as number) | (1 << (slot & 31))
    } else last.next = timer
    this.lasts[slot] = timer
    this.count++
  }

  pop(): Timer | undefined {
    const t = this.peek()
    if (t !== undefined) this.take(t)
    return t
  }

  /** Takes out `t`, the timer `peek` returned last (nothing changed the queue since): `pop` without its `peek`. */
  take(t: Timer): void {
    if (t.pos === this.id) this.unlinkFirst(t.at & RING_MASK, t)
    else this.later.pop()
    t.pos = -1
    if (t.at > this.base) this.base = t.at
  }

  /** Removes a timer that is still queued here; returns false when it already fired or was removed, or is another queue's. */
  remove(timer: Timer): boolean {
    if (timer.pos !== this.id) {
      if (!this.later.remove(timer)) return false
    } else {
      timer.pos = -1
      this.removed++
    }
    const removed = this.removed + this.later.removedCount
    if (removed >= SWEEP_FROM && removed * 2 > this.held) this.sweep()
    return true
  }

  clear(): void {
    for (let w = 0; w < this.bits.length; w++) {
      for (let word = this.bits[w] as number; word !== 0; word &= word - 1) {
        const slot = (w << 5) | (31 - Math.clz32(word & -word))
        for (let t = this.firsts[slot]; t !== undefined; t = t.next) t.pos = -1
        this.firsts[slot] = undefined
        this.lasts[slot] = undefined
      }
      this.bits[w] = 0
    }
    this.count = 0
    this.removed = 0
    this.later.clear()
  }

  /** The ring's first live timer (the removed ones before it are let go), or undefined when it holds none. */
  private ringTop(): Timer | undefined {
    while (this.count > 0) {
      const slot = this.nextSlot()
      const t = this.firsts[slot] as Timer
      if (t.pos === this.id) return t
      this.removed--
      this.unlinkFirst(slot, t)
    }
    return undefined
  }

  /** Takes `t`, the first timer of `slot`, out of the ring. */
  private unlinkFirst(slot: number, t: Timer): void {
    const next = t.next
    t.next = undefined
    this.count--
    this.firsts[slot] = next
    if (next === undefined) {
      this.lasts[slot] = undefined
      this.bits[slot >>> 5] = (this.bits[slot >>> 5] as number) & ~(1 << (slot & 31))
    }
  }

  /** The first slot holding timers from `base` on, round the ring (the ring holds at least one). */
  private nextSlot(): number {
    const bits = this.bits
    const from = this.base & RING_MASK
    let w = from >>> 5
    let word = (bits[w] as number) & (-1 << (from & 31))
    while (word === 0) {
      w = (w + 1) & (RING_WORDS - 1)
      word = bits[w] as number
    }
    return (w << 5) | (31 - Math.clz32(word & -word))
  }

  /** Lets go of the removed timers: the ring's, from each slot's list (the order of the others stays), and the heap's. */
  private sweep(): void {
    for (let w = 0; w < this.bits.length; w++) {
      for (let word = this.bits[w] as number; word !== 0; word &= word - 1) {
        const slot = (w << 5) | (31 - Math.clz32(word & -word))
        let first: Timer | undefined
        let last: Timer | undefined
        for (let t = this.firsts[slot]; t !== undefined; ) {
          const next = t.next
          if (t.pos === this.id) {
            if (last === undefined) first = t
            else last.next = t
            last = t
          } else {
            t.next = undefined
            this.count--
          }
          t = next
        }
        if (last !== undefined) last.next = undefined
        this.firsts[slot] = first
        this.lasts[slot] = last
        if (first === undefined) this.bits[w] = (this.bits[w] as number) & ~(1 << (slot & 31))
      }
    }
    this.removed = 0
    if (this.later.removedCount > 0) this.later.sweep()
  }
}
