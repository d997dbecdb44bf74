import { type Clock, type TimerHandle, withTimeout } from '../clock.js'
import { ListenedEmitter } from '../connection-emitter.js'
import { PeerkitError, PeerUnreachableError, ProtocolError, RateLimitError, RemoteError } from '../errors.js'
import { type ManagedConnection, type MemoryScope, managed } from '../resource-manager.js'
import type { AbortOptions, Connection } from '../transport.js'
import { decode, encode, validateWith } from './codec.js'
import { compiledCheck } from './compiled.js'
import { checkEnvelope, type Envelope, Kind } from './envelope.js'
import { DEFAULT_MAX_MESSAGE_ITEMS } from './item-count.js'
import type { Protocol } from './protocol.js'

/**
 * What one connection may make its peer hold (the Network passes its
 * `network.*` options). Without them a Mux reads and answers without bound.
 */
export interface MuxLimits {
  /** Requests being answered at once before reading pauses. */
  maxPendingRequests: number
  /** Bytes of answers queued behind the connection: reading pauses at a quarter, the connection closes past it. */
  maxSendQueue: number
  /** Milliseconds reading may stay paused without an answer leaving before the connection closes. */
  sendStallTimeout: number
  /** Values one message may declare. */
  maxMessageItems: number
  /** Milliseconds a draining close (GOAWAY, either side's) may take before the connection is closed anyway. @default 10000 */
  drainTimeout?: number
}

/** `MuxLimits.drainTimeout` of a Mux made without limits, and `network.drainTimeout`'s default. */
export const DEFAULT_DRAIN_TIMEOUT = 10_000

/** The highest request id; a Mux whose ids run out drains instead of wrapping (a GOAWAY's id must order them). */
const MAX_REQUEST_ID = 2 ** 32

/**
 * A request the remote never read: sent on a connection the remote closes
 * with a draining close (GOAWAY) naming an earlier id as the last it read,
 * or asked for on a connection already going away (nothing was sent). It did
 * not run there, so it may be sent once more on another connection (the
 * `Network` does). Its name stays `PeerUnreachableError` for everyone else.
 */
export class UnreadRequestError extends PeerUnreachableError {}

/** A draining close in progress: who sent the GOAWAY, and the deadline's timer. */
interface Drain {
  /** This side sent GOAWAY: requests of the remote arriving now are not read. */
  local: boolean
  /** The remote sent GOAWAY: it must send nothing new, and this side closes once nothing is pending either way. */
  remote: boolean
  /** Requests of the remote not read since this side's GOAWAY. */
  ignored: number
  timer: TimerHandle | undefined
}

/** While a Mux's reading is paused: since when no answer has left, and the timer that closes the connection. */
interface Stall {
  since: number
  timer: TimerHandle | undefined
}

/** Requests read after this side's GOAWAY before the connection closes, for a Mux made without limits. */
const DEFAULT_MAX_UNREAD = 128

/** The request id (never used by requests) of an error about the whole connection, sent before closing it. */
export const CONNECTION_ERROR_ID = 0

export interface MuxRequestOptions extends AbortOptions {
  /** Milliseconds to wait for the response. */
  timeout?: number
}

interface Pending {
  protocol: Protocol<unknown, unknown>
  resolve: (value: unknown) => void
  reject: (err: Error) => void
}

export interface MuxEvents {
  /** A request for `protocol`; answer with `respond` or `fail`. */
  request: [protocol: string, body: unknown, reply: Reply]
  /** A one-way message. */
  message: [protocol: string, body: unknown]
}

export interface Reply {
  respond(body: unknown): void
  fail(err: Error): void
}

/**
 * Whoever owns a Mux (the Network) may hear of its requests, messages and
 * close through these calls, made just before the `request` and `message`
 * events and just after pending requests fail on close: one object per
 * owner instead of three listeners per connection (the Network is its
 * Muxes' owner itself).
 */
export interface MuxOwner {
  onMuxRequest(mux: Mux, protocol: string, body: unknown, reply: Reply): void
  onMuxMessage(mux: Mux, protocol: string, body: unknown): void
  onMuxClose(mux: Mux, err?: Error): void
}

