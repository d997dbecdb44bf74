import type { Clock, Network, PeerId, PeerRef, SignedFileRecord } from '@peerkit/core'
import { checkRecord, ProtocolError, RateLimitError } from '@peerkit/core'
import {
  type ChordRequest,
  type ChordResponse,
  MAX_RECORDS_PER_MESSAGE,
  MAX_RELAY,
  OK,
  type RequestOf,
  type ResponseOf,
  wireRef,
} from './messages.js'
import type { ParsedChordOptions } from './options.js'
import type { RecordStore } from './record-store.js'
import type { Ring } from './ring.js'
import { type ChordNode, type ChordRouting, HOLDS, HOLDS_NOT, OWNS } from './routing.js'

/** About the most bytes of records one `get` or `search` answer carries. */
export const MAX_ANSWER_BYTES = 1024 * 1024

/** What answering a request needs of its overlay. */
export interface HandlerContext {
  ring: Ring
  routing: ChordRouting
  store: RecordStore
  options: ParsedChordOptions
  clock: Clock
  network: Network
  /** Whether a PeerId solves the id puzzle (may route, store and hand over). */
  admits(ref: PeerRef): boolean
  /** The keys the record is stored under (see `Replication.keysFor`; never change the array). */
  keysOf(record: SignedFileRecord): readonly bigint[]
  /** Runs a stabilize round soon (at most one at a time; ignored while maintenance is paused). */
  stabilizeSoon(): void
  /**
   * Sends each batch to its node as a one-way `hand_on` (the records of a
   * forwarded store from `from`), all at once; refuses (`RateLimitError`) while
   * `MAX_FORWARDS_IN_FLIGHT` of `from`'s are still being sent.
   */
  handOn(from: PeerId, batches: readonly HandOn[]): Promise<void>
  /**
   * Passes a find_successor on to `node` (`find_successor.relay`), waiting
   * at most `rpcTimeout × (request.relay + 1)` (`rpcTimeout` without `relay`):
   * each node further on waits less than the one before.
   */
  relay(node: ChordNode, request: RequestOf<'find_successor'>): Promise<ResponseOf<'find_successor'>>
}

/** Records a forwarded store hands to one of this node's successors, with their lifetimes. */
export interface HandOn {
  node: ChordNode
  records: SignedFileRecord[]
  ttls: number[]
  /** The node is the successor of a key of each record (`hand_on.primary`). */
  primary: boolean
}

/**
 * The answer of this node to one checked `peerkit/chord/3` request from
 * `from` (the authenticated sender). Requests that lie (a key beyond 2^m,
 * a notify or store on behalf of another peer, a record whose signature does
 * not verify, lists that disagree, a sender without a solved id puzzle) throw
 * `ProtocolError` before anything is applied; records past their provider's
 * quota are refused with `RateLimitError` (the others are kept).
 */
export function answerRequest(
  c: HandlerContext,
  request: ChordRequest,
  from: PeerRef,
  strays?: SignedFileRecord[],
): ChordResponse | Promise<ChordResponse> {
  const now = c.clock.now()
  switch (request.type) {
    case 'find_successor': {
      const key = c.ring.fromHex(request.key)
      if (key === undefined) throw new ProtocolError(`chord key ${request.key} is not below 2^${c.ring.bits}`)
      let avoid: Set<bigint> | undefined // most requests name no dead node
      for (const hex of request.avoid ?? []) {
        const id = c.ring.fromHex(hex)
        if (id === undefined) continue
        avoid ??= new Set()
        avoid.add(id)
      }
      const step = c.routing.step(key, avoid, request.max)
      const next = step.nodes[0]
      if (request.relay === undefined || step.done || next === undefined || next.id === c.routing.id)
        return { type: 'step', done: step.done, nodes: refs(step.nodes) }
      return relayStep(c, request, next, step.nodes)
    }
    case 'get_predecessor': {
      const p = c.routing.predecessor
      return {
        type: 'neighbors',
        predecessor: p ? wireRef(p.ref) : null,
        successors: refs(c.routing.successors),
      }
    }
    case 'notify':
      if (request.node.id !== from.id)
        throw new ProtocolError(`${from.id} notified on behalf of ${request.node.id}`)
      assertAdmitted(c, from, 'notify')
      c.network.learn(request.node)
      c.routing.notify(c.routing.node(request.node))
      return OK
    case 'ping':
      return OK
    case 'stabilize':
      c.stabilizeSoon()
      return OK
    case 'store': {
      const foreign = request.records.find((r) => r.provider.id !== from.id)
      if (foreign)
        throw new ProtocolError(`${from.id} tried to store a record of provider ${foreign.provider.id}`)
      assertAdmitted(c, from, 'store')
      assertSigned(c, request.records, from, now)
      if (request.forward) return forward(c, request.records, from, now)
      keep(c, request.records, undefined, from, now, request.primary ? strays : undefined)
      return OK
    }
    case 'replicate':
    case 'hand_on':
      if (request.ttls.length !== request.records.length) {
        throw new ProtocolError(
          `chord ${request.type} has ${request.records.length} records but ${request.ttls.length} ttls`,
        )
      }
      assertAdmitted(c, from, request.type)
      if (!c.routing.isNeighbor(c.ring.nodeId(from.id), c.options.replication * c.options.replicaWindow)) {
        throw new ProtocolError(
          `${from.id} sent a chord ${request.type} but shares no key range with this node (ring id ${c.ring.toHex(c.ring.nodeId(from.id))})`,
        )
      }
      assertSigned(c, request.records, from, now)
      for (const r of request.records) {
        if (!c.admits(r.provider))
          throw new ProtocolError(
            `${from.id} replicated a record of ${r.provider.id}, whose id puzzle is not solved`,
          )
      }
      keep(
        c,
        request.records,
        request.ttls,
        from,
        now,
        request.type === 'hand_on' && request.primary ? strays : undefined,
      )
      return OK
    case 'remove':
      for (const h of request.hashes) c.store.remove(h, from.id)
      return OK
    case 'get':
    case 'search': {
      const query = request.type === 'get' ? { hash: request.hash } : request.query
      // The store's Index answers asynchronously; the records are those alive at the time of the request.
      return c.store.matching(query).then((found) => ({
        type: 'records',
        records: c.store.answer(found, now, {
          perProvider: c.options.maxAnswerPerProvider,
          max: MAX_RECORDS_PER_MESSAGE,
          maxBytes: MAX_ANSWER_BYTES,
        }),
      }))
    }
    case 'leave': {
      const predecessor =
        request.predecessor && c.admits(request.predecessor) ? c.routing.node(request.predecessor) : undefined
      const successors = c.routing.nodes(request.successors)
      for (const n of [...(predecessor ? [predecessor] : []), ...successors]) c.network.learn(n.ref)
      c.routing.leave(c.routing.node(from), predecessor, successors)
      return OK
    }
  }
}

