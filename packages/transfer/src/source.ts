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
  /** Consecutive requests that timed out with nothing delivered meanwhile. */
  failures = 0
  /** When this source last delivered a verified chunk. */
  lastDelivery = Number.NEGATIVE_INFINITY
  /** Requests allowed in flight: halved on a timeout, grown by one per delivered chunk (up to the maximum). */
  window: number
  dropped: string | undefined
  /** No new request before this time: the source refused one with `RateLimitError` (it is busy, not dead). */
  pausedUntil = 0
  /** Refusals in a row, for the back-off. */
  private refusals = 0
  /** Cancels this source's requests (when it is dropped or the chunk came from elsewhere). */
  readonly requests = new Map<number, AbortController>()
  private samples: Array<{ at: number; bytes: number }> = []
  private head = 0
  private windowBytes = 0

  constructor(
    readonly ref: PeerRef,
    /** Tie-break among sources with no measurement yet. */
    readonly order: number,
    private readonly maxWindow: number,
  ) {
    this.window = maxWindow
  }

  get id(): string {
    return this.ref.id
  }

  /** A chunk of `bytes` arrived at time `now`. */
  record(now: number, bytes: number): void {
    this.bytes += bytes
    this.failures = 0
    this.refusals = 0
    this.lastDelivery = now
    this.window = Math.min(this.maxWindow, this.window + 1)
    this.samples.push({ at: now, bytes })
    this.windowBytes += bytes
    this.trim(now)
  }

  /**
   * A request sent at `sentAt` timed out: the window shrinks (the source is
   * slower than its queue); it counts as a failure only when nothing at all
   * arrived from the source since then (stalled, not slow). Returns the failures.
   */
  timedOut(sentAt: number): number {
    this.window = Math.max(1, this.window >> 1)
    if (this.lastDelivery < sentAt) this.failures++
    return this.failures
  }

  /**
   * The source refused a request (`RateLimitError`: it serves this peer too
   * much at once). Not a failure: the window halves and the source rests
   * 50 ms, doubling with each refusal in a row up to 2 s. Returns when it may
   * be asked again.
   */
  refused(now: number): number {
    this.window = Math.max(1, this.window >> 1)
    this.pausedUntil = now + Math.min(2000, 50 * 2 ** this.refusals)
    this.refusals = Math.min(this.refusals + 1, 16)
    return this.pausedUntil
  }

  /** Bytes per second over the recent window (0 when nothing arrived lately). */
  rate(now: number): number {
    this.trim(now)
    const first = this.samples[this.head]
    if (!first) return 0
    return (this.windowBytes * 1000) / Math.max(250, now - first.at)
  }

  private trim(now: number): void {
    for (let s = this.samples[this.head]; s && s.at < now - RATE_WINDOW_MS; s = this.samples[this.head]) {
      this.windowBytes -= s.bytes
      this.head++
    }
    if (this.head > 1024 && this.head * 2 > this.samples.length) {
      this.samples = this.samples.slice(this.head)
      this.head = 0
    }
  }
}