/**
 * Request/response and one-way messages for many protocols over one
 * Connection, matched by request id. A frame that does not decode or does not
 * match the envelope schema closes the connection with a `ProtocolError`.
 */
export class Mux extends ListenedEmitter<MuxEvents> {
  private nextId = 1
  /**
   * Kept by the owner (the Network): what it hands the handlers of this
   * connection's messages (the remote as last looked up, and the
   * connection), so that a message needs no lookup in a map of every known
   * peer and no new objects; cleared whenever the remote's addresses change.
   */
  remoteContext: unknown
  // What every message reads comes next (after the constructor's parameters and remoteContext): in one
  // line of memory or two, not spread over the object (nearly always out of the CPU's caches in a flood).
  lastUsed: number
  /** Set once either side sent GOAWAY. */
  private draining: Drain | undefined
  /**
   * Set once anyone listens to this Mux's events: a Mux owned by a Network
   * (which hears through `MuxOwner`) has no listener, and its requests and
   * messages skip `emit` (a look-up by event name on every message).
   */
  private heard = false
  /** `limits.maxMessageItems`, read at every frame: a field of the Mux's own, not one more object to read. */
  private readonly maxItems: number
  /**
   * The oldest request awaiting its response (id `firstId`), kept out of
   * `pending`: a connection mostly has one at a time, and a Map made for
   * each (an idle connection keeps none) cost a Chord publish one per request.
   */
  private first: Pending | undefined
  private firstId = 0
  /** The other requests awaiting their response, each newer than `first`; made when needed. */
  private pending: Map<number, Pending> | undefined
  /** Requests received and not yet answered. */
  private serving = 0
  /** Bytes of answers handed to the connection and not yet accepted by it. */
  private queued = 0
  /** Set while reading is paused because answers are not drained (or too many requests are being answered). */
  private stall: Stall | undefined
  /** The id of the last request of the remote read (0: none): what this side's GOAWAY names. */
  private lastRead = 0
  /** The highest id of this side's requests the remote answered: a GOAWAY naming less is a lie. */
  private lastAnswered = 0
  /**
   * Kept by the owner: the multiplexer version the remote told in identify
   * (1 when it told none: a peer from before the draining close). Unknown
   * until its identify is read.
   */
  remoteMux: number | undefined

  /**
   * Whether to close with GOAWAY: unless the remote said it speaks an older
   * multiplexer. A remote not heard from yet is most likely of this version
   * (its identify can be on the wire behind a slow link, with its first
   * request after it), and an older one only closes the connection on the
   * unknown kind, as this side was doing anyway.
   */
  get remoteDrains(): boolean {
    return this.remoteMux === undefined || this.remoteMux >= 2
  }

  protected override onListener(): void {
    this.heard = true
  }

  constructor(
    readonly connection: Connection,
    private readonly clock: Clock,
    private readonly owner?: MuxOwner,
    private readonly limits?: MuxLimits,
    /** Where the queued answers count against the node's memory budget. */
    readonly scope?: MemoryScope,
  ) {
    super()
    this.maxItems = limits?.maxMessageItems ?? DEFAULT_MAX_MESSAGE_ITEMS
    this.lastUsed = clock.now()
    // Prototype methods with the Mux as context: no closures per connection.
    connection.on('message', this.onFrame, this)
    connection.on('close', this.onClose, this)
  }

  get inFlight(): number {
    return (this.first === undefined ? 0 : 1) + (this.pending?.size ?? 0)
  }

  /** Requests of the remote this side is answering now (received, not yet answered). */
  get answering(): number {
    return this.serving
  }

  /** Bytes of answers waiting for the connection to take them. */
  get sendQueue(): number {
    return this.queued
  }

  /** True while the connection's messages are not read, for answers not drained. */
  get readPaused(): boolean {
    return this.stall !== undefined
  }

  /** True once either side began a draining close: no new request or message goes on this connection. */
  get goingAway(): boolean {
    return this.draining !== undefined
  }

