import { type PeerId, type PeerRef, type Random, TokenBucket } from '@peerkit/core'
import { RecencyList } from './recency-list.js'

/** `quiet`'s answer when no neighbor is (shared: never changed). */
const NONE_QUIET: readonly PeerId[] = []

/**
 * A neighbor, which is also the rate limit on the queries it sends: a TokenBucket itself (`bucket`
 * is the neighbor), so the look-up every query makes at every node of a flood reads one object, not
 * a neighbor and then its bucket (both nearly always cold: a node hears from each neighbor seldom).
 */
export class Neighbor extends TokenBucket {
  /** Its id (`ref.id`, which a new ref of the same peer keeps), beside the fields every query reads. */
  readonly id: PeerId
  /** True while it is in its table: a neighbor kept elsewhere (a connection's `memo`) is read only while current. */
  current = true
  /** When it was last heard from (Clock ms): any message, or a pong. */
  heard: number
  /** When it became a neighbor (Clock ms). */
  readonly since: number
  /** True once it brought a hit to a search of this node. */
  useful = false
  /** Its neighbor count as it last reported it (in a ping or a pong); undefined until it does. */
  degree: number | undefined = undefined

  constructor(
    public ref: PeerRef,
    limits: Pick<NeighborLimits, 'queryRate' | 'queryBurst'>,
    now: number,
    /** The network group of the address it joined this node from (undefined: it did not, or not grouped). */
    readonly group?: string,
  ) {
    super(limits.queryRate, limits.queryBurst, now)
    this.id = ref.id
    this.heard = now
    this.since = now
  }

  /** Rate limit on the queries it sends: the neighbor itself. */
  get bucket(): TokenBucket {
    return this
  }
}

/** Notes that `n` was heard from at `now` (Clock ms). */
export function heard(n: Neighbor, now: number): void {
  if (now > n.heard) n.heard = now
}

export interface NeighborLimits {
  minNeighbors: number
  maxNeighbors: number
  maxCandidates: number
  queryRate: number
  queryBurst: number
}

/**
 * Who a node's neighbors are (between `minNeighbors` and `maxNeighbors`),
 * and a bounded pool of other known peers to replace them with. Pure: no
 * network, no timers; time is passed in.
 */
export class NeighborTable {
  private readonly neighbors = new Map<PeerId, Neighbor>()
  /** The neighbors by id, for a look-up without the table (the map is the table's own: never change it). */
  readonly byId: ReadonlyMap<PeerId, Neighbor> = this.neighbors
  /**
   * The candidates, from the one learned (or learned again) longest ago to the newest: learning a
   * known peer again moves it to the newest end cheaply (supernode learns up to 32 known supernodes
   * from every info).
   */
  private readonly candidates = new RecencyList<PeerId, PeerRef>()
  /** The neighbors' ids in insertion order, made again only after a change (see `idList`). */
  private idCache: readonly PeerId[] | undefined
  /** Where `sample` gathers its pool: one array for the table's life instead of four per call. */
  private readonly pool: PeerRef[] = []

  constructor(
    readonly self: PeerId,
    private readonly limits: NeighborLimits,
  ) {}

  get size(): number {
    return this.neighbors.size
  }

  /** Notes that a neighbor was heard from at `now`; returns it (undefined: not a neighbor). */
  touch(id: PeerId, now: number): Neighbor | undefined {
    const n = this.neighbors.get(id)
    if (n !== undefined) heard(n, now)
    return n
  }

  /** Notes a neighbor's reported neighbor count. */
  setDegree(id: PeerId, degree: number): void {
    const n = this.neighbors.get(id)
    if (n) n.degree = degree
  }

  /** Neighbors that joined from network group `group`. */
  inGroup(group: string): number {
    let n = 0
    for (const nb of this.neighbors.values()) if (nb.group === group) n++
    return n
  }

  /** Notes that a neighbor brought a hit to a search of this node. */
  markUseful(id: PeerId): void {
    const n = this.neighbors.get(id)
    if (n) n.useful = true
  }

  /**
   * The neighbors that may be evicted to make room for a joiner: all but the anchors, which are the
   * `protect` longest-standing neighbors, those that became neighbors before `anchoredBefore` (Clock
   * ms), and those that brought a hit. With `richerThan`, only those known to have more than that
   * many neighbors of their own. Only what this node saw itself makes a neighbor an anchor: a claim
   * (a low degree) can keep a neighbor from being evicted in the `richerThan` case, never make
   * another one evictable.
   */
  evictable(protect: number, anchoredBefore: number, richerThan?: number): PeerId[] {
    // Map order is insertion order, which is the order neighbors were added in.
    return [...this.neighbors.values()]
      .slice(Math.max(0, protect))
      .filter((n) => !n.useful && n.since > anchoredBefore)
      .filter((n) => richerThan === undefined || (n.degree ?? 0) > richerThan)
      .map((n) => n.ref.id)
  }

  /** Neighbors not heard from since `before` (Clock ms). */
  quiet(before: number): readonly PeerId[] {
    // Every maintenance round asks, and nearly always none is: no array is made but the answer.
    let out: PeerId[] | undefined
    for (const n of this.neighbors.values()) {
      if (n.heard >= before) continue
      out ??= []
      out.push(n.ref.id)
    }
    return out ?? NONE_QUIET
  }

  /** True below `minNeighbors`. */
  get wantsMore(): boolean {
    return this.neighbors.size < this.limits.minNeighbors
  }

