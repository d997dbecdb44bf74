/**
 * A byte-rate limit for chunks of any size (a token bucket that may run into
 * debt by one chunk, as in the generic cell rate algorithm): `reserve` counts
 * `n` bytes and says how long the caller must wait before sending them, so
 * over any span the bytes passed are at most `rate` per second plus one
 * chunk. Time comes from the caller (a Clock reading), so it runs the same in
 * virtual time.
 */
export class ByteRate {
  readonly [Symbol.toStringTag] = '@peerkit/transfer:ByteRate'
  /** When the bytes reserved so far have all been paid for at `rate`. */
  private paidUntil = Number.NEGATIVE_INFINITY

  constructor(
    /** Bytes per second (> 0). */
    readonly rate: number,
  ) {}

  /** Milliseconds until the next bytes may go at time `now` (0: now). */
  wait(now: number): number {
    return Math.max(0, this.paidUntil - now)
  }

  /** Counts `n` bytes sent at time `now` (which must be when `wait(now)` is 0, or later). */
  take(now: number, n: number): void {
    this.paidUntil = Math.max(this.paidUntil, now) + (n * 1000) / this.rate
  }

  /** Counts `n` bytes and returns the milliseconds to wait before they go (the reservation is kept). */
  reserve(now: number, n: number): number {
    const at = Math.max(this.paidUntil, now)
    this.paidUntil = at + (n * 1000) / this.rate
    return at - now
  }
}
