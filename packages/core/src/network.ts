import { EventEmitter } from 'eventemitter3'
import { inject, injectAll, injectable } from 'tsyringe'
import { type Clock, withTimeout } from './clock.js'
import type { PeerConfig } from './config.js'
import { DialGroups, DialWait } from './dial-groups.js'
import {
  AbortError,
  InvalidOptionsError,
  NotStartedError,
  PeerkitError,
  PeerUnreachableError,
  ProtocolError,
  RateLimitError,
  RemoteError,
  UnsupportedProtocolError,
} from './errors.js'
import type { Logger } from './logger.js'
import type { Identity, PeerId } from './peer-id.js'
import { PostBatches } from './post-batches.js'
import type { PeerRef } from './records.js'
import { type MemoryScope, managed, ResourceManager } from './resource-manager.js'
import { CLOCK, IDENTITY, LOGGER, PEER_CONFIG, TRANSPORT } from './tokens.js'
import type {
  AbortOptions,
  Connection,
  ConnectionPath,
  DialOptions,
  Listener,
  Transport,
} from './transport.js'
import { validate, validateWith } from './wire/codec.js'
import { type CompiledCheck, compiledCheck } from './wire/compiled.js'
import { IDENTIFY, MUX_VERSION } from './wire/identify.js'
import {
  Mux,
  type MuxLimits,
  type MuxOwner,
  type MuxRequestOptions,
  PreparedMessage,
  type Reply,
  UnreadRequestError,
} from './wire/mux.js'
import type { Protocol } from './wire/protocol.js'
import { LIMITS } from './wire/schemas.js'

/** One open connection, as `Network.connections()` lists it. */
export interface ConnectionInfo {
  peer: PeerId
  direction: 'inbound' | 'outbound'
  remoteAddress: string
  /** How it reached the peer, where the transport says (`direct`, `relayed`, `pushed`, `hole-punched`). */
  path?: ConnectionPath
}

/** Who is asking, and on which connection. */
export interface RequestContext {
  peer: PeerRef
  connection: Connection
  /**
   * Free for handlers: what a handler keeps here stays with the context, which core hands to every
   * message of the connection until the peer's addresses change (a new context then starts without
   * it). A handler that keeps state per peer (an overlay's neighbour) finds it here without a look-up
   * by id at every message. The handlers of every protocol on the connection see the same field: a
   * handler checks that what it finds is its own and still current.
   */
  memo?: unknown
}

export type Handler<Req, Res> = (request: Req, context: RequestContext) => Res | Promise<Res>

export interface NetworkEvents {
  /** The first connection to a peer opened. */
  'peer:connect': [peer: PeerRef]
  /** The last connection to a peer closed. */
  'peer:disconnect': [peer: PeerRef]
  /** A peer told its listening addresses. */
  'peer:identify': [peer: PeerRef]
  /**
   * An inbound connection failed before it was established (a bad or slow
   * handshake, a connection refused beyond a listener's limit); the listener
   * goes on. Counted in `inboundErrors`.
   */
  'inbound:error': [err: Error]
  /**
   * A connection was closed for going past a limit (`RateLimitError`: the
   * memory budget, a send queue not drained, too many connections for one
   * PeerId) or for breaking the protocol (`ProtocolError`: an unknown
   * protocol, a message declaring too many values). Counted in `limitErrors`.
   */
  'connection:limit': [err: Error, peer: PeerRef]
}

interface Registered {
  protocol: Protocol<unknown, unknown>
  handler: Handler<unknown, unknown>
  /** What the handler is called on (`this`), as `handle` was given it. */
  self: unknown
  /** The request schema's compiled check, looked up once instead of at every message. */
  check: CompiledCheck
  /**
   * Messages of the protocol received since it was registered, kept here (not in `counts`, one more
   * object to read at every message): `stats()` adds them, and `unhandle` moves them into `counts`.
   */
  received: number
}

interface MessageCount {
  sent: number
  received: number
}

/** Where a handler's call is queued from (`.then` of a settled promise: the next microtask). */
const RESOLVED = Promise.resolve()

/**
 * Calls of `run` queued for microtasks, four arguments each: one microtask is queued per call and
 * runs the oldest call; microtasks run in the order they were queued, so each runs the call it was
 * queued for, in that order (as `RESOLVED.then(() => run(a, b, c, d))` would, without a closure per
 * call). One array for every Network, which stays in the CPU's caches; it keeps its room (emptied,
 * it starts again from its first slot).
 */
class JobQueue {
  private readonly q: unknown[] = []
  private head = 0
  private tail = 0
  private readonly runOldest = (): void => {
    const q = this.q
    const at = this.head
    const a = q[at]
    const b = q[at + 1]
    const c = q[at + 2]
    const d = q[at + 3]
    q[at] = q[at + 1] = q[at + 2] = q[at + 3] = undefined
    if (at + 4 === this.tail) this.head = this.tail = 0
    else this.head = at + 4
    this.run(a, b, c, d)
  }

  constructor(private readonly run: (a: unknown, b: unknown, c: unknown, d: unknown) => void) {}

  queue(a: unknown, b: unknown, c: unknown, d: unknown): void {
    const q = this.q
    const at = this.tail
    q[at] = a
    q[at + 1] = b
    q[at + 2] = c
    q[at + 3] = d
    this.tail = at + 4
    RESOLVED.then(this.runOldest)
  }
}

/**
 * The peer's connections, and the protocols multiplexed on them: it dials
 * through whichever transport handles an address, reuses one connection per
 * peer, answers requests with the registered handlers (after checking each
 * against its schema), and turns every failure into a typed error.
 */
