import { onAbort } from './abort.js'
import type { Clock, TimerHandle } from './clock.js'
import { TimeoutError } from './errors.js'
import type { Connection } from './transport.js'

/**
 * Milliseconds during which a Network's dials on the same caller's signal
 * (or on none) share one abort signal towards their transports. A dial that
 * times out is aborted in its transport once every dial sharing its signal
 * has ended or timed out as well: at most this long after its own timeout.
 */
export const DIAL_GROUP_WINDOW = 1000

/** The key of the dials made without a caller's signal. */
const NO_SIGNAL = Symbol('no signal')

const IGNORE = (): void => {}

/** node:events where there is one (Node), for `setMaxListeners`; a browser's EventTarget does not warn. */
const EVENTS = globalThis.process?.getBuiltinModule?.('node:events')

/**
 * The abort signals a Network hands its transports' dials. A signal per dial
 * (an `AbortController`, following the caller's signal, aborted at the
 * timeout) cost a Chord publish about 4 % of its CPU: the controller, a
 * listener on it in the transport and one on the caller's signal, for every
 * dial (a lookup meets a new node at every hop). The dials a Network starts
 * within `DIAL_GROUP_WINDOW` on the same caller's signal share one instead:
 * it aborts when the caller's signal does, or once every dial on it still
 * running has timed out. Each dial keeps its own timeout (the caller gets
 * its `TimeoutError` on time), and a connection that arrives after its dial
 * gave up is closed.
 */
export class DialGroups {
  private groups: Map<AbortSignal | typeof NO_SIGNAL, DialGroup> | undefined

  constructor(private readonly clock: Clock) {}

  /** The group a dial on `outer` (not aborted) joins now. */
  join(outer: AbortSignal | undefined): DialGroup {
    const key = outer ?? NO_SIGNAL
    this.groups ??= new Map()
    const groups = this.groups
    const now = this.clock.now()
    const current = groups.get(key)
    if (current?.open && now - current.born < DIAL_GROUP_WINDOW) {
      current.start()
      return current
    }
    // A new group: the old ones past their window leave (those of signals no longer dialed on as well).
    for (const [k, g] of groups)
      if (!g.open || now - g.born >= DIAL_GROUP_WINDOW) {
        groups.delete(k)
        g.retire()
      }
    const group = new DialGroup(now, outer)
    groups.set(key, group)
    group.start()
    return group
  }

  /** Retires every group (the Network stops): each lets go of its signals once its dials have ended. */
  clear(): void {
    for (const g of this.groups?.values() ?? []) g.retire()
    this.groups = undefined
  }
}

/** Dials sharing one abort signal towards their transports (see `DialGroups`). */
export class DialGroup {
  private readonly controller = new AbortController()
  /** Dials started in this group and not ended in their transport. */
  private live = 0
  /** Dials started in this group. */
  private started = 0
  /** Of those, the ones that timed out. */
  private expired = 0
  /** No dial joins it any more: a dial timed out, or a newer group replaced it. */
  private closed = false
  /** Why the last dial that timed out gave up: the reason the signal aborts with. */
  private reason: Error | undefined
  private released = false
  /** Stops following the caller's signal: set while the group has dials (a settled dial leaves no listener there). */
  private unfollow: (() => void) | undefined
  /** Ends the group's own wait on its signal, made with its second dial (see `start`). */
  private unwatch: (() => void) | undefined

  constructor(
    readonly born: number,
    private readonly outer: AbortSignal | undefined,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal
  }

  /** Takes new dials: not closed, not aborted. */
  get open(): boolean {
    return !this.closed && !this.controller.signal.aborted
  }

  /** A dial joins the group (its caller's signal, not aborted, is followed while the group has dials). */
  start(): void {
    const outer = this.outer
    if (this.live === 0 && outer !== undefined)
      this.unfollow = onAbort(outer, () => this.controller.abort(outer.reason))
    this.live++
    if (++this.started !== 2) return
    // A group that has a second dial (most groups of a peer dialing often; a peer dialing seldom makes one
    // a dial) waits on its signal itself: each transport's dial waits on it through onAbort (as memory and tcp
    // do), so the signal keeps its one listener and a dial's wait is an entry in a Set.
    const signal = this.controller.signal
    this.unwatch = onAbort(signal, IGNORE)
    // A transport adding its own listener per dial (as websocket does) must not warn past ten at once.
    EVENTS?.setMaxListeners(0, signal)
  }

  /** A dial of the group gave up (timed out): no dial joins it any more, and it aborts once all it has did. */
  expire(reason: Error): void {
    this.expired++
    this.closed = true
    this.reason = reason
    if (this.live === this.expired) this.controller.abort(reason)
  }

  /** A dial of the group ended in its transport (connected or failed), after `expire` if it had timed out. */
  ended(expired: boolean): void {
    this.live--
    if (expired) this.expired--
    else if (this.expired > 0 && this.live === this.expired) this.controller.abort(this.reason)
    if (this.live > 0) return
    this.unfollow?.()
    this.unfollow = undefined
    if (!this.open) this.release()
  }

  /** Replaced by a newer group: no dial joins it, and it lets go of its signals once its dials have ended. */
  retire(): void {
    this.closed = true
    if (this.live === 0) this.release()
  }

  private release(): void {
    if (this.released) return
    this.released = true
    this.unwatch?.()
  }
}

/**
 * One dial's wait for its transport within `network.dialTimeout` (what
 * `withTimeout` and two reactions on the dial did, in one object): the
 * transport's answer ends the dial in its group and settles `promise`; the
 * timeout rejects it with `TimeoutError` and expires the dial in its group
 * (a connection arriving after that is closed). A dial costs a Chord publish
 * one of these at every new node a lookup meets.
 */
export class DialWait {
  readonly promise: Promise<Connection>
  private resolve!: (conn: Connection) => void
  private reject!: (err: Error) => void
  private timer: TimerHandle | undefined
  /** The dial timed out: what arrives afterwards is closed. */
  private late = false

  constructor(
    private readonly clock: Clock,
    private readonly group: DialGroup,
    dial: Promise<Connection>,
    private readonly ms: number,
    private readonly address: string,
  ) {
    this.promise = new Promise<Connection>((resolve, reject) => {
      this.resolve = resolve
      this.reject = reject
    })
    if (Number.isFinite(ms)) this.timer = clock.setTimeout(() => this.expire(), ms)
    dial.then(
      (conn) => this.connected(conn),
      (err) => this.failed(err),
    )
  }

  private connected(conn: Connection): void {
    const late = this.late
    this.group.ended(late)
    if (late || this.group.signal.aborted) void conn.close()
    this.stop()
    this.resolve(conn) // after a timeout, a no-op: the promise was rejected
  }

  private failed(err: Error): void {
    this.group.ended(this.late)
    this.stop()
    this.reject(err)
  }

  private expire(): void {
    this.timer = undefined
    const err = new TimeoutError(`dial ${this.address} timed out after ${this.ms} ms`)
    this.late = true
    this.group.expire(err)
    this.reject(err)
  }

  private stop(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    this.timer = undefined
  }
}
