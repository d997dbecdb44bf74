import { AbortError, type PeerRef, PeerUnreachableError } from '@peerkit/core'
import { FingerTable, findSuccessorStep, type RingNode } from './finger-table.js'
import {
  MAX_AVOID,
  MAX_NODES_PER_MESSAGE,
  MAX_RELAY,
  type RequestKind,
  type RequestOf,
  type ResponseOf,
} from './messages.js'
import { inClosedArc, type Ring } from './ring.js'
import { RouteHints } from './route-hints.js'

/** A node on the ring: its identifier and how to reach it. */
export interface ChordNode extends RingNode {
  readonly ref: PeerRef
}

/** Sends one Chord request (to this node itself it is answered locally). */
export type Rpc = <K extends RequestKind>(
  node: ChordNode,
  request: RequestOf<K>,
  signal?: AbortSignal,
) => Promise<ResponseOf<K>>

/** What a lookup found: the key's successor list (successor first) and the nodes that answered on the way. */
export interface LookupResult {
  nodes: ChordNode[]
  /** Nodes that answered on the way. */
  hops: number
  /** Nodes that failed to answer (timeouts, refused connections) on the way. */
  failures: number
  /**
   * The node whose table answered `done` (the key's predecessor as far as the
   * lookup could tell); undefined when this node's own table did.
   */
  by?: ChordNode
}

export interface RoutingHooks {
  /** The predecessor changed (a node joined before us, or the old one failed). */
  predecessorChanged(previous: ChordNode | undefined, next: ChordNode | undefined): void
  /** The successor list or the predecessor changed. */
  neighborsChanged(): void
  /** Whether a node may enter this node's tables (its PeerId solves the id puzzle). Default: every node. */
  admits?(ref: PeerRef): boolean
  /** Peers this node has a connection open to now (a batch's lookups may start at them: no dial). Default: none. */
  connected?(): readonly PeerRef[]
  /**
   * The finger table names other nodes than before (the overlay keeps the
   * connections to its fingers: a fix_fingers round asks the finger itself,
   * and most lookups start there).
   */
  fingersChanged?(): void
}

/** How a lookup runs. */
export interface LookupOptions {
  signal?: AbortSignal
  /** Start from these nodes instead of this node's own table (a join). */
  from?: ChordNode[]
  /** Ping the successor found, and skip dead ones. */
  verify?: boolean
  /** Run this many lookups along disjoint paths and keep the answer closest after the key (S/Kademlia). @default 1 */
  disjoint?: number
  /** Nodes already asked, shared by disjoint lookups (internal). */
  used?: Set<bigint>
  /**
   * Nodes that answered earlier lookups of the same batch: the lookup also
   * starts from the ones closest before its key, and adds the nodes that
   * answer it; it also starts from the peers this node is connected to that
   * lie closest before its key (`RoutingHooks.connected`: no dial). Ignored
   * with `from` and with `disjoint` above 1.
   */
  hints?: RouteHints<ChordNode>
  /**
   * Nodes each answer may name at most (`find_successor.max`): a lookup that
   * needs only the node that answers `done` and the key's first holders (a
   * batch's stores) asks for a few instead of `CLOSER_NODES` closer nodes
   * and the whole successor list. Only fallbacks are left out: the next node
   * asked is the closest an answer names, which comes first. @default every node (no `max`)
   */
  answers?: number
  /**
   * Each node asked passes the request on itself (`find_successor.relay`,
   * through up to `MAX_RELAY` nodes) over its own connections, to its fingers
   * and successors, instead of naming the next node for this one to dial: a
   * batch's lookup then dials at most the node it starts from. The nodes
   * asked are the ones an iterative lookup with `answers: 1` asks; a relayed
   * answer names the node whose answer it is (`by`), which must lie between
   * the node asked and the key, and a `done` one is checked as a direct
   * answer is. Ignored with `from` and with `verify`. @default false
   */
  relay?: boolean
}

/** What `ChordRouting.keyRole` says of a key: neither held nor owned, may be held (a replica's), owned. */
export type KeyRole = 0 | 1 | 2
export const HOLDS_NOT = 0
export const HOLDS = 1
export const OWNS = 2

