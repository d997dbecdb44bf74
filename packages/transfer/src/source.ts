import type { PeerRef } from '@peerkit/core'

/** Throughput is measured over this window. */
const RATE_WINDOW_MS = 2000

/**
 * One provider of one download: its requests in flight, the verified bytes
 * it delivered, a throughput estimate, and its consecutive failures.
 */
export class Source {
  readonly [Symbol.toStringTag] = '@peerkit/transfer:Source'
  inFlight = 0
  /** Verified bytes that went into the file from this source. */
  bytes = 0
  failures = 0
  dropped: string | undefined
  /** Cancels this source's requests (when it is dropped or the chunk came from elsewhere). */
  readonly requests = new Map<number, AbortController>()
  private samples: Array<{ at: number; bytes: number }> = []
  private lastRate = 0

  constructor(
    readonly ref: PeerRef,
    /** Tie-break among sources with no measurement yet. */
    readonly order: number,
  ) {}

  get id(): string {
    return this.ref.id
  }

  /** A chunk of `bytes` arrived at time `now`. */
  record(now: number, bytes: number): void {
    this.bytes += bytes
    this.failures = 0
    this.samples.push({ at: now, bytes })
    this.trim(now)
  }

  /** Bytes per second over the recent window (the last estimate while nothing new arrived). */
  rate(now: number): number {
    this.trim(now)
    if (this.samples.length === 0) return this.lastRate
    const first = this.samples[0] as { at: number }
    const span = Math.max(250, now - first.at)
    const bytes = this.samples.reduce((sum, s) => sum + s.bytes, 0)
    this.lastRate = (bytes * 1000) / span
    return this.lastRate
  }

  private trim(now: number): void {
    while (this.samples.length > 0 && (this.samples[0] as { at: number }).at < now - RATE_WINDOW_MS) this.samples.shift()
  }
}