/**
 * A find_successor with `relay` that this node does not answer `done`: passed
 * on to `next`, the closest node it names, with `relay - 1` (without `relay`
 * at 1), and answered with that node's answer, naming whose answer it is
 * (`by`) and the nodes that answered from here on (`hops`). When the node
 * passed on to fails, this node's own step (the nodes it `named`) answers: the asker goes
 * on from it as from any step.
 */
function relayStep(
  c: HandlerContext,
  request: RequestOf<'find_successor'>,
  next: ChordNode,
  named: readonly ChordNode[],
): Promise<ChordResponse> {
  const relay = request.relay as number
  // No field set to undefined (see `ChordRouting.lookup`).
  const onward: RequestOf<'find_successor'> = { type: 'find_successor', key: request.key }
  if (request.avoid !== undefined) onward.avoid = request.avoid
  if (request.max !== undefined) onward.max = request.max
  if (relay > 1) onward.relay = relay - 1
  return c.relay(next, onward).then(
    (answer): ChordResponse => {
      const hops = (answer.hops ?? 0) + 1
      const by = answer.by ?? wireRef(next.ref)
      return { type: 'step', done: answer.done, nodes: answer.nodes, by, hops: Math.min(hops, MAX_RELAY) }
    },
    // The asker asks the nodes named itself, and finds the failed one so (the answer made only now: most relays
    // succeed, and one made at once lived as long as the relay).
    (): ChordResponse => ({ type: 'step', done: false, nodes: refs(named) }),
  )
}

/** Whether `test` holds for one of `keys`, in order (inlined where it is called, with the caller's test). */
function someKey(keys: readonly bigint[], test: (key: bigint) => boolean): boolean {
  for (let i = 0; i < keys.length; i++) if (test(keys[i] as bigint)) return true
  return false
}

/** Nodes as they travel. */
function refs(nodes: readonly ChordNode[]): PeerRef[] {
  return nodes.map((n) => wireRef(n.ref))
}

function assertAdmitted(c: HandlerContext, from: PeerRef, what: string): void {
  if (!c.admits(from))
    throw new ProtocolError(
      `${from.id} sent a chord ${what} but its PeerId does not solve the id puzzle (difficulty ${c.options.idDifficulty})`,
    )
}

/** Every record signed by its provider, not expired, and not signed to outlive `recordTtl` (plus `maxClockSkew`). */
function assertSigned(
  c: HandlerContext,
  records: readonly SignedFileRecord[],
  from: PeerRef,
  now: number,
): void {
  const latest = now + c.options.recordTtl + c.options.maxClockSkew
  for (const r of records) {
    const fault = checkRecord(r, now)
    // An expired record is no lie (it may have run out on the way): it is skipped, not refused.
    if (fault !== undefined && fault !== 'expired')
      throw new ProtocolError(
        `${from.id} sent a record of ${r.hash} by ${r.provider.id} whose ${fault} does not check`,
      )
    if (r.expires > latest)
      throw new ProtocolError(
        `${from.id} sent a record of ${r.hash} signed to expire at ${r.expires}, past now + recordTtl + maxClockSkew = ${latest}`,
      )
  }
}