  /**
   * Closes the connection the draining way (HTTP/2's GOAWAY): tells the remote
   * the id of its last request read, reads none of its requests after it,
   * answers those it read, and leaves the close to the remote once its
   * pending requests are answered (the remote, knowing which of its requests
   * were not read, sends them again elsewhere). Closed anyway after
   * `drainTimeout`. A remote that said it speaks an older multiplexer
   * (`remoteMux` 1) is closed at once, without one.
   */
  drain(): void {
    if (this.connection.closed) return
    if (!this.remoteDrains) {
      void this.connection.close()
      return
    }
    if (this.draining?.local) return
    const drain = this.startDrain()
    drain.local = true
    this.write([Kind.GoAway, this.lastRead]).then(undefined, IGNORE) // fails only on a closed connection, whose close is reported
  }

  /** The draining state, made with its deadline by whichever side's GOAWAY came first. */
  private startDrain(): Drain {
    if (this.draining !== undefined) return this.draining
    const ms = this.limits?.drainTimeout ?? DEFAULT_DRAIN_TIMEOUT
    const drain: Drain = { local: false, remote: false, ignored: 0, timer: undefined }
    this.draining = drain
    drain.timer = this.clock.setTimeout(() => {
      drain.timer = undefined
      void this.connection.close()
    }, ms)
    return drain
  }

  /** The remote's GOAWAY: this side's requests after `lastId` were not read and go elsewhere. */
  private onGoAway(lastId: number): void {
    const sent = this.nextId - 1
    const bogus =
      this.draining?.remote === true
        ? 'a second GOAWAY'
        : lastId > sent
          ? `a GOAWAY naming request ${lastId} as read, which was never sent (the last sent was ${sent})`
          : lastId < this.lastAnswered
            ? `a GOAWAY naming request ${lastId} as the last read, but request ${this.lastAnswered} was answered`
            : undefined
    if (bogus !== undefined) {
      void this.connection.close(new ProtocolError(`${this.connection.remotePeer} sent ${bogus}`))
      return
    }
    const drain = this.startDrain()
    drain.remote = true
    // Oldest first (`first`, then `pending` in the order sent).
    const first = this.first
    if (first !== undefined && this.firstId > lastId) {
      this.first = undefined
      first.reject(this.unread(this.firstId, lastId))
    }
    const pending = this.pending
    if (pending !== undefined)
      for (const [id, p] of pending)
        if (id > lastId) {
          pending.delete(id)
          p.reject(this.unread(id, lastId))
        }
    this.drained()
  }

  private unread(id: number, lastId: number): UnreadRequestError {
    return new UnreadRequestError(
      `${this.connection.remotePeer} closed the connection before reading request ${id} (GOAWAY after ${lastId})`,
    )
  }

  /** Keeps a request until its response: in `first` when no request is pending, else in `pending`. */
  private track(id: number, p: Pending): void {
    if (this.first === undefined && (this.pending === undefined || this.pending.size === 0)) {
      this.first = p
      this.firstId = id
      return
    }
    this.pending ??= new Map()
    this.pending.set(id, p)
  }

  /** The request `id` awaiting its response, if it still is. */
  private awaiting(id: number): Pending | undefined {
    if (this.first !== undefined && this.firstId === id) return this.first
    return this.pending?.get(id)
  }

  /** The request `id` awaits its response no longer (answered, timed out or failed). */
  private forget(id: number): void {
    if (this.first !== undefined && this.firstId === id) {
      this.first = undefined
      return
    }
    const pending = this.pending
    if (pending?.delete(id) && pending.size === 0) this.pending = undefined // an idle connection keeps none
  }

  /** After the remote's GOAWAY, the connection closes once nothing is pending either way. */
  private drained(): void {
    const drain = this.draining
    if (drain === undefined || !drain.remote || this.serving > 0 || this.queued > 0 || this.inFlight > 0)
      return
    if (drain.timer !== undefined) this.clock.clearTimeout(drain.timer)
    drain.timer = undefined
    void this.connection.close()
  }

  /**
   * Tells the remote why (`[Error, 0, {name, message}]`, which older peers
   * ignore), then closes gracefully, so that the error leaves first.
   */
  abort(err: Error): void {
    if (this.connection.closed) return
    this.write([Kind.Error, CONNECTION_ERROR_ID, wireError(err)]).then(undefined, IGNORE) // the close below reports it
    void this.connection.close()
  }