/** Closest preceding nodes offered per find_successor step (more give a lookup fallbacks past failed nodes). */
export const CLOSER_NODES = 8
/** A stabilize round follows at most this many closer successors. */
export const MAX_STABILIZE_STEPS = 8
/** A lookup gives up after this many requests, answered or not. */
export const MAX_LOOKUP_STEPS = 64
/** Nodes of `LookupOptions.hints` a lookup starts from besides its own table (the closest before the key, and a fallback). */
export const HINTS_PER_LOOKUP = 2
/** Batch lookups between two snapshots of the connected peers they may start from (`RoutingHooks.connected`). */
export const CONNECTED_SNAPSHOT_LOOKUPS = 8

/**
 * A Chord node's routing state and its maintenance (ToN 2003, Fig. 5–7):
 * successor list, predecessor, finger table; iterative `find_successor`,
 * `join`, `stabilize`, `notify`, `fix_fingers`, `check_predecessor`.
 */
export class ChordRouting {
  readonly fingers: FingerTable<ChordNode>
  private successorList: ChordNode[] = []
  private pred: ChordNode | undefined
  private nextFinger = 0
  /** Whether `placeFingerCycle` has placed this life's cycle (a node's first fix_fingers round with a successor). */
  private cyclePlaced = false
  /** Whole-table fills (`fixAllFingers`) running: the cycle is not placed meanwhile (the fill would skip fingers). */
  private filling = 0
  /** The connected peers batch lookups start from (`connectedPreceding`), and the lookups since they were taken. */
  private connectedNodes: RouteHints<ChordNode> | undefined
  private connectedUses = 0

  constructor(
    readonly ring: Ring,
    private readonly selfNode: () => ChordNode,
    private readonly r: number,
    private readonly rpc: Rpc,
    private readonly hooks: RoutingHooks,
  ) {
    this.fingers = new FingerTable(ring, selfNode().id)
  }

  get self(): ChordNode {
    return this.selfNode()
  }

  get id(): bigint {
    return this.fingers.self
  }

  /** The successor list, nearest first; empty while this node is alone. */
  get successors(): readonly ChordNode[] {
    return this.successorList
  }

  get predecessor(): ChordNode | undefined {
    return this.pred
  }

  node(ref: PeerRef): ChordNode {
    return { id: this.ring.nodeId(ref.id), ref }
  }

  /** Whether `ref` may enter the routing state (see `RoutingHooks.admits`). */
  admits(ref: PeerRef): boolean {
    return this.hooks.admits?.(ref) ?? true
  }

  /** The nodes of `refs` that may enter the routing state. */
  nodes(refs: readonly PeerRef[]): ChordNode[] {
    const out: ChordNode[] = []
    for (const ref of refs) if (this.admits(ref)) out.push(this.node(ref))
    return out
  }

  /**
   * The mean distance between nodes, from the span of the successor list;
   * undefined while there is no predecessor or the ring has no more nodes
   * than the list holds (then any node may hold any key).
   */
  meanGap(): bigint | undefined {
    const s = this.successorList
    const last = s[s.length - 1]
    if (!this.pred || !last || s.length < this.r) return undefined
    return this.ring.distance(this.id, last.id) / BigInt(s.length)
  }

  /**
   * Whether this node may be one of the `holders` nodes holding `key`: it owns
   * the key, or the key lies within `holders × window` mean gaps before it.
   */
  mayHold(key: bigint, holders: number, window: number): boolean {
    return this.holdTest(holders, window)(key)
  }

  /**
   * `mayHold` for many keys in turn: the mean gap is measured once, and a key
   * costs one arc test by comparisons. The arcs of the keys owned, (predecessor, n],
   * and of those held as a replica, [n - reach, n], both end at n: a key may be
   * held when it lies on the longer.
   */
  holdTest(holders: number, window: number): (key: bigint) => boolean {
    const { ring, pred } = this
    const self = this.id
    if (pred === undefined || pred.id === self) return () => true // owns every key (see `owns`)
    const gap = this.meanGap()
    const reach = gap === undefined ? undefined : gap * BigInt(holders * window)
    if (reach === undefined || reach >= ring.size - 1n) return () => true
    const predecessor = pred.id
    if (ring.distance(predecessor, self) - 1n > reach) return (key) => ring.within(key, predecessor, self)
    const from = ring.distance(reach, self)
    return (key) => inClosedArc(key, from, self)
  }

