/**
 * A map of at most `2 × generation` entries, O(1) per access: entries go into
 * the young generation; when it is full it becomes the old one and the
 * previous old one is dropped; an entry found in the old generation moves back
 * to the young one. What was used during the last generation survives a
 * turnover, unlike a map cleared when full (which forgot everything at once,
 * so a working set a little larger than the map hit almost never). Core's
 * record caches and chord's ring ids use it.
 */
export class GenerationCache<K, V> {
  private young = new Map<K, V>()
  private old = new Map<K, V>()

  constructor(private readonly generation: number) {}

  get(key: K): V | undefined {
    const value = this.young.get(key)
    if (value !== undefined) return value
    const older = this.old.get(key)
    if (older !== undefined) {
      this.old.delete(key)
      this.set(key, older)
    }
    return older
  }

  /** Entries held (at most `2 × generation`). */
  get size(): number {
    return this.young.size + this.old.size
  }

  set(key: K, value: V): void {
    if (this.young.size >= this.generation) {
      this.old = this.young
      this.young = new Map()
    }
    this.young.set(key, value)
  }
}