  /** `timeout`: milliseconds to wait for the response (default `options.timeout`, none without it). */
  async request<Req, Res>(
    protocol: Protocol<Req, Res>,
    body: Req,
    options: MuxRequestOptions = {},
    timeout = options.timeout,
  ): Promise<Res> {
    if (this.connection.closed)
      throw new PeerUnreachableError(`connection to ${this.connection.remotePeer} is closed`)
    if (this.draining !== undefined)
      throw new UnreadRequestError(`connection to ${this.connection.remotePeer} is going away`)
    const id = this.nextId++
    // Ids are never reused on a connection that may see a GOAWAY: it drains after this request instead
    // (a peer without the draining close never sends one, and its connection wraps as before).
    const exhausted = this.nextId > MAX_REQUEST_ID
    if (exhausted && !this.remoteDrains) this.nextId = 1
    this.lastUsed = this.clock.now()
    const response = new Promise<Res>((resolve, reject) => {
      this.track(id, {
        protocol: protocol as Protocol<unknown, unknown>,
        resolve: resolve as (v: unknown) => void,
        reject,
      })
    })
    response.catch(IGNORE) // settled through the chain below; never unhandled
    const sent = this.write([Kind.Request, id, protocol.name, body], options)
    if (exhausted && this.remoteDrains) this.drain()
    return withTimeout(
      this.clock,
      sent.then(() => response),
      timeout,
      {
        signal: options.signal,
        message: () =>
          `${protocol.name} request to ${this.connection.remotePeer} timed out after ${timeout} ms`,
        onCancel: () => this.forget(id),
      },
    ).finally(() => {
      this.forget(id)
      if (this.draining !== undefined) this.drained()
    })
  }

  message<Req>(protocol: Protocol<Req, unknown>, body: Req, options: AbortOptions = {}): Promise<void> {
    let prepared: PreparedMessage<Req>
    try {
      prepared = new PreparedMessage(protocol, body)
    } catch (err) {
      return Promise.reject(err)
    }
    return this.sendPrepared(prepared, options)
  }

  /** `message`, with the envelope encoded once beforehand (see `PreparedMessage`). */
  async sendPrepared(prepared: PreparedMessage<unknown>, options: AbortOptions = {}): Promise<void> {
    if (this.draining !== undefined && !this.connection.closed)
      throw new UnreadRequestError(`connection to ${this.connection.remotePeer} is going away`)
    this.lastUsed = this.clock.now()
    await this.connection.send(prepared.bytes, options)
  }

  /**
   * @internal `sendPrepared` without its async wrapper, for the Network's `sendIfConnected`, which has
   * checked that the connection is not going away: the connection's own promise (a transport may give
   * one settled promise for every send that fits).
   */
  post(prepared: PreparedMessage<unknown>): Promise<void> {
    this.lastUsed = this.clock.now()
    return this.connection.send(prepared.bytes)
  }

  private write(envelope: Envelope, options?: AbortOptions): Promise<void> {
    return this.connection.send(encode(envelope), options)
  }