@injectable()
export class Network extends EventEmitter<NetworkEvents> implements MuxOwner {
  /** The `post`s `sendIfConnected` queued, of every Network. */
  private static readonly posts = new JobQueue((network, id, mux, message) =>
    (network as Network).post(id as PeerId, mux as Mux, message as PreparedMessage<unknown>),
  )
  /** The runs of `post`s `sendEachIfConnected` queued, of every Network. */
  private static readonly batches = new PostBatches<Network, PreparedMessage<unknown>, PeerId, Mux>(
    (network, message, id, mux) => network.post(id, mux, message),
  )
  /** The handlers' calls `onMuxMessage` queued, of every Network. */
  private static readonly handlings = new JobQueue((network, registered, mux, message) =>
    (network as Network).handleQueued(registered as Registered, mux as Mux, message),
  )
  private readonly handlers = new Map<string, Registered>()
  /** The registration `handlerOf` found last (see there), and the name it was asked for by. */
  private lastHandled: Registered | undefined
  private lastHandledName: string | undefined
  // The maps below are made on first use: a simulator keeps 100,000 Networks, most with few connections.
  /**
   * Each peer's connections: its Mux itself while it has one (nearly always), a list when more (see
   * `MuxEntry`).
   */
  private muxes: Map<PeerId, MuxEntry> | undefined
  private dialing: Map<string, Promise<Mux>> | undefined
  /** The abort signals this peer's dials give their transports (see `DialGroups`); made with the first dial. */
  private dialGroups: DialGroups | undefined
  private known: Map<PeerId, string[]> | undefined
  /** The peer `learn` put last at the end of `known` (learned again with the same addresses, nothing moves). */
  private lastLearned: PeerId | undefined
  private protectedPeers: Set<PeerId> | undefined
  /**
   * Every unprotected peer with a connection open and not going away, and perhaps a few more
   * (connections that closed or began a GOAWAY without this side hearing of it yet): `prune` counts
   * the peers one by one only when these are more than `maxConnections` (see there).
   */
  private countedPeers: Set<PeerId> | undefined
  /** The identify this peer sends on every new connection, encoded once for its listening addresses (see `identify`). */
  private identifying: { addresses: string[]; message: PreparedMessage<unknown> } | undefined
  private failedInbound = 0
  private limited = 0
  /** Every protocol ever handled here: one whose handler is gone (while stopping) is not unknown. Made on first use. */
  private everHandled: Set<string> | undefined
  /** The node-wide memory budget; made with the first connection a transport accounts for. */
  private resources: ResourceManager | undefined
  private muxLimits: MuxLimits | undefined
  /** Requests for protocols never handled here, per connection that sent any. */
  private unknownRequests: WeakMap<Mux, number> | undefined
  private counts: Map<string, MessageCount> | undefined
  /** The entry of `counts` `counter` gave last, and its protocol. */
  private lastCountedName: string | undefined
  private lastCount: MessageCount | undefined
  private bound: readonly Listener[] = []
  private started = false
  private componentLogger: Logger | undefined
  /** Logs a `sendIfConnected` the connection refused (one function for every such send); made with the first. */
  private onLost: ((err: unknown) => void) | undefined

  constructor(
    @injectAll(TRANSPORT) private readonly transports: Transport[],
    @inject(IDENTITY) private readonly identity: Identity,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(PEER_CONFIG) private readonly config: PeerConfig,
    @inject(LOGGER) private readonly rootLogger: Logger,
  ) {
    super()
  }

  /** `peerkit:network`, made when first used (most Networks of a simulation never log). */
  private get log(): Logger {
    this.componentLogger ??= this.rootLogger.forComponent('peerkit:network')
    return this.componentLogger
  }

  get peerId(): PeerId {
    return this.identity.peerId
  }

  get isStarted(): boolean {
    return this.started
  }

  /** The addresses this peer listens on. */
  addresses(): string[] {
    // Asked for at every identify and every self(): one listener (the usual case) without flatMap's work.
    const bound = this.bound
    if (bound.length === 1) return (bound[0] as Listener).addresses().slice()
    return bound.flatMap((l) => l.addresses())
  }

  /** This peer as others should see it. */
  self(): PeerRef {
    return { id: this.identity.peerId, addresses: this.addresses() }
  }

  async start(): Promise<void> {
    if (this.started) return
    this.started = true
    try {
      for (const address of this.config.listen) {
        const listener = await this.transportFor(address).listen(address)
        listener.on('connection', this.attach, this)
        listener.on('error', this.onListenerError, this)
        this.bound = this.bound.concat(listener)
      }
    } catch (err) {
      await this.stop()
      throw err
    }
  }

  /** Inbound connections that failed before they were established, since the start. */
  get inboundErrors(): number {
    return this.failedInbound
  }

  private onListenerError(err: Error): void {
    this.failedInbound++
    this.emit('inbound:error', err)
  }

  /** Connections closed for a limit or a protocol violation (`connection:limit`), since the start. */
  get limitErrors(): number {
    return this.limited
  }

  /** Bytes every connection holds now, as counted against `network.memoryBudget`. */
  get memoryUsed(): number {
    return this.resources?.used ?? 0
  }

  async stop(): Promise<void> {
    this.started = false
    const listeners = this.bound
    this.bound = []
    // Listeners and connections close together: a listener may wait for its inbound connections.
    const closingListeners = Promise.allSettled(listeners.map((l) => l.close()))
    const all = [...(this.muxes?.values() ?? [])].flatMap(listOf)
    const closed = await Promise.allSettled(all.map((m) => m.connection.close()))
    const unclosed = [...(await closingListeners), ...closed]
    const transports = await Promise.allSettled(this.transports.map((t) => t.close()))
    // Stopping goes on past a part that fails to close (the rest must close too); the operator hears of it.
    for (const r of [...unclosed, ...transports])
      if (r.status === 'rejected')
        this.log.warn('a listener, connection or transport did not close cleanly', { err: r.reason })
    this.muxes?.clear()
    this.countedPeers = undefined
    this.dialGroups?.clear()
    this.dialGroups = undefined
  }