  /** True at `maxNeighbors`: join requests are declined. */
  get full(): boolean {
    return this.neighbors.size >= this.limits.maxNeighbors
  }

  has(id: PeerId): boolean {
    return this.neighbors.has(id)
  }

  get(id: PeerId): Neighbor | undefined {
    return this.neighbors.get(id)
  }

  ids(): PeerId[] {
    return [...this.neighbors.keys()]
  }

  /**
   * The neighbors' ids as `ids()` gives them, without a copy per call: the array is never changed,
   * an added or removed neighbor makes a new one (so a loop over it sees the neighbors as they were).
   */
  idList(): readonly PeerId[] {
    this.idCache ??= [...this.neighbors.keys()]
    return this.idCache
  }

  refs(): PeerRef[] {
    return [...this.neighbors.values()].map((n) => n.ref)
  }

  /** Adds a neighbor (false when it is this node, already one, or the table is full). */
  add(ref: PeerRef, now: number, group?: string): boolean {
    if (ref.id === this.self || this.neighbors.has(ref.id) || this.full) return false
    this.neighbors.set(ref.id, new Neighbor(ref, this.limits, now, group))
    this.idCache = undefined
    this.forget(ref.id)
    return true
  }

  /** Removes a neighbor; it stays known as a candidate unless `forget`. */
  remove(id: PeerId, forget = false): Neighbor | undefined {
    const n = this.neighbors.get(id)
    if (!n) return undefined
    this.neighbors.delete(id)
    n.current = false
    this.idCache = undefined
    if (!forget) this.learn(n.ref)
    return n
  }

  /** Updates a neighbor's addresses. */
  update(ref: PeerRef): void {
    const n = this.neighbors.get(ref.id)
    if (n && ref.addresses.length > 0) n.ref = ref
  }

  /** Remembers a peer to try later (the oldest is forgotten beyond `maxCandidates`). */
  learn(ref: PeerRef): void {
    if (ref.id === this.self || ref.addresses.length === 0 || this.limits.maxCandidates === 0) return
    // A peer is never a neighbor and a candidate at once (add() forgets it as a candidate): a known
    // candidate, the usual case in supernode's lists, costs one lookup.
    const slot = this.candidates.slot(ref.id)
    if (slot !== -1) {
      // Known with the same addresses (nearly always): the ref held stays, and the one just decoded
      // dies young instead of replacing it in the old generation (32 of them in every supernode info).
      const known = this.candidates.value(slot)
      this.candidates.renew(slot, sameAddresses(known.addresses, ref.addresses) ? known : ref)
      return
    }
    if (this.neighbors.has(ref.id)) return
    this.candidates.add(ref.id, ref)
    while (this.candidates.size > this.limits.maxCandidates) this.candidates.deleteOldest()
  }

  forget(id: PeerId): void {
    this.candidates.delete(id)
  }

  candidateCount(): number {
    return this.candidates.size
  }

  /** Candidates in random order. */
  shuffledCandidates(random: Random): PeerRef[] {
    const out = this.candidates.toArray()
    fisherYates(random, out, out.length)
    return out
  }

  /**
   * The draws of `random` that `shuffledCandidates` makes, without the shuffle: no array of the
   * candidates, none of their refs read (a flooding node asks every maintenance round).
   */
  drawShuffle(random: Random): void {
    for (let i = this.candidates.size - 1; i > 0; i--) random.int(i + 1)
  }

  /**
   * Up to `n` random neighbors and candidates to tell a peer about, never `exclude`: a uniform
   * random choice of `n` of them, in random order, made with `n` draws of `random` (a partial
   * Fisher–Yates shuffle of the pool's last `n` slots), not one per peer in the pool (supernode
   * answers infos with a sample of 32 of about 300, and each draw cost more than the rest of the
   * answer). With `n` at least the pool's size, what core's `shuffle` gives, with the same draws.
   */
  sample(random: Random, n: number, exclude?: PeerId): PeerRef[] {
    if (n <= 0) return []
    const pool = this.pool
    let size = 0
    for (const nb of this.neighbors.values()) {
      const r = nb.ref
      if (r.id !== exclude && r.addresses.length > 0) pool[size++] = r
    }
    // Candidates all have addresses (learn keeps no other): the walk reads only the list's arrays.
    const candidates = this.candidates
    const excluded = exclude === undefined ? -1 : candidates.slot(exclude)
    for (let s = candidates.first; s !== -1; s = candidates.next(s))
      if (s !== excluded) pool[size++] = candidates.value(s)
    // The slots past `size` may keep refs from an earlier call: never read, at most the table's bound.
    if (n >= size) {
      fisherYates(random, pool, size)
      return pool.slice(0, size)
    }
    for (let i = size - 1; i >= size - n; i--) {
      const j = random.int(i + 1)
      const t = pool[i] as PeerRef
      pool[i] = pool[j] as PeerRef
      pool[j] = t
    }
    return pool.slice(size - n, size)
  }
}

/** Whether two address lists are the same, in the same order. */
export function sameAddresses(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** core's `shuffle` (the same draws, in the same order) of `items[0, size)`, in place. */
function fisherYates<T>(random: Random, items: T[], size: number): void {
  for (let i = size - 1; i > 0; i--) {
    const j = random.int(i + 1)
    const t = items[i] as T
    items[i] = items[j] as T
    items[j] = t
  }
}
