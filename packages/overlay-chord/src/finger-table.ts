import type { Ring } from './ring.js'

/** Anything with a place on the ring. */
export interface RingNode {
  readonly id: bigint
}

/**
 * A node's finger table (Stoica et al., ToN 2003, §IV-D): entry `i` is the
 * first node that succeeds `(n + 2^i) mod 2^m`. Pure data, no I/O: the overlay
 * fills it through lookups, a simulator or a benchmark from global knowledge.
 */
export class FingerTable<T extends RingNode> {
  private readonly fingers: (T | undefined)[]
  /** Each finger's clockwise distance from this node (`closestPreceding` ranks by it at every step); 0n where none. */
  private readonly from: bigint[]
  /** The extra nodes of the last `closestPreceding` (the successor list, nearly always the same) and their distances from n. */
  private extraNodes: T[] = []
  private extraFrom: bigint[] = []

  constructor(
    readonly ring: Ring,
    readonly self: bigint,
  ) {
    this.fingers = new Array(ring.bits).fill(undefined)
    this.from = new Array(ring.bits).fill(0n)
  }

  /** Number of entries: m. */
  get length(): number {
    return this.fingers.length
  }

  /** Where finger `i` starts: `(n + 2^i) mod 2^m`. */
  start(i: number): bigint {
    return this.ring.fingerStart(this.self, i)
  }

  get(i: number): T | undefined {
    return this.fingers[i]
  }

  set(i: number, node: T | undefined): void {
    if (i < 0 || i >= this.fingers.length)
      throw new RangeError(`finger index must be in [0, ${this.fingers.length}) (got ${i})`)
    this.fingers[i] = node
    this.from[i] = node === undefined ? 0n : this.ring.distance(this.self, node.id)
  }

  /** Clears every entry that points at `id`; returns how many did. */
  remove(id: bigint): number {
    let n = 0
    for (let i = 0; i < this.fingers.length; i++) {
      if (this.fingers[i]?.id === id) {
        this.fingers[i] = undefined
        this.from[i] = 0n
        n++
      }
    }
    return n
  }

  /** The distinct nodes in the table, lowest finger first. */
  distinct(): T[] {
    const out: T[] = []
    for (const f of this.fingers) if (f && !out.some((o) => o.id === f.id)) out.push(f)
    return out
  }

  clear(): void {
    this.fingers.fill(undefined)
    this.from.fill(0n)
  }

  /**
   * `closest_preceding_node(key)`: of the fingers and the `extra` nodes (the
   * successor list), the `count` nodes in the open interval (n, key) that are
   * closest to `key`, closest first, none of `exclude`. Empty when none precedes the key.
   */
  closestPreceding(key: bigint, extra: Iterable<T> = [], count = 1, exclude?: ReadonlySet<bigint>): T[] {
    // Every node of (n, key) is ranked by its distance from n: the farther from n, the closer to the key
    // (distance(x, key) = distance(n, key) - distance(n, x)). One distance per node, kept: a finger's from
    // when it was set, the extra nodes' from the last call with the same nodes (`extraDistances`). Only the
    // `count` best are kept as the nodes are met (distinct nodes lie at distinct distances, so the first met
    // of an id is the one kept, as a pass over all of them would keep it); the fingers repeat the same
    // nodes, so a finger equal to the one above it is passed over at once. (n, n) is the whole ring but n.
    const { ring, self } = this
    const found: T[] = []
    if (count < 1) return found
    const span = key === self ? ring.size : ring.distance(self, key)
    const from: bigint[] = []
    let above: T | undefined
    for (let i = this.fingers.length - 1; i >= 0; i--) {
      const node = this.fingers[i]
      if (node === undefined || node === above) continue
      above = node
      keepBest(found, from, count, span, node, this.from[i] as bigint, exclude)
    }
    const list = Array.isArray(extra) ? (extra as readonly T[]) : [...extra]
    if (list.length > 0) {
      const at = this.extraDistances(list)
      for (let i = 0; i < list.length; i++)
        keepBest(found, from, count, span, list[i] as T, at[i] as bigint, exclude)
    }
    return found
  }

  /** Each of `list`'s distances from n, kept while the same nodes come again. */
  private extraDistances(list: readonly T[]): readonly bigint[] {
    const nodes = this.extraNodes
    let same = nodes.length === list.length
    for (let i = 0; same && i < list.length; i++) same = nodes[i] === list[i]
    if (same) return this.extraFrom
    this.extraNodes = list.slice()
    this.extraFrom = list.map((n) => this.ring.distance(this.self, n.id))
    return this.extraFrom
  }
}

