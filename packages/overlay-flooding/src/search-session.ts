import type { Clock, ContentHash, Hit, PeerRef, TimerHandle } from '@peerkit/core'

/** What a session counts towards its goal: distinct files, or providers (of one hash). */
export type SessionMode = 'hits' | 'providers'

/**
 * The hits of one local search (over all the query ids of its expanding-ring
 * steps): merged by content hash, providers deduplicated, at most `limit`
 * distinct files. `onNew` gets each file the first time and again whenever it
 * gains providers, with the providers just added.
 */
export class SearchSession {
  /** Query ids sent for this search (one per ring step). */
  readonly ids: string[] = []
  private readonly byHash = new Map<ContentHash, Hit>()
  private providerCount = 0
  private target = Number.POSITIVE_INFINITY
  private wake: (() => void) | undefined

  constructor(
    private readonly mode: SessionMode,
    private readonly limit: number | undefined,
    private readonly onNew: (hit: Hit, added: PeerRef[]) => void,
  ) {}

  /** Distinct files (mode `hits`) or providers (mode `providers`) found so far. */
  get count(): number {
    return this.mode === 'providers' ? this.providerCount : this.byHash.size
  }

  /** Providers found so far, summed over the files (a peer holding two of them counts twice). */
  get providers(): number {
    return this.providerCount
  }

  /** True once `limit` distinct files arrived. */
  get atLimit(): boolean {
    return this.limit !== undefined && this.byHash.size >= this.limit
  }

  add(hits: readonly Hit[], hops: number): void {
    for (const h of hits) {
      let known = this.byHash.get(h.hash)
      if (!known) {
        if (this.atLimit) continue
        known = { hash: h.hash, name: h.name, size: h.size, chunkSize: h.chunkSize, providers: [], hops }
        this.byHash.set(h.hash, known)
      }
      const added: PeerRef[] = []
      for (const p of h.providers) {
        if (known.providers.some((q) => q.id === p.id) || added.some((q) => q.id === p.id)) continue
        added.push(p)
      }
      if (added.length === 0) continue
      known.providers.push(...added)
      this.providerCount += added.length
      this.onNew({ ...known, providers: known.providers.slice() }, added)
    }
    if (this.count >= this.target || this.atLimit) this.wake?.()
  }

  /**
   * Resolves once `target` is counted (or the limit reached), after `ms` on
   * `clock`, or when `signal` aborts, whichever comes first. Never rejects.
   */
  wait(clock: Clock, target: number, ms: number, signal: AbortSignal): Promise<void> {
    if (this.count >= target || this.atLimit || signal.aborted) return Promise.resolve()
    return new Promise((resolve) => {
      let timer: TimerHandle | undefined
      const done = () => {
        if (timer !== undefined) clock.clearTimeout(timer)
        signal.removeEventListener('abort', done)
        this.wake = undefined
        this.target = Number.POSITIVE_INFINITY
        resolve()
      }
      this.target = target
      this.wake = done
      signal.addEventListener('abort', done, { once: true })
      timer = clock.setTimeout(done, ms)
    })
  }
}
