/** One scheduled callback. The object itself is the Clock's timer handle. */
export interface Timer {
  /** Virtual time it is due at, in milliseconds. */
  readonly at: number
  /** Insertion sequence: timers due at the same time fire in the order they were set. */
  readonly seq: number
  fn: (() => void) | undefined
  /** Position in the heap, or -1 once popped or removed. */
  pos: number
}

/**
 * A binary min-heap of timers ordered by (at, seq). Removal is O(log n)
 * through each timer's stored position, so cleared timeouts leave nothing behind.
 */
export class TimerHeap {
  private readonly items: Timer[] = []

  get size(): number {
    return this.items.length
  }

  peek(): Timer | undefined {
    return this.items[0]
  }

  push(timer: Timer): void {
    timer.pos = this.items.length
    this.items.push(timer)
    this.up(timer.pos)
  }

  pop(): Timer | undefined {
    const items = this.items
    const top = items[0]
    if (top === undefined) return undefined
    const last = items.pop() as Timer
    if (last !== top) {
      items[0] = last
      last.pos = 0
      this.down(0)
    }
    top.pos = -1
    return top
  }

  /** Removes a timer that is still queued; returns false when it already fired or was removed. */
  remove(timer: Timer): boolean {
    const i = timer.pos
    const items = this.items
    if (i < 0 || items[i] !== timer) return false
    const last = items.pop() as Timer
    timer.pos = -1
    if (last !== timer) {
      items[i] = last
      last.pos = i
      this.down(i)
      this.up(last.pos)
    }
    return true
  }

  clear(): void {
    for (const t of this.items) t.pos = -1
    this.items.length = 0
  }

  private up(i: number): void {
    const items = this.items
    const t = items[i] as Timer
    while (i > 0) {
      const p = (i - 1) >> 1
      const parent = items[p] as Timer
      if (!before(t, parent)) break
      items[i] = parent
      parent.pos = i
      i = p
    }
    items[i] = t
    t.pos = i
  }

  private down(i: number): void {
    const items = this.items
    const n = items.length
    const t = items[i] as Timer
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      let c = l
      if (r < n && before(items[r] as Timer, items[l] as Timer)) c = r
      const child = items[c] as Timer
      if (!before(child, t)) break
      items[i] = child
      child.pos = i
      i = c
    }
    items[i] = t
    t.pos = i
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq)
}
