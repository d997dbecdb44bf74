import type { RingNode } from './finger-table.js'

/**
 * Most nodes one `RouteHints` keeps (about 100 B each: at most about 400 KB
 * while a publish runs); past it, new nodes are not added.
 */
export const MAX_ROUTE_HINTS = 4096

/**
 * Nodes that answered the lookups of one batch (a publish, a refresh, a
 * withdrawal), sorted by id, so the batch's next lookups start at the known
 * node closest before their key instead of at this node's own fingers: a
 * publisher looks up some twenty keys per record, and the nodes that
 * answered the first ones cover much of the ring near the others. A hint
 * only chooses where a lookup starts; the answer is checked as any other
 * (its successor must follow the key as seen from the node that answered).
 * Made per batch and dropped with it.
 */
export class RouteHints<T extends RingNode> {
  /** By id, ascending. */
  private readonly sorted: T[] = []

  constructor(private readonly max = MAX_ROUTE_HINTS) {}

  get size(): number {
    return this.sorted.length
  }

  /** Adds (or refreshes) `node`; ignored when the hints are full. */
  add(node: T): void {
    const i = this.indexOf(node.id)
    if (this.sorted[i]?.id === node.id) {
      this.sorted[i] = node
      return
    }
    if (this.sorted.length >= this.max) return
    this.sorted.splice(i, 0, node)
  }

  /** Forgets `id` (it failed to answer). */
  remove(id: bigint): void {
    const i = this.indexOf(id)
    if (this.sorted[i]?.id === id) this.sorted.splice(i, 1)
  }

  /**
   * Up to `count` nodes that precede `key` on the ring, closest first
   * (wrapping round), none of them `key` itself.
   */
  preceding(key: bigint, count: number): T[] {
    const n = this.sorted.length
    const out: T[] = []
    // indexOf(key) is the first node at or after the key: the ones before it precede it.
    const at = this.indexOf(key)
    for (let k = 1; k <= n && out.length < count; k++) {
      const node = this.sorted[(at - k + n) % n] as T
      if (node.id !== key) out.push(node)
    }
    return out
  }

  /** Index of the first node whose id is >= `id` (the length when none is). */
  private indexOf(id: bigint): number {
    let lo = 0
    let hi = this.sorted.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((this.sorted[mid] as T).id < id) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}
