import {
  AbortError,
  type AbortOptions,
  type Clock,
  type Connection,
  type Identity,
  onAbort,
  type PeerId,
  PeerUnreachableError,
  ProtocolError,
  type Random,
  SENT,
} from '@peerkit/core'
import type { MemoryListener } from './memory-listener.js'
import type { MemoryNetwork } from './memory-network.js'
import type { MemoryTransportOptions } from './options.js'
import { type FrameKind, Pipe } from './pipe.js'

/** What a connection needs from the transport it belongs to. */
export interface Endpoint {
  readonly identity: Identity
  readonly clock: Clock
  readonly random: Random
  readonly network: MemoryNetwork
  readonly options: Readonly<Required<MemoryTransportOptions>>
  /** The node's name on the hub: its first listener's, or `anon-N`. */
  readonly nodeName: string
  readonly killed: boolean
  /** Runs `fn` after `ms` on the clock (on a microtask when `ms` is 0); returns a canceller. */
  after(ms: number, fn: () => void): () => void
  /** The dialer's proof reached an inbound connection. */
  accept(connection: MemoryConnection, proof: unknown): void
  adopt(connection: MemoryConnection): void
  untrack(connection: MemoryConnection): void
  forget(listener: MemoryListener): void
  kill(): void
}

interface Waiter {
  data: Uint8Array
  resolve: () => void
  reject: (err: Error) => void
  /** Takes this send's callback off its signal (one listener per signal, core's `onAbort`). */
  cancel: (() => void) | undefined
}

/**
 * A copy of a message that the sender may reuse or change once `send`
 * returns, cut from a slab of `SLAB_BYTES` (64 KiB, a socket's read chunk)
 * for messages up to `SLAB_BYTES / 8` (larger ones get their own memory):
 * one backing store per slab instead of one per message, which the garbage
 * collector would track each. Node's own pool (`Buffer.allocUnsafe`, the
 * copy before) makes a slab of 8 KiB every 70 flooding queries or so, and
 * making one cost about as much as copying its messages (2.6 % of a
 * 10^4-peer flood). A Buffer (`Buffer.from` of the slab's memory, not
 * `subarray`, which builds its result through Buffer's species constructor),
 * so the decoder reads strings with `latin1Slice`. A view the receiver keeps
 * (a decoded binary value) keeps its slab alive, as a socket's read chunk
 * does for a real transport.
 */
function copyOf(data: Uint8Array): Uint8Array {
  const n = data.byteLength
  if (n > SLAB_BYTES / 8) {
    const own = Buffer.allocUnsafeSlow(n)
    own.set(data)
    return own
  }
  if (slabUsed + n > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES)
    slabUsed = 0
  }
  const copy = Buffer.from(slab, slabUsed, n)
  slabUsed = (slabUsed + n + 7) & ~7 // the next copy 8-byte aligned, as Node's pool aligns them
  copy.set(data)
  return copy
}

/** Bytes of a slab `copyOf` cuts copies from. */
const SLAB_BYTES = 64 * 1024
/** The slab copies are cut from now (shared by every connection of the process), and the bytes of it taken. */
let slab = new ArrayBuffer(SLAB_BYTES)
let slabUsed = 0

/** A node's name where the hub does not read it (`MemoryNetwork.byName` false). */
const UNNAMED = ''

/** The waiting list of a connection nobody waits on (shared; never pushed to). */
const NO_WAITERS: Waiter[] = []

export interface MemoryConnectionInit {
  id: string
  endpoint: Endpoint
  remotePeer: PeerId
  remoteAddress: string
  direction: 'inbound' | 'outbound'
  /** Inbound connections wait for the dialer's proof before they are handed out. */
  pending: boolean
  listener?: MemoryListener
  /** The nonce the dialer must sign (inbound, while pending). */
  nonce?: Uint8Array
}

/**
 * One end of an in-process connection. Messages are copied on `send`, wait
 * in a bounded buffer, cross the link (latency, bandwidth, loss) and arrive
 * whole and in order at the other end. Each end is the pipe of the frames
 * the other end sends it (its base class, `Pipe`): a send pushes onto the
 * other end, and a frame's arrival reads the end it arrives at.
 */
