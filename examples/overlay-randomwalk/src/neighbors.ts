// src/neighbors.ts
import type { PeerId, PeerRef } from '@peerkit/core'

/**
 * Who this node's neighbors are, and peers it heard of that could become
 * neighbors (the oldest forgotten first past `maxCandidates`). Pure: no I/O.
 */
export class Neighbors {
  private readonly current = new Map<PeerId, PeerRef>()
  private readonly candidates = new Map<PeerId, PeerRef>()

  constructor(
    private readonly self: PeerId,
    private readonly maxNeighbors: number,
    private readonly maxCandidates: number,
  ) {}

  get size(): number {
    return this.current.size
  }

  get full(): boolean {
    return this.current.size >= this.maxNeighbors
  }

  has(id: PeerId): boolean {
    return this.current.has(id)
  }

  list(): PeerRef[] {
    return [...this.current.values()]
  }

  /** Adds a neighbor; false when it is one already, is this node, or the table is full. */
  add(ref: PeerRef): boolean {
    if (ref.id === this.self || this.current.has(ref.id) || this.full) return false
    this.current.set(ref.id, ref)
    this.candidates.delete(ref.id)
    return true
  }

  /** Removes a neighbor; true when it was one. */
  remove(id: PeerId): boolean {
    return this.current.delete(id)
  }

  /** Remembers a peer that could become a neighbor (not this node, not a neighbor, with an address). */
  offer(ref: PeerRef): void {
    if (ref.id === this.self || this.current.has(ref.id) || ref.addresses.length === 0) return
    this.candidates.delete(ref.id)
    this.candidates.set(ref.id, ref)
    for (const id of this.candidates.keys()) {
      if (this.candidates.size <= this.maxCandidates) break
      this.candidates.delete(id)
    }
  }

  /** Takes (and forgets) a candidate, the one at `index` of the list (a random index from the caller). */
  takeCandidate(index: number): PeerRef | undefined {
    const ref = [...this.candidates.values()][index % Math.max(1, this.candidates.size)]
    if (ref) this.candidates.delete(ref.id)
    return ref
  }

  get candidateCount(): number {
    return this.candidates.size
  }
}
