import type { PeerId, PeerRef } from '@peerkit/core'
import type { Candidate } from './messages.js'

/** Milliseconds of uptime that add one to a measured capacity. */
const HOUR = 3_600_000
/** Hours of uptime counted at most. */
const MAX_HOURS = 24

/**
 * A peer's capacity: the configured one, or (when `configured` is 0) 1 for a
 * reachable peer plus one per hour of uptime, up to 24; 0 when unreachable.
 */
export function measuredCapacity(configured: number, reachable: boolean, uptimeMs: number): number {
  if (configured > 0) return configured
  if (!reachable) return 0
  return 1 + Math.min(MAX_HOURS, Math.floor(Math.max(0, uptimeMs) / HOUR))
}

/** Election order: higher capacity first, then the lower PeerId. Negative when `a` goes first. */
export function compareCandidates(a: Candidate, b: Candidate): number {
  if (a.capacity !== b.capacity) return b.capacity - a.capacity
  return a.peer.id < b.peer.id ? -1 : a.peer.id > b.peer.id ? 1 : 0
}

/** The candidates in election order, one per peer, without `excluded` ones (those known to have failed). */
export function rank(
  candidates: Iterable<Candidate>,
  excluded: ReadonlySet<PeerId> = new Set(),
): Candidate[] {
  const byId = new Map<PeerId, Candidate>()
  for (const c of candidates) {
    if (excluded.has(c.peer.id)) continue
    const known = byId.get(c.peer.id)
    if (!known || c.capacity > known.capacity) byId.set(c.peer.id, c)
  }
  return [...byId.values()].sort(compareCandidates)
}

/** The elected candidate: the first in election order, or undefined when there is none. */
export function elect(
  candidates: Iterable<Candidate>,
  excluded?: ReadonlySet<PeerId>,
): Candidate | undefined {
  return rank(candidates, excluded)[0]
}

/** What a supernode knows of a leaf that may be elected. */
export interface LeafCandidate {
  peer: PeerRef
  /** The capacity the leaf reports (self-reported: never trusted as such). */
  reported: number
  /** When this supernode saw it attach (virtual time of the injected Clock). */
  since: number
  /** Its address range, from the connection (IPv4 /24, IPv6 /64, or its address when not IP). */
  prefix: string
}

export interface CreditOptions {
  /** Capacity credited at most, whatever a leaf reports. */
  maxCapacity: number
  /** Milliseconds of observed attachment that earn one more unit of credited capacity. */
  capacityRamp: number
}

/**
 * The capacity a supernode credits a leaf with: what it reports, but at most
 * `maxCapacity`, and at most 1 plus one per `capacityRamp` ms this supernode
 * has seen it attached. A fresh key reporting 10^9 counts as 1, like any
 * newcomer, and earns more only by staying.
 */
export function creditedCapacity(reported: number, attachedMs: number, o: CreditOptions): number {
  return Math.min(reported, o.maxCapacity, 1 + Math.max(0, attachedMs) / o.capacityRamp)
}

/**
 * Whether a leaf's credited capacity has stopped growing: its time attached
 * already earns all it reports (up to `maxCapacity`), so `creditedCapacity`
 * gives the same for every later `attachedMs` (the ramp only grows).
 */
export function creditSettled(reported: number, attachedMs: number, o: CreditOptions): boolean {
  return 1 + Math.max(0, attachedMs) / o.capacityRamp >= Math.min(reported, o.maxCapacity)
}

/**
 * A supernode's capable leaves in election order, with their credited
 * capacities: leaves from address ranges that host fewer supernodes
 * (`supernodesByPrefix`) first, then the higher credited capacity, the
 * longer attached, the lower PeerId; then taken round-robin over ranges, so
 * one range cannot fill the list however many keys it attaches.
 */
export function electionOrder(
  leaves: Iterable<LeafCandidate>,
  now: number,
  supernodesByPrefix: ReadonlyMap<string, number>,
  o: CreditOptions,
): Candidate[] {
  const scored = [...leaves].map((l) => ({
    l,
    taken: supernodesByPrefix.get(l.prefix) ?? 0,
    capacity: creditedCapacity(l.reported, now - l.since, o),
  }))
  scored.sort(
    (a, b) =>
      a.taken - b.taken ||
      b.capacity - a.capacity ||
      a.l.since - b.l.since ||
      (a.l.peer.id < b.l.peer.id ? -1 : a.l.peer.id > b.l.peer.id ? 1 : 0),
  )
  const byRange = new Map<string, typeof scored>()
  for (const x of scored) {
    const list = byRange.get(x.l.prefix)
    if (list) list.push(x)
    else byRange.set(x.l.prefix, [x])
  }
  const out: Candidate[] = []
  const ranges = [...byRange.values()]
  for (let round = 0; out.length < scored.length; round++) {
    for (const list of ranges) {
      const x = list[round]
      if (x) out.push({ peer: x.l.peer, capacity: x.capacity })
    }
  }
  return out
}
