import type { PeerId } from '@peerkit/core'
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
