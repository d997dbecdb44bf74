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
  /** An entry that left the cache, kept to hold the next one (see `insert`). */
  private spare: Entry<V> | undefined

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
      this.spare = e
      return undefined
    }
    return e.value
  }

  /** Remembers `key` (anew, as the youngest entry), evicting expired and then the oldest entries. */
  set(key: K, value: V): void {
    this.entries.delete(key)
    this.insert(key, value, this.clock.now())
  }

  /**
   * Remembers `key` unless it is already known; returns true when it was new. One lookup for a
   * duplicate and two for a new key (a flooding node calls it for every query that reaches it).
   */
  add(key: K, value: V): boolean {
    const now = this.clock.now()
    const e = this.entries.get(key)
    if (e !== undefined) {
      if (now - e.at < this.maxAge && e.value !== undefined) return false
      this.entries.delete(key)
    }
    this.insert(key, value, now)
    return true
  }

  delete(key: K): boolean {
    return this.entries.delete(key)
  }

  clear(): void {
    this.entries.clear()
    this.oldestAt = Number.POSITIVE_INFINITY
  }

  /** Adds `key`, known absent, as the youngest entry, then prunes. */
  private insert(key: K, value: V, now: number): void {
    // The entry pruned last is reused: an entry lives long enough to reach the old generation, so a
    // full cache would otherwise promote one object per insert for the major collector to free.
    const e = this.spare
    if (e === undefined) this.entries.set(key, { value, at: now })
    else {
      this.spare = undefined
      e.value = value
      e.at = now
      this.entries.set(key, e)
    }
    if (now < this.oldestAt) this.oldestAt = now
    this.prune(now)
  }

  private prune(now: number): void {
    if (this.entries.size <= this.maxSize && now - this.oldestAt < this.maxAge) return
    // Map iteration is insertion order: the oldest entries come first.
    for (const [k, e] of this.entries) {
      if (this.entries.size > this.maxSize || now - e.at >= this.maxAge) {
        this.entries.delete(k)
        this.spare = e
      } else {
        this.oldestAt = e.at
        return
      }
    }
    this.oldestAt = Number.POSITIVE_INFINITY
  }
}