export class MemoryConnection extends Pipe implements Connection {
  // What every message sent or received reads comes first (after the pipe's fields, which every frame
  // arriving reads): in a line of memory or two, not spread over the object (a connection of a simulated
  // node is nearly always out of the CPU's caches then).
  private state: 'pending' | 'open' | 'closed'
  /**
   * `options.maxMessageSize` of this end's transport, kept: read for every message sent and
   * received, where the transport and its options were two more objects to read (a simulated
   * node's, nearly always out of the CPU's caches when a message reaches it).
   */
  private readonly maxMessageSize: number
  /**
   * The hub and the random source of this end's transport, kept: read for every frame sent, where the
   * transport was one more object to read (its node name is read only where the hub reads names).
   */
  private readonly hub: MemoryNetwork
  private readonly random: Random
  /** Messages that arrived before anyone listened for them. */
  private held: Uint8Array[] | undefined
  private waiters: Waiter[] = NO_WAITERS
  private readonly endpoint: Endpoint
  readonly id: string
  readonly remotePeer: PeerId
  readonly remoteAddress: string
  readonly direction: 'inbound' | 'outbound'
  /** @internal The other end (see `link`). */
  other!: MemoryConnection
  /** The other end's transport, kept: read for a frame sent where the hub reads node names (`MemoryNetwork.byName`). */
  private otherEndpoint!: Endpoint
  /** @internal Neighbours in its transport's chain of connections (while it holds this one). */
  chainPrev: MemoryConnection | undefined
  /** @internal */
  chainNext: MemoryConnection | undefined
  /** @internal */
  readonly listener: MemoryListener | undefined
  /** @internal */
  nonce: Uint8Array | undefined
  private resetting = false
  private releasing = false

  constructor(init: MemoryConnectionInit) {
    super(init.endpoint.clock)
    this.id = init.id
    this.endpoint = init.endpoint
    this.remotePeer = init.remotePeer
    this.remoteAddress = init.remoteAddress
    this.direction = init.direction
    this.state = init.pending ? 'pending' : 'open'
    this.listener = init.listener
    this.nonce = init.nonce
    this.maxMessageSize = init.endpoint.options.maxMessageSize
    this.hub = init.endpoint.network
    this.random = init.endpoint.random
  }

  // On the prototype, not a field of each connection.
  get [Symbol.toStringTag](): string {
    return '@peerkit/transport-memory:MemoryConnection'
  }

  /** @internal Joins this end to `other`: this end sends onto `other`'s pipe (as `other` onto this end's). */
  link(other: MemoryConnection): void {
    this.other = other
    this.otherEndpoint = other.endpoint
    other.clock = this.endpoint.clock
  }

  /** Bytes left this end's pipe (the other end's send buffer) while a `send` of the other end waited for room. */
  protected override pipeDrained(): void {
    this.other.drain()
  }

  get closed(): boolean {
    return this.state === 'closed'
  }

  /**
   * Messages that arrive before the first `message` listener (the dialer
   * gets its connection a few microtasks after the listener side may have
   * sent) are held, and handed to the first listener in order.
   */
  protected override onMessageListener(): void {
    this.release()
  }

  /** Bytes accepted by `send` and not yet on the wire. */
  get bufferedBytes(): number {
    return this.other.queued
  }

  send(data: Uint8Array, options?: AbortOptions): Promise<void> {
    if (this.state === 'closed') {
      return Promise.reject(new PeerUnreachableError(`connection ${this.id} to ${this.remotePeer} is closed`))
    }
    if (!(data instanceof Uint8Array)) {
      return Promise.reject(new ProtocolError(`send takes a Uint8Array (got ${typeof data})`))
    }
    const max = this.maxMessageSize
    if (data.byteLength > max) {
      return Promise.reject(
        new ProtocolError(`message of ${data.byteLength} bytes exceeds the maximum of ${max}`),
      )
    }
    const signal = options?.signal
    if (signal?.aborted) return Promise.reject(new AbortError('send aborted', { cause: signal.reason }))
    const copy = copyOf(data)
    if (this.waiters.length === 0 && this.fits(copy.byteLength)) {
      this.transmit('data', copy, copy.byteLength)
      return SENT
    }
    return this.wait(copy, signal)
  }

