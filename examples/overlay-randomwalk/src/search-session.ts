// src/search-session.ts
import type { ContentHash, Hit, PeerId, PeerRef } from '@peerkit/core'

/**
 * One search at its origin: merges the hits its walkers report (a hash comes
 * again when it has new providers), stops taking new files at `limit`, and
 * is over when every walker is done, it is satisfied (`limit` files, or
 * without a limit `target` providers), or `end()`.
 */
export class SearchSession {
  private readonly found = new Map<ContentHash, Map<PeerId, PeerRef>>()
  private walkers = 0
  private providers = 0
  private ended = false
  private resolve: () => void = () => {}
  /** Resolves when the search is over. */
  readonly over = new Promise<void>((resolve) => {
    this.resolve = resolve
  })

  constructor(
    private readonly limit: number | undefined,
    private readonly target: number,
    private readonly push: (hit: Hit) => void,
  ) {}

  /** True while walkers should go on: not over, and fewer than `limit` files (or `target` providers) found. */
  wants(): boolean {
    if (this.ended) return false
    return this.limit === undefined ? this.providers < this.target : this.found.size < this.limit
  }

  /** Takes hits found `hops` steps away; yields those that are new files or add providers. */
  offer(hits: readonly Hit[], hops: number): void {
    for (const hit of hits) {
      let providers = this.found.get(hit.hash)
      if (!providers) {
        // Past the limit no new file is taken; the target only ends the search after this report.
        if (this.ended || (this.limit !== undefined && this.found.size >= this.limit)) continue
        providers = new Map()
        this.found.set(hit.hash, providers)
      }
      const before = providers.size
      for (const p of hit.providers) if (!providers.has(p.id)) providers.set(p.id, p)
      this.providers += providers.size - before
      if (providers.size > before) this.push({ ...hit, hops, providers: [...providers.values()] })
    }
    if (!this.wants()) this.end()
  }

  /** `n` more walkers are out. */
  expect(n: number): void {
    this.walkers += n
  }

  /** A walker ended (its TTL, no neighbor to go to, or told to stop). */
  walkerDone(): void {
    this.walkers--
    if (this.walkers <= 0) this.end()
  }

  end(): void {
    this.ended = true
    this.resolve()
  }
}