  /**
   * Answers requests (and one-way messages) of `protocol` with `handler`, called on `self` (its `this`):
   * a method needs no bound copy of itself (one object less to read at every message).
   */
  handle<Req, Res>(protocol: Protocol<Req, Res>, handler: Handler<Req, Res>, self?: unknown): void {
    if (this.handlers.has(protocol.name))
      throw new InvalidOptionsError(`protocol ${protocol.name} already has a handler`)
    this.everHandled ??= new Set()
    this.everHandled.add(protocol.name)
    this.handlers.set(protocol.name, {
      protocol: protocol as Protocol<unknown, unknown>,
      handler: handler as Handler<unknown, unknown>,
      self,
      check: compiledCheck(protocol.request),
      received: 0,
    })
  }

  unhandle(protocol: Protocol<unknown, unknown> | string): void {
    const name = typeof protocol === 'string' ? protocol : protocol.name
    const registered = this.handlers.get(name)
    if (registered !== undefined) {
      if (registered.received > 0) this.counter(name).received += registered.received
      this.handlers.delete(name)
    }
    this.lastHandled = undefined
    this.lastHandledName = undefined
  }

  /** Sends a request and waits for its checked response (`timeout` defaults to `network.requestTimeout`). */
  async request<Req, Res>(
    peer: PeerRef | PeerId,
    protocol: Protocol<Req, Res>,
    body: Req,
    options: MuxRequestOptions = {},
  ): Promise<Res> {
    const timeout = options.timeout ?? this.config.network.requestTimeout
    const mux = await this.muxTo(peer, options)
    this.count(protocol.name, 'sent')
    const start = this.clock.now()
    return mux
      .request(protocol, body, options, timeout)
      .catch((err) =>
        this.requestAgain(err, peer, protocol, body, options, timeout - (this.clock.now() - start)),
      )
  }

  /**
   * A request the remote never read (it closed the connection with a
   * draining close, GOAWAY, before reading it) did not run there: it is sent
   * once more, over a new connection, within what is left of its timeout.
   * Not over another open one: a peer pruning idle connections closes all of
   * this peer's at once, so the others are most likely going away too (in a
   * chord run of 200 peers, 8 of the 9 re-sent over an open connection met a
   * second GOAWAY). Any other failure, or a second unread one, is the caller's.
   */
  private async requestAgain<Req, Res>(
    err: unknown,
    peer: PeerRef | PeerId,
    protocol: Protocol<Req, Res>,
    body: Req,
    options: MuxRequestOptions,
    left: number,
  ): Promise<Res> {
    if (!(err instanceof UnreadRequestError) || left <= 0 || options.signal?.aborted) throw err
    const mux = await this.muxTo(peer, options, true)
    this.count(protocol.name, 'sent')
    return mux.request(protocol, body, options, left)
  }

  /** Sends a one-way message. */
  send<Req>(
    peer: PeerRef | PeerId,
    protocol: Protocol<Req, unknown>,
    body: Req,
    options: AbortOptions = {},
  ): Promise<void> {
    let prepared: PreparedMessage<Req>
    try {
      prepared = new PreparedMessage(protocol, body)
    } catch (err) {
      return Promise.reject(err)
    }
    return this.sendPrepared(peer, prepared, options)
  }

  /**
   * A one-way message encoded once, to send to many peers with
   * `sendPrepared` (a flood forwarded to every neighbor encodes its message
   * once, not once per neighbor). It is the message as it is now: changing
   * `body` afterwards changes nothing sent. Throws for a body msgpack cannot encode.
   */
  prepare<Req>(protocol: Protocol<Req, unknown>, body: Req): PreparedMessage<Req> {
    return new PreparedMessage(protocol, body)
  }

  /** `send` of a prepared message: the same bytes on the wire, the same counts and failures. */
  async sendPrepared<Req>(
    peer: PeerRef | PeerId,
    message: PreparedMessage<Req>,
    options: AbortOptions = {},
  ): Promise<void> {
    const mux = await this.muxTo(peer, options)
    const prepared = message as PreparedMessage<unknown>
    this.count(prepared.protocol.name, 'sent')
    try {
      await mux.sendPrepared(prepared, options)
    } catch (err) {
      // The connection began going away (GOAWAY) after it was picked: nothing was sent on it.
      if (!(err instanceof UnreadRequestError)) throw err
      await (await this.muxTo(peer, options)).sendPrepared(prepared, options)
    }
  }

  /**
   * Sends a prepared one-way message over an open connection to `id` (one
   * not going away), and never dials: returns whether there was one, as
   * `isConnected(id)` would say, in the same lookup. A flood forwarded to
   * its neighbors needs no separate `isConnected` and no promise per
   * neighbor. The bytes leave on the next microtask and are counted then, as
   * from `sendPrepared` (so sends keep their order against other sends);
   * if the connection began going away meanwhile they take another open one
   * (none: the message is dropped, logged at debug), and if it closed
   * meanwhile they are lost with it, as anything sent just before a close
   * is (`peer:disconnect` tells of the loss).
   */
  sendIfConnected(id: PeerId, message: PreparedMessage<unknown>): boolean {
    if (!this.started) return false
    const mux = openIn(this.muxes?.get(id))
    if (mux === undefined) return false
    // The arguments wait in a queue, not in a closure made for every neighbor a flood is forwarded to.
    Network.posts.queue(this, id, mux, message)
    return true
  }