  /**
   * For many keys in turn, whether this node owns the key (`OWNS`), may hold
   * it as one of `holders` nodes without owning it (`HOLDS`, see `mayHold`),
   * or neither (`HOLDS_NOT`). The mean gap and the arcs are measured once;
   * a key costs a few comparisons.
   */
  keyRole(holders: number, window: number): (key: bigint) => KeyRole {
    const { ring, pred } = this
    const self = this.id
    if (pred === undefined || pred.id === self) return () => OWNS // owns every key (see `owns`)
    const gap = this.meanGap()
    const reach = gap === undefined ? undefined : gap * BigInt(holders * window)
    // A key's distance to n is below the predecessor's when it lies in (predecessor, n], and at most
    // `reach` when it lies in [n - reach, n]: tested by comparisons (`Ring.within`, `inClosedArc`), no BigInt made per key.
    const predecessor = pred.id
    const anywhere = reach === undefined || reach >= ring.size - 1n
    const from = anywhere ? self : ring.distance(reach, self)
    return (key) => {
      if (ring.within(key, predecessor, self)) return OWNS
      return anywhere || inClosedArc(key, from, self) ? HOLDS : HOLDS_NOT
    }
  }

  /** `owns` for many keys in turn, as the predecessor is now: comparisons alone (see `keyRole`). */
  ownsTest(): (key: bigint) => boolean {
    const { ring, pred } = this
    const self = this.id
    if (pred === undefined || pred.id === self) return () => true
    const predecessor = pred.id
    return (key) => ring.within(key, predecessor, self)
  }

  /**
   * Whether the node `id` plausibly shares key ranges with this one: it is the
   * predecessor or a successor, or lies within `span` mean gaps on either side.
   */
  isNeighbor(id: bigint, span: number): boolean {
    if (this.pred?.id === id || this.successorList.some((n) => n.id === id)) return true
    const gap = this.meanGap()
    if (gap === undefined) return true
    const reach = gap * BigInt(span)
    return this.ring.distance(id, this.id) <= reach || this.ring.distance(this.id, id) <= reach
  }

  /** True when this node is responsible for `key`: it lies in (predecessor, n]. Unknown predecessor: true. */
  owns(key: bigint): boolean {
    return this.pred === undefined || this.ring.within(key, this.pred.id, this.id, '(]')
  }

  /**
   * The answer to a find_successor request for `key`: the successor list when
   * the key lies in (n, successor], else up to `CLOSER_NODES` closest preceding
   * nodes; at most `max` nodes either way.
   */
  step(key: bigint, avoid?: ReadonlySet<bigint>, max?: number): { done: boolean; nodes: ChordNode[] } {
    const count = max === undefined ? CLOSER_NODES : Math.min(CLOSER_NODES, max)
    const step = findSuccessorStep(this.fingers, this.successorList, this.self, key, count, avoid)
    if (max !== undefined && step.nodes.length > max) step.nodes.length = max
    return step
  }