/**
 * Adds `node`, at distance `d` from n, to `found` (at most `count` nodes by decreasing distance, `from`
 * their distances) when it lies in (n, key) (`d < span`, `d` not 0), is not excluded and is not there yet.
 */
function keepBest<T extends RingNode>(
  found: T[],
  from: bigint[],
  count: number,
  span: bigint,
  node: T,
  d: bigint,
  exclude: ReadonlySet<bigint> | undefined,
): void {
  if (d === 0n || d >= span) return
  let i = found.length
  if (i >= count && d <= (from[i - 1] as bigint)) return // not among the best (or the last itself)
  const id = node.id
  if (exclude?.has(id)) return
  for (let j = 0; j < i; j++) if ((found[j] as T).id === id) return // the first one met of an id is kept
  // Insertion by decreasing distance from n (at most `count` nodes).
  if (i >= count)
    i-- // the last goes
  else {
    found.push(node)
    from.push(d)
  }
  for (; i > 0 && (from[i - 1] as bigint) < d; i--) {
    found[i] = found[i - 1] as T
    from[i] = from[i - 1] as bigint
  }
  found[i] = node
  from[i] = d
}

/** Sorts nodes by id, ascending (the order `successorIn` expects). */
export function sortById<T extends RingNode>(nodes: Iterable<T>): T[] {
  return [...nodes].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

/** Index in `sorted` (ascending ids) of the first node whose id is >= `key`, wrapping to 0. */
export function successorIndex<T extends RingNode>(sorted: readonly T[], key: bigint): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((sorted[mid] as T).id < key) lo = mid + 1
    else hi = mid
  }
  return lo === sorted.length ? 0 : lo
}

/** `successor(key)` from global knowledge: the first node of `sorted` at or after `key` on the ring. */
export function successorIn<T extends RingNode>(sorted: readonly T[], key: bigint): T {
  if (sorted.length === 0) throw new RangeError('successorIn needs at least one node')
  return sorted[successorIndex(sorted, key)] as T
}

/** The correct finger table of `self` among `sorted` nodes (global knowledge: simulators, benchmarks, tests). */
export function fingersFromRing<T extends RingNode>(
  ring: Ring,
  self: bigint,
  sorted: readonly T[],
): FingerTable<T> {
  const table = new FingerTable<T>(ring, self)
  for (let i = 0; i < ring.bits; i++) table.set(i, successorIn(sorted, table.start(i)))
  return table
}

/** The `r` nodes that follow `self` in `sorted` (its successor list), excluding itself. */
export function successorsFromRing<T extends RingNode>(self: bigint, sorted: readonly T[], r: number): T[] {
  const out: T[] = []
  if (sorted.length === 0) return out
  let i = successorIndex(sorted, self)
  if ((sorted[i] as T).id === self) i = (i + 1) % sorted.length
  for (let k = 0; k < Math.min(r, sorted.length); k++) {
    const node = sorted[(i + k) % sorted.length] as T
    if (node.id === self) break
    out.push(node)
  }
  return out
}

/** The node just before `self` in `sorted` (its predecessor), or undefined when it is alone. */
export function predecessorFromRing<T extends RingNode>(self: bigint, sorted: readonly T[]): T | undefined {
  if (sorted.length === 0) return undefined
  const i = successorIndex(sorted, self)
  const node = sorted[(i - 1 + sorted.length) % sorted.length] as T
  return node.id === self ? undefined : node
}

/** One step of `find_successor` at a node: the key's successors, or nodes closer to the key. */
export type Step<T> = { done: true; nodes: T[] } | { done: false; nodes: T[] }

/**
 * One iterative step of `find_successor(key)` at the node owning `table`,
 * whose successor list is `successors` (empty when it is alone): when `key` is
 * in (n, successor] the answer is the successor list; otherwise up to
 * `count` closest preceding nodes, closest first. Nodes in `avoid` (the asker
 * found them dead) are treated as gone: the successor is then the first
 * successor not avoided.
 */
export function findSuccessorStep<T extends RingNode>(
  table: FingerTable<T>,
  successors: readonly T[],
  self: T,
  key: bigint,
  count = 1,
  avoid?: ReadonlySet<bigint>,
): Step<T> {
  const list = avoid && avoid.size > 0 ? successors.filter((n) => !avoid.has(n.id)) : successors
  const successor = list[0] ?? self
  if (table.ring.within(key, table.self, successor.id, '(]')) {
    return { done: true, nodes: list.length > 0 ? [...list] : [self] }
  }
  const closer = table.closestPreceding(key, list, count, avoid)
  return closer.length > 0
    ? { done: false, nodes: closer }
    : { done: true, nodes: [successor, ...list.slice(1)] }
}