  /**
   * `sendIfConnected(id, message)` for each of `ids` but `except`, in order: the same sends, counts,
   * order and failures, with one microtask for each run of them (see `PostBatches`: the sends
   * `sendIfConnected` queues one after another would take one each and run one after another).
   * `missing` is called, at its turn, for each id that `sendIfConnected` would return false for (no
   * open connection, or this network stopped); the sends after it take a microtask of their own,
   * queued after whatever `missing` queued. Returns how many were sent. A flood forwarded to every
   * neighbour makes one promise job, not one per neighbour.
   */
  sendEachIfConnected(
    ids: readonly PeerId[],
    message: PreparedMessage<unknown>,
    except?: PeerId,
    missing?: (id: PeerId) => void,
  ): number {
    const batches = Network.batches
    let sent = 0
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as PeerId
      if (id === except) continue
      const mux = this.started ? openIn(this.muxes?.get(id)) : undefined
      if (mux === undefined) {
        if (batches.isOpen) batches.close()
        missing?.(id)
        continue
      }
      if (!batches.isOpen) batches.open(this, message)
      batches.add(id, mux)
      sent++
    }
    if (batches.isOpen) batches.close()
    return sent
  }

  /** The microtask of `sendIfConnected`. */
  private post(id: PeerId, mux: Mux, message: PreparedMessage<unknown>): void {
    this.count(message.protocol.name, 'sent')
    let via: Mux | undefined = mux
    if (mux.goingAway && !mux.connection.closed) {
      via = openIn(this.muxes?.get(id))
      if (via === undefined) {
        this.log.debug('a message was dropped: its connection began going away', {
          peer: id,
          protocol: message.protocol.name,
        })
        return
      }
    }
    const sent = via.post(message)
    // Bytes the connection took at once (`SENT`) cannot be lost any more: no promise is made to watch them.
    if (sent === SENT) return
    this.onLost ??= (err: unknown) => this.log.debug('a message was lost with its connection', { err })
    sent.then(undefined, this.onLost)
  }

  /**
   * An open connection to the peer (its `path` says how it reached the peer,
   * where the transport knows), dialing its known addresses in turn when
   * there is none. `request` and `send` connect by themselves; this is for
   * opening one ahead of them, or for seeing which connection they use.
   */
  async connect(peer: PeerRef | PeerId, options: AbortOptions = {}): Promise<Connection> {
    return (await this.muxTo(peer, options)).connection
  }

  /** The wire over an open connection to the peer (see `connect`); over a new one when `fresh`. */
  private async muxTo(peer: PeerRef | PeerId, options: AbortOptions, fresh = false): Promise<Mux> {
    if (!this.started) throw new NotStartedError('the network is not started')
    const key = typeof peer === 'string' ? peer : peer.id
    if (key === this.identity.peerId) throw new PeerUnreachableError('a peer cannot dial itself')
    const open = fresh ? undefined : openIn(this.muxes?.get(key))
    if (open) return open
    // Its addresses are looked up only to dial (a lookup in the map of every known peer).
    const ref = typeof peer === 'string' ? { id: peer, addresses: this.known?.get(peer) ?? [] } : peer
    this.dialing ??= new Map()
    const dialing = this.dialing
    let pending = dialing.get(key)
    if (!pending) {
      pending = this.dialAny(ref, options).finally(() => {
        dialing.delete(key)
        if (dialing.size === 0 && this.dialing === dialing) this.dialing = undefined // made again when needed
      })
      dialing.set(key, pending)
    }
    return pending
  }

  /**
   * Dials an address whose PeerId is not known yet (a bootstrap address) and
   * tells who answered: `{ id, addresses }`, the addresses being those the
   * peer is known by (the dialed one until it identifies). The connection
   * stays open, so a `request(ref, …)` that follows uses it.
   */
  async dialAddress(address: string, options: AbortOptions = {}): Promise<PeerRef> {
    if (!this.started) throw new NotStartedError('the network is not started')
    const conn = await this.dialWithTimeout(this.transportFor(address), address, options.signal)
    if (conn.remotePeer === this.identity.peerId) {
      await conn.close()
      throw new PeerUnreachableError(`${address} is this peer itself`)
    }
    const id = conn.remotePeer
    this.attach(conn)
    // Where it answered is where it can be reached, until it says where it listens (identify).
    if (this.addressesOf(id).length === 0) this.learn({ id, addresses: [address] })
    return this.refOf(id)
  }

  /** Peers with an open connection. */
  peers(): PeerRef[] {
    return [...(this.muxes?.keys() ?? [])].map((id) => ({ id, addresses: this.addressesOf(id) }))
  }

  /** The open connections, with how each reached its peer (`path`, where the transport says). */
  connections(): ConnectionInfo[] {
    return [...(this.muxes?.values() ?? [])].flatMap((entry) =>
      listOf(entry)
        .filter((m) => !m.connection.closed)
        .map(({ connection: c }) => ({
          peer: c.remotePeer,
          direction: c.direction,
          remoteAddress: c.remoteAddress,
          ...(c.path === undefined ? {} : { path: c.path }),
        })),
    )
  }

  isConnected(id: PeerId): boolean {
    return openIn(this.muxes?.get(id)) !== undefined
  }

  /** Addresses learned for a peer (from identify, or from a PeerRef it was dialed with). */
  addressesOf(id: PeerId): string[] {
    return this.known?.get(id) ?? []
  }

  /** Remembers where a peer can be reached. */
  learn(ref: PeerRef): void {
    if (ref.id === this.identity.peerId || ref.addresses.length === 0) return
    this.known ??= new Map()
    const known = this.known
    const was = known.get(ref.id)
    const addresses = ref.addresses
    // The last peer learned, learned again (a dial, then its identify): already at the end, nothing changes.
    if (
      ref.id === this.lastLearned &&
      was !== undefined &&
      (was === addresses || sameStrings(was, addresses))
    )
      return
    // The same addresses again (most often: a dial to known addresses, an identify telling them once more)
    // keep their array, and the contexts kept with it (see `context`).
    const same =
      was !== undefined &&
      (was === addresses ||
        (addresses.length <= LIMITS.addresses
          ? sameStrings(was, addresses)
          : sameStrings(was, addresses.slice(0, LIMITS.addresses))))
    // Learned again, it moves to the end: the first entries are the least recently learned.
    known.delete(ref.id)
    known.set(ref.id, same ? was : addresses.slice(0, LIMITS.addresses))
    this.lastLearned = ref.id
    if (!same) this.addressesChanged(ref.id)
    if (known.size > this.config.network.maxKnownPeers) {
      for (const id of known.keys()) {
        known.delete(id)
        this.addressesChanged(id)
        if (known.size <= this.config.network.maxKnownPeers) break
      }
    }
  }

  /** The peer's connections forget the context they kept (see `Mux.remoteContext`). */
  private addressesChanged(id: PeerId): void {
    const entry = this.muxes?.get(id)
    if (entry !== undefined) for (const m of listOf(entry)) m.remoteContext = undefined
  }

  /** A protected peer's connection is never closed to make room for others. */
  protect(id: PeerId, on = true): void {
    if (on) {
      this.protectedPeers ??= new Set()
      this.protectedPeers.add(id)
      this.countedPeers?.delete(id)
    } else if (this.protectedPeers?.delete(id) && openIn(this.muxes?.get(id)) !== undefined) {
      this.countedPeers ??= new Set()
      this.countedPeers.add(id) // one more peer counts
    }
  }

  /** Closes every connection to a peer. */
  async hangUp(id: PeerId, reason?: Error): Promise<void> {
    const results = await Promise.allSettled(
      listOf(this.muxes?.get(id)).map((m) => m.connection.close(reason)),
    )
    for (const r of results)
      if (r.status === 'rejected')
        this.log.debug('a connection did not close cleanly', { peer: id, err: r.reason })
  }

  /** Messages sent and received, by protocol. */
  stats(): Record<string, MessageCount> {
    const out: Record<string, MessageCount> = Object.fromEntries(
      [...(this.counts ?? [])].map(([k, v]) => [k, { ...v }]),
    )
    for (const [name, r] of this.handlers) {
      const c = out[name]
      if (c !== undefined) c.received += r.received // an entry is made with a registration's first message
    }
    return out
  }

  private async dialAny(ref: PeerRef, options: AbortOptions): Promise<Mux> {
    const addresses = ref.addresses.length > 0 ? ref.addresses : this.addressesOf(ref.id)
    if (addresses.length === 0) throw new PeerUnreachableError(`no known address for peer ${ref.id}`)
    const signal = options.signal
    // Made with the first failure: most dials reach the peer at its first address.
    let errors: Error[] | undefined
    for (let i = 0; i < addresses.length; i++) {
      const address = addresses[i] as string
      if (signal?.aborted) throw new AbortError('dial aborted', { cause: signal.reason })
      const transport = this.transportOf(address)
      if (!transport) {
        errors ??= []
        errors.push(new PeerUnreachableError(`no transport for ${address}`))
        continue
      }
      try {
        const conn = await this.dialWithTimeout(transport, address, signal, ref.id)
        this.learn(ref)
        return this.attach(conn)
      } catch (err) {
        if ((err as Error).name === 'AbortError') throw err
        errors ??= []
        errors.push(err as Error)
      }
    }
    const failed = errors ?? []
    throw new PeerUnreachableError(
      `could not reach peer ${ref.id} at ${addresses.join(', ')}: ${failed.map((e) => e.message).join('; ')}`,
      { cause: failed[0] },
    )
  }

  /** The first transport that handles `address` (a loop: no callback made at every dial). */
  private transportOf(address: string): Transport | undefined {
    const transports = this.transports
    for (let i = 0; i < transports.length; i++) {
      const t = transports[i] as Transport
      if (t.handles(address)) return t
    }
    return undefined
  }

  /**
   * Dials within `network.dialTimeout`. A dial that times out is aborted
   * (within `DIAL_GROUP_WINDOW`: its transport's signal is shared, see
   * `DialGroups`), and a connection that still arrives afterwards is
   * closed, so none is left behind.
   */
  private dialWithTimeout(
    transport: Transport,
    address: string,
    outer: AbortSignal | undefined,
    peer?: PeerId,
  ): Promise<Connection> {
    const { dialTimeout } = this.config.network
    const options: DialOptions = peer === undefined ? { signal: outer } : { signal: outer, peer }
    if (outer?.aborted) {
      // The transport refuses it at once (AbortError); one that connects anyway is closed.
      const refused = transport.dial(address, options)
      refused.then((conn) => void conn.close(), IGNORE)
      return withTimeout(this.clock, refused, dialTimeout, {
        message: `dial ${address} timed out after ${dialTimeout} ms`,
      })
    }
    this.dialGroups ??= new DialGroups(this.clock)
    const group = this.dialGroups.join(outer)
    options.signal = group.signal
    return new DialWait(this.clock, group, transport.dial(address, options), dialTimeout, address).promise
  }

  private attach(conn: Connection): Mux {
    const id = conn.remotePeer
    const before = this.muxes?.get(id)
    const perPeer = this.config.network.maxConnectionsPerPeer
    if (before !== undefined && countOpen(listOf(before)) >= perPeer)
      return this.refuse(conn, listOf(before), perPeer)
    const n = this.config.network
    this.muxLimits ??= {
      maxPendingRequests: n.maxPendingRequests,
      maxSendQueue: n.maxSendQueue,
      sendStallTimeout: n.sendStallTimeout,
      maxMessageItems: n.maxMessageItems,
      drainTimeout: n.drainTimeout,
    }
    // Only a transport that reports what it holds is accounted (a memory transport holds no sockets).
    const accounted = managed(conn).useMemoryScope
    let scope: MemoryScope | undefined
    if (accounted !== undefined) {
      this.resources ??= new ResourceManager(n.memoryBudget)
      scope = this.resources.open(`peer ${id} (${conn.remoteAddress})`, (err) =>
        // Closed on the next microtask: the report that went over the budget may come from inside the transport.
        queueMicrotask(() => void conn.close(err)),
      )
      accounted.call(conn, scope)
    }
    // The Mux reports its requests, messages and close to this Network itself (`MuxOwner`), in place of
    // three listeners, and with no object of closures between: each was one more line of memory to read
    // at every message (a flood's nodes are nearly always cold when a message reaches them).
    const mux = new Mux(conn, this.clock, this, this.muxLimits, scope)
    this.muxes ??= new Map()
    const muxes = this.muxes
    const entry = muxes.get(id)
    const first = entry === undefined || countOpen(listOf(entry)) === 0
    if (entry === undefined) muxes.set(id, mux)
    else if (entry instanceof Mux) muxes.set(id, [entry, mux])
    else entry.push(mux)
    if (!this.protectedPeers?.has(id)) {
      this.countedPeers ??= new Set()
      this.countedPeers.add(id)
    }
    // The PeerRef (a look-up of its addresses) only for someone listening: most overlays do not.
    if (first && this.listenerCount('peer:connect') > 0) this.emit('peer:connect', this.refOf(id))
    if (!conn.closed && this.started) {
      this.count(IDENTIFY.name, 'sent')
      mux.post(this.identify()).then(undefined, IGNORE) // fails only on a closing connection, whose close is reported (peer:disconnect)
    }
    this.prune()
    return mux
  }

  /**
   * The identify message for this peer's addresses now: the one encoded for the last connection
   * while they have not changed (every connection sends one, and the addresses seldom change).
   */
  private identify(): PreparedMessage<unknown> {
    const bound = this.bound
    const now = bound.length === 1 ? (bound[0] as Listener).addresses() : this.addresses()
    const last = this.identifying
    if (last !== undefined && sameStrings(last.addresses, now)) return last.message
    const addresses = now.slice()
    const message = new PreparedMessage(IDENTIFY, { addresses, mux: MUX_VERSION }) as PreparedMessage<unknown>
    this.identifying = { addresses, message }
    return message
  }

  /** A connection beyond `network.maxConnectionsPerPeer`: closed at once; the caller gets an open one of `list`. */
  private refuse(conn: Connection, list: readonly Mux[], perPeer: number): Mux {
    const open = list.filter((m) => !m.connection.closed)
    const err = new RateLimitError(
      `refused a connection from peer ${conn.remotePeer} (${conn.remoteAddress}): it already has ${open.length} open (network.maxConnectionsPerPeer ${perPeer})`,
    )
    void conn.close(err)
    if (conn.direction === 'inbound') this.onListenerError(err)
    else this.onLimit(err, conn.remotePeer)
    // The last one opened that is not going away (GOAWAY); one going away only if all are.
    for (let i = open.length - 1; i >= 0; i--) if (!(open[i] as Mux).goingAway) return open[i] as Mux
    return open[open.length - 1] as Mux
  }

  private onLimit(err: Error, id: PeerId): void {
    this.limited++
    this.emit('connection:limit', err, this.refOf(id))
  }

  /** @internal `MuxOwner`: a connection of this Network closed. */
  onMuxClose(mux: Mux, err?: Error): void {
    mux.scope?.release()
    const id = mux.connection.remotePeer
    // A remote's reason (RemoteError) is its own business; only this side's limits are counted.
    if ((err?.name === 'RateLimitError' || err?.name === 'ProtocolError') && !(err instanceof RemoteError))
      this.onLimit(err, id)
    const entry = this.muxes?.get(id)
    if (entry === undefined || !this.muxes) return
    // A new list, never the old one changed: a caller may be walking it (`hangUp` closes each in turn).
    if (entry !== mux) {
      const rest = listOf(entry).filter((m) => m !== mux)
      if (rest.length > 0) {
        const left = rest.length === 1 ? (rest[0] as Mux) : rest
        this.muxes.set(id, left)
        if (openIn(left) === undefined) this.countedPeers?.delete(id)
        return
      }
    }
    this.muxes.delete(id)
    this.countedPeers?.delete(id)
    if (this.muxes.size === 0) this.muxes = undefined // made again with the next connection
    if (this.listenerCount('peer:disconnect') > 0) this.emit('peer:disconnect', this.refOf(id))
  }

  private refOf(id: PeerId): PeerRef {
    return { id, addresses: this.addressesOf(id) }
  }

  /**
   * The context of a message on `mux`: its remote as `refOf` gives it, kept
   * on the connection (`Mux.remoteContext`) until the remote's addresses
   * change, so that every message of a connection gets the same objects
   * (handlers read them, and must not change them) without a look-up.
   */
  private context(mux: Mux): RequestContext {
    const kept = mux.remoteContext
    if (kept !== undefined && kept !== UNKNOWN) return kept as RequestContext
    const id = mux.connection.remotePeer
    const addresses = kept === UNKNOWN ? undefined : this.known?.get(id)
    if (addresses === undefined) {
      // An unknown peer's addresses are a new empty array every time, as from `addressesOf`.
      mux.remoteContext = UNKNOWN
      return { peer: { id, addresses: [] }, connection: mux.connection, memo: undefined }
    }
    // `memo` from the start: the context keeps its shape when a handler sets it.
    const context: RequestContext = { peer: { id, addresses }, connection: mux.connection, memo: undefined }
    mux.remoteContext = context
    return context
  }

  /**
   * The registration for a protocol name read from a message. Most messages
   * are of the protocol of the one before: comparing the name with that one's
   * costs less than a Map lookup by a string just decoded (its hash not yet
   * computed; in the profile of a 2,000-peer flood that lookup was 85 % of
   * onMessage's own time).
   */
  private handlerOf(protocol: string): Registered | undefined {
    // The name as it came in the message before: the decoder gives every message the same string for a
    // name (read-frame's table), so this is one comparison of two references, without reading the
    // registration (in a 2,000-peer flood, reading it was a fifth of the time between frame and handler).
    if (protocol === this.lastHandledName) return this.lastHandled
    const last = this.lastHandled
    if (last !== undefined && last.protocol.name === protocol) {
      this.lastHandledName = protocol
      return last
    }
    const found = this.handlers.get(protocol)
    if (found !== undefined) {
      this.lastHandled = found
      this.lastHandledName = protocol
    }
    return found
  }

  /** @internal `MuxOwner`: a request arrived. */
  onMuxRequest(mux: Mux, protocol: string, body: unknown, reply: Reply): void {
    const registered = this.handlerOf(protocol)
    if (!registered) {
      reply.fail(new UnsupportedProtocolError(`protocol ${protocol} is not supported here`))
      if (!this.everHandled?.has(protocol) && this.strike(mux) > this.config.network.maxUnknownRequests)
        this.abort(
          mux,
          `more than ${this.config.network.maxUnknownRequests} requests for protocols this peer does not speak (network.maxUnknownRequests), the last ${protocol.slice(0, 128)}`,
        )
      return
    }
    if (registered.received++ === 0) this.counter(protocol) // its entry in `counts`, made in the order of first use
    let request: unknown
    try {
      request = validateWith(registered.check, registered.protocol.request, body, protocol, ' request')
    } catch (err) {
      reply.fail(err as Error)
      void mux.connection.close(err as Error)
      return
    }
    RESOLVED.then(() => registered.handler.call(registered.self, request, this.context(mux))).then(
      (res) => reply.respond(res ?? null),
      (err) => {
        this.handlerFailed(protocol, mux, err)
        reply.fail(err)
      },
    )
  }

  /** @internal `MuxOwner`: a one-way message arrived. */
  onMuxMessage(mux: Mux, protocol: string, body: unknown): void {
    if (protocol === IDENTIFY.name) {
      this.count(protocol, 'received')
      try {
        const { addresses, mux: version } = validate(IDENTIFY.request, body, 'identify')
        mux.remoteMux = version ?? 1
        const ref = { id: mux.connection.remotePeer, addresses }
        this.learn(ref)
        this.emit('peer:identify', ref)
      } catch (err) {
        void mux.connection.close(err as Error)
      }
      return
    }
    const registered = this.handlerOf(protocol)
    if (!registered) {
      // A one-way message has no answer to refuse it with: one for a protocol never spoken here
      // closes the connection (its cost, an unbounded stream of them, is the sender's).
      if (!this.everHandled?.has(protocol))
        this.abort(mux, `a message for ${protocol.slice(0, 128)}, a protocol this peer does not speak`)
      return
    }
    if (registered.received++ === 0) this.counter(protocol) // its entry in `counts`, made in the order of first use
    let message: unknown
    try {
      message = validateWith(registered.check, registered.protocol.request, body, protocol, ' message')
    } catch (err) {
      void mux.connection.close(err as Error)
      return
    }
    // The handler runs on the next microtask, as from `Promise.resolve().then(…).catch(…)`, with one
    // promise instead of three (Node's queueMicrotask costs more: an AsyncResource and a bound function),
    // and its arguments wait in a queue, not in a closure made for every message.
    Network.handlings.queue(this, registered, mux, message)
  }

  /** The handler's call `onMuxMessage` queued. */
  private handleQueued(registered: Registered, mux: Mux, message: unknown): void {
    let result: unknown
    try {
      result = registered.handler.call(registered.self, message, this.context(mux))
    } catch (err) {
      this.handlerFailed(registered.protocol.name, mux, err)
      return
    }
    if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function')
      Promise.resolve(result).catch((err) => this.handlerFailed(registered.protocol.name, mux, err))
  }

  /**
   * A handler threw. A peerkit error is an answer (the remote gets its name and
   * message; a one-way message has nobody to tell): debug. Anything else is a
   * bug in the handler, which the remote sees only as `InternalError`: warn.
   */
  private handlerFailed(protocol: string, mux: Mux, err: unknown): void {
    const fields = { protocol, peer: mux.connection.remotePeer, err }
    if (err instanceof PeerkitError) this.log.debug('a handler refused a message', fields)
    else this.log.warn('a handler failed with an unexpected error', fields)
  }

  /** Counts one more request for an unknown protocol on `mux`; returns how many it sent. */
  private strike(mux: Mux): number {
    this.unknownRequests ??= new WeakMap()
    const n = (this.unknownRequests.get(mux) ?? 0) + 1
    this.unknownRequests.set(mux, n)
    return n
  }

  /** Closes a connection that broke the protocol, telling the remote why first. */
  private abort(mux: Mux, why: string): void {
    const err = new ProtocolError(`closed the connection of ${mux.connection.remotePeer}: ${why}`)
    this.onLimit(err, mux.connection.remotePeer)
    mux.abort(err)
  }

  private count(protocol: string, dir: 'sent' | 'received'): void {
    this.counter(protocol)[dir]++
  }

  /** The protocol's entry in `counts` (made with its first message); the last one found answers without a look-up. */
  private counter(protocol: string): MessageCount {
    // Two fields of the Network, not an object of its own: one line of memory less at every message sent.
    if (protocol === this.lastCountedName) return this.lastCount as MessageCount
    this.counts ??= new Map()
    const counts = this.counts
    let c = counts.get(protocol)
    if (!c) {
      c = { sent: 0, received: 0 }
      counts.set(protocol, c)
    }
    this.lastCountedName = protocol
    this.lastCount = c
    return c
  }

  /**
   * Closes the least recently used idle connections (no request of either
   * side in flight on them) once there are more than
   * `network.maxConnections`, down to a low-water mark an eighth below it
   * (go-libp2p's connection manager trims to a low water mark in the same
   * way): a peer that opens connections one after another (a DHT lookup
   * meets a new node at every hop) sorts its connections once per several new
   * ones, not at every one. Protected peers are not counted: an overlay that
   * protects more peers than the limit (a supernode's leaves) must still let
   * newcomers in. Connections already closing are not counted either.
   */
  private prune(): void {
    // `countedPeers` holds every peer the count below would count (and perhaps some whose connection
    // closed or began going away since): within the limit, there is nothing to close and nothing to count.
    // Connections draining after a GOAWAY keep muxes.size over the limit for up to drainTimeout, and
    // counting every peer at each new connection then cost a Chord publish 8 % of its CPU.
    const max = this.config.network.maxConnections
    const counted = this.countedPeers
    const muxes = this.muxes
    if (counted === undefined || counted.size <= max || muxes === undefined) return
    // One pass counts the open, unprotected peers (dropping the others from `countedPeers`) and lists the
    // idle ones (no request of either side in flight), in the scratch arrays below (no object per peer).
    const shield = this.protectedPeers
    const ids = IDLE_IDS
    const lists = IDLE_LISTS
    const used = IDLE_USED
    let open = 0
    try {
      muxes.forEach((entry, id) => {
        if (shield?.has(id)) return
        let live = false
        let busy = false
        let lastUsed = 0
        // A peer's one Mux read as a list of one, without making one.
        const one = entry instanceof Mux ? entry : undefined
        const n = one === undefined ? (entry as Mux[]).length : 1
        for (let i = 0; i < n; i++) {
          const m = one ?? ((entry as Mux[])[i] as Mux)
          if (m.connection.closed || m.goingAway) continue // one going away (GOAWAY) is closing
          live = true
          if (m.inFlight > 0 || m.answering > 0) busy = true // closing it would lose a request either way
          if (m.lastUsed > lastUsed) lastUsed = m.lastUsed
        }
        if (!live) {
          counted.delete(id)
          return
        }
        open++
        if (!busy) {
          ids.push(id)
          lists.push(entry)
          used.push(lastUsed)
        }
      })
      if (open > max) {
        // The least recently used first; of two used last at the same time, the one met first (a stable sort).
        const order = IDLE_ORDER
        for (let i = 0; i < ids.length; i++) order.push(i)
        order.sort(byLastUsed)
        const target = max - Math.floor(max / 8)
        // A draining close: the remote learns which of its requests were not read and sends them again elsewhere.
        const closing = Math.min(open - target, order.length)
        for (let k = 0; k < closing; k++) {
          const i = order[k] as number
          for (const m of listOf(lists[i])) if (!m.goingAway) m.drain()
          counted.delete(ids[i] as PeerId) // each of its connections is closed or going away
        }
      }
    } finally {
      ids.length = 0
      lists.length = 0
      used.length = 0
      IDLE_ORDER.length = 0
    }
  }

  private transportFor(address: string): Transport {
    const t = this.transportOf(address)
    if (!t) {
      throw new InvalidOptionsError(
        `no configured transport handles ${address} (configured: ${this.transports.map((x) => x.name).join(', ') || 'none'})`,
      )
    }
    return t
  }
}