  /**
   * A send that waits for room in the buffer (a method of its own: its
   * closures would otherwise make every `send` allocate their scope).
   */
  private wait(copy: Uint8Array, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { data: copy, resolve, reject, cancel: undefined }
      if (signal) {
        waiter.cancel = onAbort(signal, () => {
          this.waiters = this.waiters.filter((w) => w !== waiter)
          if (this.waiters.length === 0) this.other.watch(false)
          reject(new AbortError('send aborted', { cause: signal.reason }))
        })
      }
      if (this.waiters === NO_WAITERS) this.waiters = []
      this.waiters.push(waiter)
      this.other.watch(true)
    })
  }

  /** Closes both directions: what was sent before still arrives, then the other end sees `close`. */
  async close(err?: Error): Promise<void> {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.failWaiters()
    this.transmit('fin', undefined, 0)
    this.endpoint.untrack(this)
    this.emit('close', err)
  }

  /** @internal Queues a frame without any check: the raw hook for tests of malformed and oversized frames. */
  transmit(kind: FrameKind, data: unknown, size: number): void {
    const network = this.hub
    const random = this.random
    // The nodes' names only where the hub reads them (`byName`): each transport is one more object to read.
    const named = network.byName
    const from = named ? this.endpoint.nodeName : UNNAMED
    const to = named ? this.otherEndpoint.nodeName : UNNAMED
    // As `MemoryNetwork.link` decides it (the latency drawn before the loss), without a Link per frame.
    const latency = network.latency(from, to, random)
    const bandwidth = network.bandwidth(from, to)
    this.other.push(
      kind,
      data,
      size,
      latency,
      bandwidth,
      network.lose(from, to, random, size, kind !== 'data'),
    )
  }

  /** @internal The handshake succeeded: from now on it is a live connection. */
  open(): void {
    if (this.state === 'pending') this.state = 'open'
    this.nonce = undefined
  }

  /**
   * @internal Closes this end without events (nobody holds it yet, or its
   * node vanished) and resets the other end with `reason` after the latency.
   * Frames not yet on the wire are lost; those in flight still arrive.
   */
  abort(reason: Error, event?: Error): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.failWaiters()
    this.other.dropQueued()
    this.transmit('rst', reason, 0)
    this.endpoint.untrack(this)
    if (event) {
      this.emit('error', event)
      this.emit('close', event)
    }
  }

  /** A frame the other end sent arrived at this end. */
  protected override deliverFrame(kind: FrameKind, data: unknown): void {
    if (this.state === 'closed') {
      // Data for a closed end: answer with a reset, like TCP's RST.
      if (kind === 'data' && !this.endpoint.killed) this.other.bounce()
      return
    }
    switch (kind) {
      case 'auth':
        this.endpoint.accept(this, data)
        return
      case 'data': {
        if (this.state === 'pending') {
          this.fail(new ProtocolError(`connection ${this.id} sent data before proving its PeerId`))
          return
        }
        if (!(data instanceof Uint8Array)) {
          this.fail(new ProtocolError(`malformed frame from ${this.remotePeer}: not bytes`))
          return
        }
        const max = this.maxMessageSize
        if (data.byteLength > max) {
          this.fail(
            new ProtocolError(
              `frame of ${data.byteLength} bytes from ${this.remotePeer} exceeds the maximum of ${max}`,
            ),
          )
          return
        }
        // emitMessage (emit) says whether anyone listened: nobody yet, and the message waits for the first listener.
        if (this.held === undefined && this.emitMessage(data)) return
        if (this.held === undefined) this.held = []
        this.held.push(data)
        return
      }
      case 'fin':
        this.terminate(undefined)
        return
      case 'rst':
        this.terminate(
          data instanceof Error ? data : new PeerUnreachableError(`connection to ${this.remotePeer} reset`),
        )
    }
  }

  /** The other end closed (`fin`) or vanished (`rst`). */
  private terminate(err: Error | undefined): void {
    if (this.state === 'closed') return
    const wasPending = this.state === 'pending'
    this.state = 'closed'
    this.failWaiters()
    this.other.clear()
    this.endpoint.untrack(this)
    if (wasPending) return
    this.flushHeld()
    if (err) this.emit('error', err)
    this.emit('close', err)
  }

  /** A transport-level failure of this end: `error`, then `close`; the other end sees a close. */
  private fail(err: Error): void {
    if (this.state === 'pending') {
      this.listener?.emit('error', err)
      this.abort(err)
      return
    }
    this.emit('error', err)
    void this.close(err)
  }

  /** Our data reached a closed end: the reset comes back after one latency. */
  private bounce(): void {
    if (this.resetting || this.state === 'closed') return
    this.resetting = true
    const e = this.otherEndpoint
    if (e.network.isPartitioned(e.nodeName, this.endpoint.nodeName)) return
    const ms = e.network.latency(e.nodeName, this.endpoint.nodeName, e.random)
    e.after(ms, () =>
      this.terminate(new PeerUnreachableError(`connection to ${this.remotePeer} reset by peer`)),
    )
  }

  private release(): void {
    if (this.held === undefined || this.releasing) return
    this.releasing = true
    queueMicrotask(() => {
      this.releasing = false
      this.flushHeld()
    })
  }

  private flushHeld(): void {
    const held = this.held
    if (held === undefined) return
    while (held.length > 0 && this.listenerCount('message') > 0) this.emitMessage(held.shift() as Uint8Array)
    if (held.length === 0) this.held = undefined
  }

  private fits(size: number): boolean {
    const queued = this.other.queued
    return queued === 0 || queued + size <= this.endpoint.options.sendBufferSize
  }

  private drain(): void {
    while (this.waiters.length > 0 && this.state !== 'closed') {
      const w = this.waiters[0] as Waiter
      if (!this.fits(w.data.byteLength)) return
      this.waiters.shift()
      w.cancel?.()
      this.transmit('data', w.data, w.data.byteLength)
      w.resolve()
    }
    this.other.watch(false)
  }

  private failWaiters(): void {
    const waiters = this.waiters
    this.waiters = NO_WAITERS
    this.other.watch(false)
    for (const w of waiters) {
      w.cancel?.()
      w.reject(new PeerUnreachableError(`connection ${this.id} to ${this.remotePeer} closed`))
    }
  }
}