/**
 * A provider's records sent to this node as the predecessor of their keys
 * (`store.forward`): each goes, with a one-way `hand_on`, to the holders of
 * its keys in (n, successor] (this node's first `replication` successors),
 * the successor with `primary`; a record with none there (a node joined
 * since), to the holders of its first key in (n, last successor], and with
 * none there either, nowhere. Alone, this node holds every key and keeps
 * them. A holder's refusal is its own (the provider's next refresh tries
 * again), not the provider's error.
 */
async function forward(
  c: HandlerContext,
  records: readonly SignedFileRecord[],
  from: PeerRef,
  now: number,
): Promise<ChordResponse> {
  let list = c.routing.successors
  if (list.length === 0) {
    keep(c, records, undefined, from, now)
    return OK
  }
  const { ring, options } = c
  const self = c.routing.id
  let at = list.map((n) => ring.distance(self, n.id))
  if (at.some((d, i) => i > 0 && d <= (at[i - 1] as bigint))) {
    // A list out of ring order (a leave merged two): read in ring order.
    list = [...list].sort((a, b) => (ring.distance(self, a.id) < ring.distance(self, b.id) ? -1 : 1))
    at = list.map((n) => ring.distance(self, n.id))
  }
  const last = at.length
  const { replication } = options
  // Made as a successor gets its first record (most forwarded stores reach the first `replication` only).
  const batches: (HandOn | undefined)[] = []
  // The lookups this node answered were of keys in (n, successor], which all have the same holders: a
  // record's first key there tells them. A record with none (the successor changed since: a node
  // joined) goes to the holders of its first key further on.
  let further = -1
  // A key's distance d from n is at most successor k's when it lies in (n, successor k]: tested by
  // comparisons (`Ring.within`), no BigInt made per key.
  const firstId = (list[0] as ChordNode).id
  const lastId = (list[last - 1] as ChordNode).id
  const mark = (key: bigint): boolean => {
    if (!ring.within(key, self, lastId)) return false // not a key this node passes on (d 0 or past the last)
    if (ring.within(key, self, firstId)) return true
    if (further < 0) {
      further = 1
      while (!ring.within(key, self, (list[further] as ChordNode).id)) further++
    }
    return false
  }
  for (const r of records) {
    if (!(r.expires > now)) continue // expired on the way: no lie, just too late
    further = -1
    const start = someKey(c.keysOf(r), mark) ? 0 : further
    if (start < 0) continue
    const ttl = Math.min(options.recordTtl, r.expires - now)
    for (let k = start; k < start + replication && k < last; k++) {
      let b = batches[k]
      if (b === undefined) {
        b = { node: list[k] as ChordNode, records: [], ttls: [], primary: k === 0 }
        batches[k] = b
      }
      b.records.push(r)
      b.ttls.push(ttl)
    }
  }
  const sent: HandOn[] = []
  for (const b of batches) if (b !== undefined) sent.push(b)
  await c.handOn(from.id, sent)
  return OK
}

/**
 * Keeps the records that have time left and have a key this node may hold (as
 * its owner or a replica), each until its signed expiry, at most `ttls[i]`
 * from now (`recordTtl` without `ttls`); records past their provider's quota or the store's budget are
 * counted and refused with `RateLimitError` once the rest are kept.
 *
 * With `strays` (a store sent to this node as the key's successor), the
 * records none of whose keys this node owns are added to it, from the same
 * pass over their keys (the overlay passes them on to its predecessor).
 */
function keep(
  c: HandlerContext,
  records: readonly SignedFileRecord[],
  ttls: readonly number[] | undefined,
  from: PeerRef,
  now: number,
  strays?: SignedFileRecord[],
): void {
  const { replication, replicaWindow, recordTtl } = c.options
  let refused = 0
  let why = ''
  // A store to the key's successor tells owned keys from held ones; any other only asks whether one may be held.
  const role = strays !== undefined ? c.routing.keyRole(replication, replicaWindow) : () => HOLDS_NOT
  const mayHold = strays === undefined ? c.routing.holdTest(replication, replicaWindow) : () => false
  // One pass over a record's keys tells both: some key it may hold, some key it owns (owning is holding).
  let held = false
  let owned = false
  const ownsOrHolds = (key: bigint) => {
    const r = role(key)
    if (r === OWNS) {
      owned = true
      return true
    }
    if (r === HOLDS) held = true
    return false
  }
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as SignedFileRecord
    const alive = r.expires > now
    if (strays !== undefined) {
      held = false
      owned = false
      someKey(c.keysOf(r), ownsOrHolds)
      if (!owned) strays.push(r)
      held ||= owned
    } else held = alive && someKey(c.keysOf(r), mayHold)
    if (!alive || !held) continue
    const result = c.store.put(r, now + Math.min(ttls?.[i] ?? recordTtl, recordTtl))
    if (result === 'stored') continue
    refused++
    why =
      result === 'full'
        ? 'this node holds all the records it can'
        : `provider ${r.provider.id} is at its quota`
  }
  if (refused > 0)
    throw new RateLimitError(`chord refused ${refused} of ${records.length} records from ${from.id}: ${why}`)
}