  // The envelope's items are read by index, not destructured: in the profile of a 2,000-peer flood the
  // destructuring (the array iterator) took a fifth of onFrame's own time.
  private onFrame(data: Uint8Array): void {
    let envelope: Envelope
    try {
      envelope = checkEnvelope(decode(data, this.maxItems))
    } catch (err) {
      void this.connection.close(err as Error)
      return
    }
    this.lastUsed = this.clock.now()
    switch (envelope[0]) {
      case Kind.Request: {
        const id = envelope[1]
        const protocol = envelope[2]
        const body = envelope[3]
        if (this.draining !== undefined && !this.readAfterGoAway(id)) return
        this.lastRead = id
        const reply = new MuxReply(this, id)
        this.serving++
        if (this.stall !== undefined && managed(this.connection).pauseReading === undefined) {
          // A transport that cannot stop reading: what arrives meanwhile is refused, not queued.
          reply.fail(new RateLimitError(`${this.connection.remotePeer} is not reading its answers`))
          return
        }
        this.owner?.onMuxRequest(this, protocol, body, reply)
        if (this.heard) this.emit('request', protocol, body, reply)
        this.flow()
        return
      }
      case Kind.Response: {
        const id = envelope[1]
        const body = envelope[2]
        const p = this.awaiting(id)
        if (!p) return // answered after its timeout: dropped
        this.forget(id)
        if (id > this.lastAnswered) this.lastAnswered = id
        try {
          p.resolve(
            validateWith(
              compiledCheck(p.protocol.response),
              p.protocol.response,
              body,
              p.protocol.name,
              ' response',
            ),
          )
        } catch (err) {
          p.reject(err as Error)
          void this.connection.close(err as Error)
        }
        return
      }
      case Kind.Error: {
        const id = envelope[1]
        const e = envelope[2]
        if (id === CONNECTION_ERROR_ID) {
          // The remote's reason travels in the message, never as the local error's name: a peer must not
          // choose how this side classifies a closed connection (an AbortError here means the user's abort).
          const remote = new RemoteError(e.name, e.message, this.connection.remotePeer)
          void this.connection.close(
            new ProtocolError(
              `${this.connection.remotePeer} closed the connection: ${e.name}: ${e.message}`,
              {
                cause: remote,
              },
            ),
          )
          return
        }
        const p = this.awaiting(id)
        if (!p) return
        this.forget(id)
        if (id > this.lastAnswered) this.lastAnswered = id
        p.reject(new RemoteError(e.name, e.message, this.connection.remotePeer))
        return
      }
      case Kind.Message: {
        const protocol = envelope[1]
        const body = envelope[2]
        if (this.draining?.remote === true) {
          this.closeAfterGoAway(`a message for ${protocol.slice(0, 128)}`)
          return
        }
        this.owner?.onMuxMessage(this, protocol, body)
        if (this.heard) this.emit('message', protocol, body)
        return
      }
      case Kind.GoAway:
        this.onGoAway(envelope[1])
        return
    }
  }

  /**
   * A request arriving while the connection goes away. After the remote's
   * GOAWAY it is a protocol error (the remote promised none). After this
   * side's, it was sent before the remote heard of it: not read (the remote
   * sends it again elsewhere), up to `maxPendingRequests` of them; a remote
   * that goes on past that is not draining, and the connection closes.
   * Returns whether to read it (never).
   */
  private readAfterGoAway(id: number): boolean {
    const drain = this.draining as Drain
    if (drain.remote) {
      this.closeAfterGoAway(`request ${id}`)
      return false
    }
    const max = this.limits?.maxPendingRequests ?? DEFAULT_MAX_UNREAD
    if (++drain.ignored > max)
      void this.connection.close(
        new ProtocolError(
          `${this.connection.remotePeer} sent more than ${max} requests after this side's GOAWAY (network.maxPendingRequests)`,
        ),
      )
    return false
  }

  private closeAfterGoAway(what: string): void {
    void this.connection.close(
      new ProtocolError(`${this.connection.remotePeer} sent ${what} after its own GOAWAY`),
    )
  }

  /** @internal A request's answer (its first; a `MuxReply` sends no second): it is served. */
  replied(envelope: Envelope): void {
    this.serving--
    this.answer(envelope)
  }

  /** Sends an answer, counting it in the send queue until the connection takes it. */
  private answer(envelope: Envelope): void {
    let bytes: Uint8Array
    try {
      bytes = encode(envelope)
    } catch (err) {
      // A handler's answer that msgpack cannot encode: the request fails instead.
      if (envelope[0] === Kind.Error) return
      this.answer([Kind.Error, envelope[1] as number, wireError(err)])
      return
    }
    const n = bytes.length
    this.queued += n
    this.scope?.addMux(n)
    const settled = () => {
      this.queued -= n
      this.scope?.addMux(-n)
      if (this.stall) this.stall.since = this.clock.now()
      this.flow()
      if (this.draining !== undefined) this.drained()
    }
    this.connection.send(bytes).then(settled, settled)
    this.flow()
  }

