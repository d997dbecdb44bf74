/**
 * A token bucket: `rate` tokens per second refill it up to `burst`; each
 * event takes one. Time comes from the caller (a Clock reading), so it is
 * pure and runs the same in virtual time.
 */
export class TokenBucket {
  private tokens: number
  private last: number
  /** Events refused since the bucket was last full. */
  refusedSinceFull = 0

  constructor(
    readonly rate: number,
    readonly burst: number,
    now: number,
  ) {
    this.tokens = burst
    this.last = now
  }

  /** Takes `n` tokens at time `now` (ms); false, and nothing taken, when there are not enough (the event is refused). */
  take(now: number, n = 1): boolean {
    this.refill(now)
    if (this.tokens >= n) {
      this.tokens -= n
      return true
    }
    this.refusedSinceFull++
    return false
  }

  /** Tokens available at time `now`. */
  available(now: number): number {
    this.refill(now)
    return this.tokens
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.last)
    this.last = Math.max(this.last, now)
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.rate) / 1000)
    if (this.tokens >= this.burst) this.refusedSinceFull = 0
  }
}
