/** Recent rate of a growing total (bytes per second), over a sliding window of samples. */
export class RateMeter {
  readonly [Symbol.toStringTag] = '@peerkit/transfer:RateMeter'
  private samples: Array<{ at: number; total: number }> = []

  constructor(private readonly windowMs = 3000) {}

  /** Records the total at time `now` (milliseconds) and returns the current rate. */
  sample(now: number, total: number): number {
    this.samples.push({ at: now, total })
    while (this.samples.length > 2 && (this.samples[1] as { at: number }).at <= now - this.windowMs)
      this.samples.shift()
    return this.rate()
  }

  /** Bytes per second between the oldest and newest sample; 0 until two samples are apart in time. */
  rate(): number {
    const first = this.samples[0]
    const last = this.samples[this.samples.length - 1]
    if (!first || !last || last.at <= first.at) return 0
    return ((last.total - first.total) * 1000) / (last.at - first.at)
  }
}
