/** No slot: the end of the list. */
const NONE = -1

/**
 * Values by key, in the order they were last put, from the oldest to the newest. Putting a known
 * key again moves it to the newest end without touching the map (a Map kept in that order by
 * delete and set leaves a deleted entry behind at every move, and is rebuilt when they fill it).
 * The order is two arrays of slot numbers, so a walk reads a few contiguous arrays, not one
 * object per entry. No bound of its own: the owner removes the oldest as it needs.
 */
export class RecencyList<K, V> {
  private readonly slotOf = new Map<K, number>()
  private readonly keys: (K | undefined)[] = []
  private readonly values: (V | undefined)[] = []
  private older = new Int32Array(8)
  private newer = new Int32Array(8)
  /** Slots of removed entries, to fill first. */
  private readonly free: number[] = []
  private head = NONE
  private tail = NONE

  get size(): number {
    return this.slotOf.size
  }

  /** The oldest slot, where a walk starts (-1: empty). */
  get first(): number {
    return this.head
  }

  has(key: K): boolean {
    return this.slotOf.has(key)
  }

  /** The slot holding `key` (-1: not there). */
  slot(key: K): number {
    return this.slotOf.get(key) ?? NONE
  }

  /** Puts `value` under `key` as the newest entry. */
  put(key: K, value: V): void {
    if (!this.refresh(key, value)) this.add(key, value)
  }

  /** Puts `value` under `key` as the newest entry if `key` is there; false (and nothing done) if not. */
  refresh(key: K, value: V): boolean {
    const slot = this.slotOf.get(key)
    if (slot === undefined) return false
    this.renew(slot, value)
    return true
  }

  /** `refresh` of the entry in `slot` (from `slot`): `value` in it, and it becomes the newest. */
  renew(slot: number, value: V): void {
    this.values[slot] = value
    if (slot !== this.tail) {
      this.unlink(slot)
      this.append(slot)
    }
  }

  /** Adds `key`, which the caller knows is not there (`has` or `refresh` said so), as the newest entry. */
  add(key: K, value: V): void {
    const slot = this.free.pop() ?? this.grow()
    this.slotOf.set(key, slot)
    this.keys[slot] = key
    this.values[slot] = value
    this.append(slot)
  }

  delete(key: K): boolean {
    const slot = this.slotOf.get(key)
    if (slot === undefined) return false
    this.release(key, slot)
    return true
  }

  /** Removes the oldest entry (nothing when empty). */
  deleteOldest(): void {
    const slot = this.head
    if (slot !== NONE) this.release(this.keys[slot] as K, slot)
  }

  /** The value in `slot` (a slot from `first` or `next`). */
  value(slot: number): V {
    return this.values[slot] as V
  }

  /** The slot after `slot`, one newer (-1 past the newest). */
  next(slot: number): number {
    return this.newer[slot] as number
  }

  /** The values, oldest first. */
  toArray(): V[] {
    const out: V[] = []
    for (let s = this.head; s !== NONE; s = this.newer[s] as number) out.push(this.values[s] as V)
    return out
  }

  private release(key: K, slot: number): void {
    this.slotOf.delete(key)
    this.unlink(slot)
    this.keys[slot] = undefined
    this.values[slot] = undefined
    this.free.push(slot)
  }

  /** A new slot at the end of the arrays (doubling the link arrays when full). */
  private grow(): number {
    const slot = this.keys.length
    this.keys.push(undefined)
    this.values.push(undefined)
    if (slot === this.older.length) {
      const older = new Int32Array(slot * 2)
      const newer = new Int32Array(slot * 2)
      older.set(this.older)
      newer.set(this.newer)
      this.older = older
      this.newer = newer
    }
    return slot
  }

  private append(slot: number): void {
    this.older[slot] = this.tail
    this.newer[slot] = NONE
    if (this.tail === NONE) this.head = slot
    else this.newer[this.tail] = slot
    this.tail = slot
  }

  private unlink(slot: number): void {
    const older = this.older[slot] as number
    const newer = this.newer[slot] as number
    if (older === NONE) this.head = newer
    else this.newer[older] = newer
    if (newer === NONE) this.tail = older
    else this.older[newer] = older
  }
}
