import type { Clock } from '@peerkit/core'

/** A token bucket on a Clock: `rate` tokens a second, at most `burst` saved up. */
export class TokenBucket {
  private tokens: number
  private last: number

  constructor(
    private readonly clock: Clock,
    private readonly rate: number,
    private readonly burst: number,
  ) {
    this.tokens = burst
    this.last = clock.now()
  }

  /** Takes `n` tokens when there are enough; false (and nothing taken) otherwise. */
  take(n = 1): boolean {
    const now = this.clock.now()
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate)
    this.last = now
    if (this.tokens < n) return false
    this.tokens -= n
    return true
  }
}
