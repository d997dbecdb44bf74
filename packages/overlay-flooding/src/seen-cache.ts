import type { Clock } from '@peerkit/core'

interface Entry<V> {
  value: V
  at: number
}

/**
 * A map that forgets: at most `maxSize` entries, each for at most `maxAge`
 * milliseconds on `clock`. The oldest entry goes first when it is full.
 * Expiry is lazy (checked on access and on insert), so it sets no timers:
 * thousands of them cost nothing while idle in a simulator.
 */
export class SeenCache<K, V> {
  private readonly entries = new Map<K, Entry<V>>()
  /**
   * At most the time of the oldest entry (entries only leave, so it stays a
   * lower bound): while it is younger than `maxAge` and the cache not over
   * `maxSize`, `set` has nothing to prune and makes no iterator (a flooding
   * node sets an entry for every query it sees).
   */
  private oldestAt = Number.POSITIVE_INFINITY

  constructor(
    private readonly clock: Clock,
    readonly maxSize: number,
    readonly maxAge: number,
  ) {}

  get size(): number {
    return this.entries.size
  }

  has(key: K): boolean {
    return this.get(key) !== undefined
  }

  /** The value, or undefined when absent or expired. */
  get(key: K): V | undefined {
    const e = this.entries.get(key)
    if (!e) return undefined
    if (this.clock.now() - e.at >= this.maxAge) {
      this.entries.delete(key)
      return undefined
    }
    return e.value
  }

  /** Remembers `key` (anew, as the youngest entry), evicting expired and then the oldest entries. */
  set(key: K, value: V): void {
    const now = this.clock.now()
    this.entries.delete(key)
    this.entries.set(key, { value, at: now })
    if (now < this.oldestAt) this.oldestAt = now
    this.prune(now)
  }

  /** Remembers `key` unless it is already known; returns true when it was new. */
  add(key: K, value: V): boolean {
    if (this.has(key)) return false
    this.set(key, value)
    return true
  }

  delete(key: K): boolean {
    return this.entries.delete(key)
  }

  clear(): void {
    this.entries.clear()
    this.oldestAt = Number.POSITIVE_INFINITY
  }

  private prune(now: number): void {
    if (this.entries.size <= this.maxSize && now - this.oldestAt < this.maxAge) return
    // Map iteration is insertion order: the oldest entries come first.
    for (const [k, e] of this.entries) {
      if (this.entries.size > this.maxSize || now - e.at >= this.maxAge) this.entries.delete(k)
      else {
        this.oldestAt = e.at
        return
      }
    }
    this.oldestAt = Number.POSITIVE_INFINITY
  }
}
