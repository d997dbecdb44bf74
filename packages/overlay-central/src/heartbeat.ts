import type { Clock, TimerHandle } from '@peerkit/core'

/**
 * A client's heartbeats on a Clock: `beat` every `ms`, the next one `ms`
 * after the last one ended (as core's `every` runs a task), except that a
 * sign of life the client had from its directory by other means meanwhile
 * (`heard()`: an answer over another protocol on the same connection, such
 * as a supernode leaf's refresh) moves the next heartbeat to `ms` after it.
 * The directory learns as much from that exchange as from a heartbeat, and
 * a silent directory is still asked within `ms` of the last thing it said.
 * Without `heard()`, the same timers at the same times as `every`.
 */
export class Heartbeat {
  private stopped = false
  private timer: TimerHandle | undefined
  /** When the next heartbeat is due. */
  private due: number
  private readonly fire = () => {
    this.timer = undefined
    if (this.stopped) return
    const wait = this.due - this.clock.now()
    // Heard from meanwhile: the timer moves (no promise made); one request and its answer fewer.
    if (wait > 0) this.timer = this.clock.setTimeout(this.fire, wait)
    else void this.run()
  }

  constructor(
    private readonly clock: Clock,
    private readonly ms: number,
    private readonly beat: () => Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {
    this.due = clock.now() + ms
    this.timer = clock.setTimeout(this.fire, ms)
  }

  /** The directory was heard from just now: the next heartbeat is due `ms` from now (the timer is moved when it fires). */
  heard(): void {
    this.due = this.clock.now() + this.ms
  }

  stop(): void {
    this.stopped = true
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    this.timer = undefined
  }

  private async run(): Promise<void> {
    try {
      await this.beat()
    } catch (err) {
      this.onError(err)
    }
    if (this.stopped) return
    this.due = this.clock.now() + this.ms
    this.timer = this.clock.setTimeout(this.fire, this.ms)
  }
}