/** What `Mux.remoteContext` holds for a peer of no known address (never handed out). */
const UNKNOWN = Symbol('unknown peer')

// `prune`'s scratch: the idle peers of one walk (their ids, connection lists and last use) and their order,
// emptied at the end of each walk (nothing there outlives it). A walk never starts inside another.
const IDLE_IDS: PeerId[] = []
const IDLE_LISTS: MuxEntry[] = []
const IDLE_USED: number[] = []
const IDLE_ORDER: number[] = []
const byLastUsed = (a: number, b: number): number => (IDLE_USED[a] as number) - (IDLE_USED[b] as number)

/** For a promise whose outcome is taken through another chain. */
const IGNORE = (): void => {}

/**
 * What a Connection's `send` may return for bytes it took at once (on the
 * wire, or queued where nothing can refuse them any more): one settled
 * promise for every such send, which the Network, knowing it, does not
 * watch (no promise made per message sent to hear of a failure that cannot come).
 */
export const SENT: Promise<void> = RESOLVED

/** Whether two lists of addresses are the same, in the same order. */
function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** How many connections of a peer's list are not closed (going away or not). */
function countOpen(list: readonly Mux[]): number {
  let n = 0
  for (let i = 0; i < list.length; i++) if (!(list[i] as Mux).connection.closed) n++
  return n
}

/**
 * A peer's connections in `Network.muxes`: its Mux itself while it has one (nearly always), else a
 * list. A message sent to a peer then reads its Mux without a list between (an array and its
 * elements, two more objects to read at every message sent, most of them out of the CPU's caches).
 */
type MuxEntry = Mux | Mux[]

const NO_MUXES: readonly Mux[] = []

/** A peer's connections as a list (a new one of one Mux: for the paths that are not taken at every message). */
function listOf(entry: MuxEntry | undefined): readonly Mux[] {
  if (entry === undefined) return NO_MUXES
  return entry instanceof Mux ? [entry] : entry
}

/** The first open connection of a peer's not going away (a loop: no callback made at every message sent). */
function openIn(entry: MuxEntry | undefined): Mux | undefined {
  if (entry === undefined) return undefined
  if (entry instanceof Mux) return !entry.connection.closed && !entry.goingAway ? entry : undefined
  for (const m of entry) if (!m.connection.closed && !m.goingAway) return m
  return undefined
}
