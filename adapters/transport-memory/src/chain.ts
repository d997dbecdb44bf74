/** An item of a `Chain`: its neighbours in the chain are fields of its own. */
export interface Linked<T> {
  chainPrev: T | undefined
  chainNext: T | undefined
}

/**
 * A list through its items, in the order they were added: adding and
 * removing write a few fields, with no Set to make, hash or grow (a
 * simulator's 100,000 transports open and close connections all the time).
 * An item is in at most one chain.
 */
export class Chain<T extends Linked<T>> {
  private first: T | undefined
  private last: T | undefined
  private count = 0

  get size(): number {
    return this.count
  }

  add(item: T): void {
    item.chainPrev = this.last
    item.chainNext = undefined
    if (this.last === undefined) this.first = item
    else this.last.chainNext = item
    this.last = item
    this.count++
  }

  /** Takes `item` off (nothing when it is not in this chain). */
  remove(item: T): void {
    const prev = item.chainPrev
    const next = item.chainNext
    if (prev === undefined && this.first !== item) return
    if (prev === undefined) this.first = next
    else prev.chainNext = next
    if (next === undefined) this.last = prev
    else next.chainPrev = prev
    item.chainPrev = undefined
    item.chainNext = undefined
    this.count--
  }

  /** The items, first added first (a copy: what is done to them may take them off). */
  toArray(): T[] {
    const out: T[] = []
    for (let item = this.first; item !== undefined; item = item.chainNext) out.push(item)
    return out
  }
}
