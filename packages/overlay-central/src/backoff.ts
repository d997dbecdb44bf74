import type { Random } from '@peerkit/core'

/**
 * Exponential backoff with jitter: the n-th delay is drawn uniformly from
 * [d/2, d] where d = min(max, min · 2ⁿ). `reset()` after a success.
 */
export class Backoff {
  private attempt = 0

  constructor(
    private readonly random: Random,
    private readonly min: number,
    private readonly max: number,
  ) {}

  next(): number {
    const d = Math.min(this.max, this.min * 2 ** Math.min(this.attempt, 30))
    this.attempt++
    return Math.round(d / 2 + this.random.next() * (d / 2))
  }

  reset(): void {
    this.attempt = 0
  }
}