  /**
   * Iterative find_successor(key): asks ever closer nodes, from this node's
   * own table (or from `from`, when joining). When a node fails, the node that
   * named it is asked again, told to avoid the dead ones, so a dead successor
   * is skipped for the next on the list (ToN 2003, §IV-E). `hops` counts the
   * nodes that answered; `failures` the ones that did not.
   *
   * With `verify`, the successor the key's predecessor named is pinged before
   * it is returned, and dead ones are skipped for the next on its list (each
   * a failure): the answer is then the key's live successor even while
   * successor lists still name failed nodes. The confirmation is not a hop.
   */
  async lookup(key: bigint, options: LookupOptions = {}): Promise<LookupResult> {
    if ((options.disjoint ?? 1) > 1 && !options.from) return this.disjointLookup(key, options)
    const { signal } = options
    const { ring } = this
    // The candidates, each with its distance to the key (computed once: a BigInt each) and who named it.
    const candidates: ChordNode[] = []
    const toKey: bigint[] = []
    /** Who named each candidate (undefined: this node's own table). */
    const namedBy = new Map<bigint, ChordNode | undefined>()
    const add = (n: ChordNode, by: ChordNode | undefined) => {
      if (n.id === this.id || namedBy.has(n.id)) return
      namedBy.set(n.id, by)
      candidates.push(n)
      toKey.push(ring.distance(n.id, key))
    }
    const tried = options.used ?? new Set<bigint>()
    tried.add(this.id)
    // Made at the first failure (most lookups meet none).
    let dead: Set<bigint> | undefined
    let retried: Set<bigint> | undefined
    const dying = () => {
      dead ??= new Set()
      return dead
    }
    let hops = 0
    const errors: string[] = []
    const hex = ring.toHex(key) // the same key at every step
    const max = options.answers === undefined ? undefined : Math.min(options.answers, MAX_NODES_PER_MESSAGE)
    const hints = options.from ? undefined : options.hints
    const relay = options.relay === true && !options.from && !options.verify
    /** This node's own table answers: the successors it knows (confirmed with `verify`), else undefined. */
    const answerLocally = async (): Promise<LookupResult | undefined> => {
      const local = this.step(key, dead)
      if (!local.done) {
        for (const n of local.nodes) add(n, undefined)
        return undefined
      }
      if (!options.verify) return { nodes: local.nodes, hops, failures: errors.length }
      const live = await this.firstLive(local.nodes, dying(), errors, signal)
      if (live >= 0) return { nodes: local.nodes.slice(live), hops, failures: errors.length }
      return answerLocally() // the dead are now avoided
    }
    if (options.from) {
      for (const n of options.from) add(n, undefined)
    } else {
      const answered = await answerLocally()
      if (answered) return answered
      if (hints) {
        for (const n of hints.preceding(key, HINTS_PER_LOOKUP)) add(n, undefined)
        for (const n of this.connectedPreceding(key, HINTS_PER_LOOKUP)) add(n, undefined)
      }
    }
    for (let attempt = 0; attempt < MAX_LOOKUP_STEPS; attempt++) {
      if (signal?.aborted) throw new AbortError('lookup aborted', { cause: signal.reason })
      const next = closest(candidates, toKey, tried)
      if (!next) break
      tried.add(next.id)
      let answer: ResponseOf<'find_successor'>
      try {
        // No field set to undefined: msgpack would carry it as an extension, which sends the receiver's
        // decoding and its schema check down their slow paths (msgpackr's decoder, then zod).
        const request: RequestOf<'find_successor'> = { type: 'find_successor', key: hex }
        if (dead !== undefined && dead.size > 0)
          request.avoid = [...dead].slice(-MAX_AVOID).map((id) => ring.toHex(id))
        if (max !== undefined) request.max = max
        if (relay) request.relay = MAX_RELAY
        answer = await this.rpc(next, request, signal)
      } catch (err) {
        if ((err as Error).name === 'AbortError') throw err
        errors.push(`${next.ref.id}: ${(err as Error).message}`)
        dying().add(next.id)
        this.forget(next)
        hints?.remove(next.id)
        const by = namedBy.get(next.id)
        retried ??= new Set()
        if (by && !retried.has(by.id)) {
          // ask the node that named the dead one again, telling it to avoid it
          retried.add(by.id)
          tried.delete(by.id)
        } else if (!by && !options.from) {
          const answered = await answerLocally()
          if (answered) return answered
        }
        continue
      }
      hops++
      retried?.delete(next.id)
      const nodes = this.nodes(answer.nodes)
      if (nodes.length === 0) continue
      if (answer.by !== undefined) {
        // A relayed answer: the answer of `by`, which the node asked passed the request on to (through others).
        const by = this.relayedBy(answer, next, key)
        if (by === undefined) continue
        hops += answer.hops ?? 1
        hints?.add(next)
        if (answer.done) {
          if (!ring.within(key, by.id, (nodes[0] as ChordNode).id, '(]')) continue
          hints?.add(by)
          return { nodes, hops, failures: errors.length, by }
        }
        // Not done (the relay ran out, or a node on the way predates it): on from what `by` named.
        const span = by.id === key ? ring.size : ring.distance(by.id, key)
        tried.add(by.id)
        for (const n of nodes) {
          const d = ring.distance(by.id, n.id)
          if (d !== 0n && d < span && !dead?.has(n.id)) add(n, by)
        }
        continue
      }
      if (answer.done) {
        // A correct answer's first node succeeds the key as seen from the node asked.
        if (!ring.within(key, next.id, (nodes[0] as ChordNode).id, '(]')) {
          hints?.remove(next.id) // only nodes whose answers check start the batch's other lookups
          continue
        }
        hints?.add(next)
        if (!options.verify) return { nodes, hops, failures: errors.length, by: next }
        const live = await this.firstLive(nodes, dying(), errors, signal)
        if (live >= 0) return { nodes: nodes.slice(live), hops, failures: errors.length, by: next }
        // every node it named is dead: ask it again, telling it to avoid them
        tried.delete(next.id)
        continue
      }
      hints?.add(next)
      // Only nodes strictly between the node asked and the key: every step makes progress.
      const span = next.id === key ? ring.size : ring.distance(next.id, key)
      for (const n of nodes) {
        const d = ring.distance(next.id, n.id)
        if (d !== 0n && d < span && !dead?.has(n.id)) add(n, next)
      }
    }
    throw new PeerUnreachableError(
      `chord lookup of ${hex} failed after ${tried.size - 1} nodes${errors.length ? `: ${errors.slice(-3).join('; ')}` : ''}`,
    )
  }