  /**
   * Backpressure on the read side: while the answers to this peer are not
   * drained (a quarter of `maxSendQueue` queued) or `maxPendingRequests` are being
   * answered, its messages are not read; past `maxSendQueue`, or paused for
   * `sendStallTimeout` without an answer leaving, the connection is closed.
   */
  private flow(): void {
    const limits = this.limits
    if (!limits || this.connection.closed) return
    if (this.queued > limits.maxSendQueue) {
      this.closeFor(
        `${this.connection.remotePeer} does not read its answers: ${this.queued} bytes queued, more than network.maxSendQueue (${limits.maxSendQueue})`,
      )
      return
    }
    const full = this.serving >= limits.maxPendingRequests || this.queued >= limits.maxSendQueue / 4
    const flow: ManagedConnection = managed(this.connection)
    if (full && this.stall === undefined) {
      const stall: Stall = { since: this.clock.now(), timer: undefined }
      this.stall = stall
      flow.pauseReading?.()
      this.armStall(stall, limits.sendStallTimeout)
    } else if (!full && this.stall !== undefined) {
      this.disarmStall()
      flow.resumeReading?.()
    }
  }

  private armStall(stall: Stall, ms: number): void {
    stall.timer = this.clock.setTimeout(() => {
      stall.timer = undefined
      if (this.stall !== stall || this.connection.closed) return
      const idle = this.clock.now() - stall.since
      const limit = this.limits?.sendStallTimeout ?? ms
      if (idle < limit) this.armStall(stall, limit - idle)
      else
        this.closeFor(
          `${this.connection.remotePeer} read none of its ${this.queued} bytes of answers for ${idle} ms (network.sendStallTimeout ${limit})`,
        )
    }, ms)
  }

  /** Reading goes on (or the connection closes): the stall ends. */
  private disarmStall(): void {
    if (this.stall?.timer !== undefined) this.clock.clearTimeout(this.stall.timer)
    this.stall = undefined
  }

  private closeFor(message: string): void {
    this.disarmStall()
    void this.connection.close(new RateLimitError(message))
  }

  private onClose(err?: Error): void {
    this.disarmStall()
    if (this.draining?.timer !== undefined) this.clock.clearTimeout(this.draining.timer)
    this.failAll(err)
    this.owner?.onMuxClose(this, err)
  }

  private failAll(err?: Error): void {
    if (this.inFlight === 0) return
    const reason = new PeerUnreachableError(`connection to ${this.connection.remotePeer} closed`, {
      cause: err,
    })
    const first = this.first
    this.first = undefined
    first?.reject(reason)
    const pending = this.pending
    if (pending === undefined) return
    for (const p of pending.values()) p.reject(reason)
    pending.clear()
  }
}

/**
 * A one-way message encoded once, for sending the same message to many peers
 * (a flood forwarded to every neighbor): `Network.prepare` makes it,
 * `Network.sendPrepared` sends it. It holds the message as it was when
 * prepared (a later change of the body does not reach it); the bytes are the
 * same `message` would send.
 */
export class PreparedMessage<Req = unknown> {
  /** @internal The envelope `[Message, protocol, body]`, encoded; never changed (transports copy or only read it). */
  readonly bytes: Uint8Array

  constructor(
    readonly protocol: Protocol<Req, unknown>,
    body: Req,
  ) {
    this.bytes = encode([Kind.Message, protocol.name, body])
  }
}

/**
 * The `Reply` of one request: a class, so that a request makes one object
 * instead of an object, three closures and their scope. Only the first
 * answer is sent.
 */
class MuxReply implements Reply {
  private answered = false

  constructor(
    private readonly mux: Mux,
    private readonly id: number,
  ) {}

  respond(body: unknown): void {
    if (this.answered) return
    this.answered = true
    this.mux.replied([Kind.Response, this.id, body])
  }

  fail(err: Error): void {
    if (this.answered) return
    this.answered = true
    this.mux.replied([Kind.Error, this.id, wireError(err)])
  }
}

/** For a promise whose outcome is taken through another chain (one function, not one per request). */
const IGNORE = (): void => {}

/** What an error looks like on the wire: peerkit errors keep name and message; others reveal nothing. */
export function wireError(err: unknown): { name: string; message: string } {
  if (err instanceof PeerkitError) return { name: err.name.slice(0, 64), message: err.message.slice(0, 1024) }
  return { name: 'InternalError', message: 'the peer failed to answer' }
}
