import { type PeerId, type PeerRef, type Random, shuffle, TokenBucket } from '@peerkit/core'

export interface Neighbor {
  ref: PeerRef
  /** Rate limit on the queries it sends. */
  bucket: TokenBucket
  /** When it was last heard from (Clock ms): any message, or a pong. */
  heard: number
  /** When it became a neighbor (Clock ms). */
  since: number
  /** True once it brought a hit to a search of this node. */
  useful: boolean
  /** The network group of the address it joined this node from (undefined: it did not, or not grouped). */
  group?: string
  /** Its neighbor count as it last reported it (in a ping or a pong); undefined until it does. */
  degree?: number
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
  private readonly candidates = new Map<PeerId, PeerRef>()

  constructor(
    readonly self: PeerId,
    private readonly limits: NeighborLimits,
  ) {}

  get size(): number {
    return this.neighbors.size
  }

  /** Notes that a neighbor was heard from at `now`. */
  touch(id: PeerId, now: number): void {
    const n = this.neighbors.get(id)
    if (n) n.heard = Math.max(n.heard, now)
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
  quiet(before: number): PeerId[] {
    return [...this.neighbors.values()].filter((n) => n.heard < before).map((n) => n.ref.id)
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

  refs(): PeerRef[] {
    return [...this.neighbors.values()].map((n) => n.ref)
  }

  /** Adds a neighbor (false when it is this node, already one, or the table is full). */
  add(ref: PeerRef, now: number, group?: string): boolean {
    if (ref.id === this.self || this.neighbors.has(ref.id) || this.full) return false
    this.neighbors.set(ref.id, {
      ref,
      bucket: new TokenBucket(this.limits.queryRate, this.limits.queryBurst, now),
      heard: now,
      since: now,
      useful: false,
      ...(group === undefined ? {} : { group }),
    })
    this.candidates.delete(ref.id)
    return true
  }

  /** Removes a neighbor; it stays known as a candidate unless `forget`. */
  remove(id: PeerId, forget = false): Neighbor | undefined {
    const n = this.neighbors.get(id)
    if (!n) return undefined
    this.neighbors.delete(id)
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
    if (ref.id === this.self || this.neighbors.has(ref.id) || ref.addresses.length === 0) return
    if (this.limits.maxCandidates === 0) return
    this.candidates.delete(ref.id)
    this.candidates.set(ref.id, ref)
    for (const id of this.candidates.keys()) {
      if (this.candidates.size <= this.limits.maxCandidates) break
      this.candidates.delete(id)
    }
  }

  forget(id: PeerId): void {
    this.candidates.delete(id)
  }

  candidateCount(): number {
    return this.candidates.size
  }

  /** Candidates in random order. */
  shuffledCandidates(random: Random): PeerRef[] {
    return shuffle(random, [...this.candidates.values()])
  }

  /** Up to `n` random neighbors and candidates to tell a peer about, never `exclude`. */
  sample(random: Random, n: number, exclude?: PeerId): PeerRef[] {
    if (n <= 0) return []
    const pool = [...this.refs(), ...this.candidates.values()].filter(
      (r) => r.id !== exclude && r.addresses.length > 0,
    )
    return shuffle(random, pool).slice(0, n)
  }
}
