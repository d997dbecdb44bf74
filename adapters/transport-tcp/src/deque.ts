/**
 * A FIFO queue with O(1) `push` and `shift` (an Array's `shift` moves every
 * element, which turns a long send queue quadratic).
 */
export class Deque<T> {
  private items: (T | undefined)[] = []
  private head = 0

  get length(): number {
    return this.items.length - this.head
  }

  push(item: T): void {
    this.items.push(item)
  }

  /** The first item, without removing it. */
  first(): T | undefined {
    return this.items[this.head]
  }

  last(): T | undefined {
    return this.length > 0 ? this.items[this.items.length - 1] : undefined
  }

  replaceFirst(item: T): void {
    if (this.length > 0) this.items[this.head] = item
  }

  replaceLast(item: T): void {
    if (this.length > 0) this.items[this.items.length - 1] = item
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined
    const item = this.items[this.head]
    this.items[this.head++] = undefined
    if (this.head === this.items.length) {
      this.items = []
      this.head = 0
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return item
  }

  /** Removes one item wherever it is (O(n)); false if it was not there. */
  remove(item: T): boolean {
    const i = this.items.indexOf(item, this.head)
    if (i < 0) return false
    this.items.splice(i, 1)
    return true
  }

  /** Empties the queue and returns what it held, in order. */
  drain(): T[] {
    const out = this.items.slice(this.head) as T[]
    this.items = []
    this.head = 0
    return out
  }
}
