import { InvalidOptionsError, type Random } from '@peerkit/core'

/** An exponential draw with the given mean (0 for a mean of 0). */
export function exponential(random: Random, mean: number): number {
  return mean <= 0 ? 0 : -mean * Math.log(1 - random.next())
}

/**
 * Zipf's law over ranks 0 … n-1: P(rank k) ∝ 1 / (k + 1)^s. Draws take
 * O(log n) (binary search over the cumulative distribution, built once).
 */
export class Zipf {
  private readonly cdf: Float64Array

  constructor(
    readonly n: number,
    readonly s: number,
  ) {
    if (!Number.isInteger(n) || n < 1)
      throw new InvalidOptionsError(`zipf n must be an integer >= 1 (got ${n})`)
    if (!(s >= 0) || !Number.isFinite(s))
      throw new InvalidOptionsError(`zipf exponent must be >= 0 (got ${s})`)
    this.cdf = new Float64Array(n)
    let sum = 0
    for (let k = 0; k < n; k++) {
      sum += 1 / (k + 1) ** s
      this.cdf[k] = sum
    }
    for (let k = 0; k < n; k++) this.cdf[k] = (this.cdf[k] as number) / sum
  }

  /** Probability of rank `k`. */
  probability(k: number): number {
    if (k < 0 || k >= this.n) return 0
    return (this.cdf[k] as number) - (k === 0 ? 0 : (this.cdf[k - 1] as number))
  }

  /** A rank drawn with `random`. */
  sample(random: Random): number {
    const u = random.next()
    let lo = 0
    let hi = this.n - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if ((this.cdf[mid] as number) > u) hi = mid
      else lo = mid + 1
    }
    return lo
  }
}