  /**
   * The node a relayed answer of `asked` for `key` names as its author
   * (`step.by`): one that may enter the tables and lies strictly between
   * `asked` and the key, as every node the request was passed on to does;
   * undefined otherwise, and the answer is not believed.
   */
  private relayedBy(
    answer: ResponseOf<'find_successor'>,
    asked: ChordNode,
    key: bigint,
  ): ChordNode | undefined {
    const ref = answer.by
    if (ref === undefined || !this.admits(ref)) return undefined
    const by = this.node(ref)
    const d = this.ring.distance(asked.id, by.id)
    const span = asked.id === key ? this.ring.size : this.ring.distance(asked.id, key)
    return d !== 0n && d < span && by.id !== this.id ? by : undefined
  }

  /**
   * Up to `count` of the peers this node is connected to (`RoutingHooks.connected`)
   * that may enter its tables and precede `key` most closely, closest first;
   * never one at the key. From a snapshot of the connections, taken again
   * every `CONNECTED_SNAPSHOT_LOOKUPS` batch lookups (sorted by id: a look-up
   * is a binary search, not a pass over every connection).
   */
  private connectedPreceding(key: bigint, count: number): ChordNode[] {
    let snapshot = this.connectedNodes
    if (snapshot === undefined || ++this.connectedUses > CONNECTED_SNAPSHOT_LOOKUPS) {
      const refs = this.hooks.connected?.() ?? []
      snapshot = new RouteHints<ChordNode>(Math.max(1, refs.length))
      for (const ref of refs) if (this.admits(ref)) snapshot.add(this.node(ref))
      this.connectedNodes = snapshot
      this.connectedUses = 1
    }
    return snapshot.preceding(key, count)
  }

  /**
   * S/Kademlia's disjoint lookups (Baumgart and Mies 2007, §4.4) on Chord:
   * `disjoint` iterative lookups, each from another of the closest preceding
   * nodes this node knows, that never ask a node another one asked (they share
   * one set of used nodes). The answer is the one whose successor lies
   * closest after the key: a path through a node that names a later successor
   * loses to any honest path. Hops and failures add up over the paths.
   */
  private async disjointLookup(key: bigint, options: LookupOptions): Promise<LookupResult> {
    const local = this.step(key)
    if (local.done) return this.lookup(key, { ...options, disjoint: 1 })
    const starts = local.nodes.slice(0, options.disjoint)
    const used = new Set<bigint>([this.id, ...starts.map((n) => n.id)])
    const paths = await Promise.allSettled(
      starts.map((start) => {
        used.delete(start.id)
        return this.lookup(key, { ...options, disjoint: 1, from: [start], used })
      }),
    )
    let best: LookupResult | undefined
    let hops = 0
    let failures = 0
    const errors: string[] = []
    for (const p of paths) {
      if (p.status === 'rejected') {
        if ((p.reason as Error).name === 'AbortError') throw p.reason
        errors.push((p.reason as Error).message)
        continue
      }
      hops += p.value.hops
      failures += p.value.failures
      const first = p.value.nodes[0]
      const bestFirst = best?.nodes[0]
      if (first && (!bestFirst || this.ring.distance(key, first.id) < this.ring.distance(key, bestFirst.id)))
        best = p.value
    }
    if (!best)
      throw new PeerUnreachableError(
        `chord disjoint lookup of ${this.ring.toHex(key)} failed: ${errors.join('; ')}`,
      )
    return best.by
      ? { nodes: best.nodes, hops, failures, by: best.by }
      : { nodes: best.nodes, hops, failures }
  }

  /**
   * Index of the first of `nodes` that answers a ping (this node counts as
   * live), or -1. Dead ones are added to `dead`, forgotten, and noted in `errors`.
   */
  private async firstLive(
    nodes: ChordNode[],
    dead: Set<bigint>,
    errors: string[],
    signal: AbortSignal | undefined,
  ): Promise<number> {
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i] as ChordNode
      if (n.id === this.id) return i
      if (dead.has(n.id)) continue
      try {
        await this.rpc(n, { type: 'ping' }, signal)
        return i
      } catch (err) {
        if ((err as Error).name === 'AbortError') throw err
        errors.push(`${n.ref.id}: ${(err as Error).message}`)
        dead.add(n.id)
        this.forget(n)
      }
    }
    return -1
  }

  /** join(n'): finds this node's successor through a node already in the ring. */
  async join(via: ChordNode[], signal?: AbortSignal): Promise<void> {
    const { nodes } = await this.lookup(this.id, { from: via, signal })
    const successors = this.trim(nodes.filter((n) => n.id !== this.id))
    this.successorList = successors.length > 0 ? successors : this.trim(via)
    this.pred = undefined
    this.hooks.neighborsChanged()
  }

  /**
   * Every successor failed at once: finds the live successor again through
   * whatever nodes are still known (fingers, predecessor), as a join would.
   * Returns false when no known node could help.
   */
  async recover(signal?: AbortSignal): Promise<boolean> {
    const via = [...this.fingers.distinct(), ...(this.pred ? [this.pred] : [])]
    if (via.length === 0) return false
    try {
      const { nodes } = await this.lookup(this.id, { from: via, signal })
      const successors = this.trim(nodes.filter((n) => n.id !== this.id))
      if (successors.length === 0) return false
      this.setSuccessors(successors)
      return true
    } catch {
      return false // the caller then rejoins through the bootstrap addresses
    }
  }

  /**
   * stabilize(): asks the successor for its predecessor and successor list,
   * adopts a closer successor if one joined (and asks that one in turn, up to
   * `MAX_STABILIZE_STEPS`), and notifies the result, unless it already named
   * this node its predecessor (at its addresses now). Dead successors are
   * dropped for the next on the list. Returns the predecessor the first
   * successor that answered reported (before it heard of this node).
   */
  async stabilize(signal?: AbortSignal): Promise<ChordNode | undefined> {
    if (this.successorList.length === 0) {
      // Alone: a node that notified us is our successor too (the ring of two forms here).
      if (!this.pred) return undefined
      this.successorList = [this.pred]
      this.hooks.neighborsChanged()
    }
    let reported: ChordNode | undefined
    let closer = 0
    /** The last successor that answered, when it named this node its predecessor at its addresses now. */
    let knows: ChordNode | undefined
    while (this.successorList.length > 0) {
      const s = this.successorList[0] as ChordNode
      const answer = await this.neighborsOf(s, signal)
      if (answer === undefined) continue
      knows = this.isSelf(answer.predecessor) ? s : undefined
      const list = [s, ...this.nodes(answer.successors)]
      const x =
        answer.predecessor && this.admits(answer.predecessor) ? this.node(answer.predecessor) : undefined
      if (closer === 0 && reported === undefined) reported = x
      const adopt = x !== undefined && this.ring.within(x.id, this.id, s.id, '()')
      if (adopt) list.unshift(x)
      this.setSuccessors(this.trim(list))
      // A closer successor: ask it at once rather than a round later (nodes that joined
      // together then find their places in one round instead of one per node).
      if (!adopt || ++closer >= MAX_STABILIZE_STEPS) break
    }
    const successor = this.successorList[0]
    // A successor that named this node its predecessor, at the addresses it has now, knows all a notify would tell.
    if (!successor || knows?.id === successor.id) return reported
    await this.rpc(successor, { type: 'notify', node: this.self.ref }, signal).catch((err) => {
      if ((err as Error).name !== 'AbortError') this.forget(successor)
    })
    return reported
  }

  /** Whether `ref` is this node, at the addresses it has now (`notify` would tell nothing new). */
  private isSelf(ref: PeerRef | null): boolean {
    if (ref === null) return false
    const self = this.self.ref
    if (ref.id !== self.id || ref.addresses.length !== self.addresses.length) return false
    for (let i = 0; i < ref.addresses.length; i++) if (ref.addresses[i] !== self.addresses[i]) return false
    return true
  }

  /** notify(n'): n' thinks it might be our predecessor. */
  notify(candidate: ChordNode): void {
    if (candidate.id === this.id) return
    if (this.pred && this.pred.id === candidate.id) {
      this.pred = candidate // fresher addresses
      return
    }
    if (this.pred && !this.ring.within(candidate.id, this.pred.id, this.id, '()')) return
    const previous = this.pred
    this.pred = candidate
    this.hooks.predecessorChanged(previous, candidate)
    this.hooks.neighborsChanged()
  }

  /** check_predecessor(): clears the predecessor if it does not answer. */
  async checkPredecessor(signal?: AbortSignal): Promise<void> {
    const p = this.pred
    if (!p) return
    try {
      await this.rpc(p, { type: 'ping' }, signal)
    } catch (err) {
      if ((err as Error).name !== 'AbortError' && this.pred === p) this.forget(p)
    }
  }

  /**
   * fix_fingers(): refreshes the next finger. Fingers whose start falls before
   * the successor, or before the finger just refreshed, are filled without a
   * lookup, so one round costs about log2 N lookups rather than m.
   */
  async fixFingers(signal?: AbortSignal): Promise<void> {
    const m = this.fingers.length
    for (let guard = 0; guard < m; guard++) {
      const i = this.nextFinger
      this.nextFinger = (i + 1) % m
      const start = this.fingers.start(i)
      const successor = this.successorList[0]
      if (!successor) {
        this.setFinger(i, undefined)
        continue
      }
      if (this.ring.within(start, this.id, successor.id, '(]')) {
        this.setFinger(i, successor)
        continue
      }
      const previous = i > 0 ? this.fingers.get(i - 1) : undefined
      if (previous && this.ring.distance(this.id, start) <= this.ring.distance(this.id, previous.id)) {
        this.setFinger(i, previous)
        continue
      }
      const current = this.fingers.get(i)
      if (current !== undefined && (await this.stillFinger(start, current, signal))) return
      const { nodes } = await this.lookup(start, { signal })
      const found = nodes[0] as ChordNode
      if (found.id === this.id) {
        // No node between this start and us: the remaining fingers all wrap to us.
        for (let j = i; j < m; j++) this.setFinger(j, undefined)
        this.nextFinger = 0
      } else {
        this.setFinger(i, found)
      }
      return
    }
  }

  /**
   * Whether `finger` still succeeds `start`, asked of the finger itself (one
   * request, over the connection a finger keeps: see `RoutingHooks.fingersChanged`)
   * instead of a lookup of `start` (about ½·log2 N requests, most of them to
   * nodes this node has no connection to): its predecessor precedes `start`.
   * A node joined between `start` and the finger becomes its predecessor and
   * fails the test, as does a predecessor the finger does not know (then the
   * round looks `start` up). The answer is believed only where this node's
   * own tables do not contradict it: a node it knows in [start, finger) would
   * succeed `start` before the finger, and the round looks it up instead. A
   * finger that does not answer is forgotten. The finger's claim weighs no more
   * than a lookup's: a plain lookup believes every node on its path.
   */
  private async stillFinger(
    start: bigint,
    finger: ChordNode,
    signal: AbortSignal | undefined,
  ): Promise<boolean> {
    const answer = await this.neighborsOf(finger, signal)
    if (answer === undefined) return false
    const p = answer.predecessor
    if (p === null || !this.admits(p)) return false
    if (!this.ring.within(start, this.ring.nodeId(p.id), finger.id, '(]')) return false
    return !this.knowsBetween(start, finger.id)
  }

  /** `node`'s predecessor and successor list (`get_predecessor`); undefined, and the node forgotten, when it does not answer. */
  private async neighborsOf(
    node: ChordNode,
    signal: AbortSignal | undefined,
  ): Promise<ResponseOf<'get_predecessor'> | undefined> {
    try {
      return await this.rpc(node, { type: 'get_predecessor' }, signal)
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err
      this.forget(node)
      return undefined
    }
  }

  /** Whether a node of this node's tables (successors, predecessor, fingers) lies in [from, to). */
  private knowsBetween(from: bigint, to: bigint): boolean {
    const { ring } = this
    const inside = (n: ChordNode | undefined) => n !== undefined && ring.within(n.id, from, to, '[)')
    if (inside(this.pred) || this.successorList.some(inside)) return true
    for (let i = 0; i < this.fingers.length; i++) if (inside(this.fingers.get(i))) return true
    return false
  }

  /** Sets finger `i`; tells `RoutingHooks.fingersChanged` when it names another node than before. */
  private setFinger(i: number, node: ChordNode | undefined): void {
    const before = this.fingers.get(i)
    this.fingers.set(i, node)
    if (before?.id !== node?.id) this.fingersDirty()
  }

  /**
   * Starts fix_fingers' cycle at a random finger beyond the successor (`draw(n)`: a whole number in [0, n)),
   * once a life: the first call with a successor places it, later ones do nothing (`reset` starts a new life).
   * A round refreshes one finger, the near ones (one request) before the far ones (up to ½·log2 N), and
   * the cycle takes about log2 N rounds. Nodes that start together at finger 0 would all refresh their near
   * fingers in the same rounds and their far ones in the next, so the ring's upkeep would swing over a
   * cycle (about 14 min at 10^4 nodes with a round a minute) instead of costing the same every round:
   * in a simulation, 210 messages a second in the first minutes against 360 on average and 500 at the top
   * (1,000 nodes), as nodes started at different times do not.
   */
  placeFingerCycle(draw: (n: number) => number): void {
    const successor = this.successorList[0]
    if (this.cyclePlaced || !successor || this.filling > 0) return // a fill walks the cycle: placed at a round after it
    this.cyclePlaced = true
    const m = this.fingers.length
    let first = 0
    while (first < m && this.ring.within(this.fingers.start(first), this.id, successor.id, '(]')) first++
    if (first < m) this.nextFinger = first + draw(m - first)
  }

  /**
   * One whole round of fix_fingers: every finger refreshed (a lookup for each
   * distinct one), as a node that just joined does instead of filling its
   * table one finger per round.
   */
  async fixAllFingers(signal?: AbortSignal): Promise<void> {
    this.nextFinger = 0
    this.filling++
    try {
      for (let i = 0; i < this.fingers.length; i++) {
        await this.fixFingers(signal)
        if (this.nextFinger === 0) return
      }
    } finally {
      this.filling--
    }
  }

  /** A node that failed to answer: drop it from fingers, successor list and predecessor. */
  forget(node: ChordNode): void {
    if (this.fingers.remove(node.id) > 0) this.fingersDirty()
    const before = this.successorList.length
    this.successorList = this.successorList.filter((n) => n.id !== node.id)
    let changed = before !== this.successorList.length
    if (this.pred?.id === node.id) {
      const previous = this.pred
      this.pred = undefined
      this.hooks.predecessorChanged(previous, undefined)
      changed = true
    }
    if (changed) this.hooks.neighborsChanged()
  }

  /** A neighbor leaves voluntarily and tells us its own neighbors. */
  leave(who: ChordNode, predecessor: ChordNode | undefined, successors: ChordNode[]): void {
    const wasSuccessor = this.successorList[0]?.id === who.id
    const wasPredecessor = this.pred?.id === who.id
    this.forget(who)
    if (wasSuccessor) this.setSuccessors(this.trim([...successors, ...this.successorList]))
    if (wasPredecessor && predecessor && predecessor.id !== this.id) this.notify(predecessor)
  }

  /** Sets the whole state from outside (a simulator or a benchmark with global knowledge). */
  adopt(state: {
    predecessor?: ChordNode
    successors: ChordNode[]
    fingers: (ChordNode | undefined)[]
  }): void {
    this.pred = state.predecessor
    this.successorList = this.trim(state.successors)
    state.fingers.forEach((f, i) => {
      this.fingers.set(i, f?.id === this.id ? undefined : f)
    })
    this.hooks.neighborsChanged()
    this.fingersDirty()
  }

  /** Forgets everything (leave, stop). */
  reset(): void {
    this.successorList = []
    this.pred = undefined
    this.connectedNodes = undefined
    this.fingers.clear()
    this.nextFinger = 0
    this.cyclePlaced = false
    this.fingersDirty()
  }

  /** The finger table changed (see `RoutingHooks.fingersChanged`). */
  private fingersDirty(): void {
    this.hooks.fingersChanged?.()
  }

  private setSuccessors(list: ChordNode[]): void {
    const same =
      list.length === this.successorList.length && list.every((n, i) => n.id === this.successorList[i]?.id)
    this.successorList = list
    if (!same) this.hooks.neighborsChanged()
  }

  /** Up to r distinct nodes in ring order, stopping where the list comes back round to this node. */
  private trim(list: ChordNode[]): ChordNode[] {
    const out: ChordNode[] = []
    for (const n of list) {
      if (n.id === this.id) break
      if (!out.some((o) => o.id === n.id)) out.push(n)
      if (out.length === this.r) break
    }
    return out
  }
}

/** The untried candidate closest before the key (`toKey[i]`: candidate i's distance to it), the first of equals. */
function closest(candidates: ChordNode[], toKey: bigint[], tried: Set<bigint>): ChordNode | undefined {
  let best: ChordNode | undefined
  let bestDistance = 0n
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i] as ChordNode
    if (tried.has(c.id)) continue
    const d = toKey[i] as bigint
    if (!best || d < bestDistance) {
      best = c
      bestDistance = d
    }
  }
  return best
}
