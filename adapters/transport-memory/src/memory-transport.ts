import {
  AbortError,
  AuthenticationError,
  CLOCK,
  type Clock,
  type Connection,
  type DialOptions,
  IDENTITY,
  type Identity,
  InvalidOptionsError,
  type Listener,
  onAbort,
  type PeerId,
  PeerUnreachableError,
  RANDOM,
  type Random,
  type TimerHandle,
  type Transport,
  verifySignature,
} from '@peerkit/core'
import { inject, injectable } from 'tsyringe'
import { memoryAddress, parseMemoryAddress, SCHEME } from './address.js'
import { authMessage, NONCE_SIZE } from './auth.js'
import { Chain } from './chain.js'
import { type Endpoint, MemoryConnection } from './memory-connection.js'
import { MemoryListener } from './memory-listener.js'
import type { MemoryNetwork } from './memory-network.js'
import type { MemoryTransportOptions } from './options.js'
import { MEMORY_NETWORK, MEMORY_TRANSPORT_OPTIONS } from './tokens.js'

const EMPTY = new Uint8Array(0)

/**
 * In-process connections through a `MemoryNetwork` hub. Opening a connection
 * takes one and a half round trips: the dialer sends its PeerId and a nonce,
 * the listener answers with its PeerId, a nonce and a signature of the
 * dialer's nonce, and the dialer's signature of the listener's nonce travels
 * as the connection's first frame; the listener hands the connection out
 * only once that verifies.
 */
@injectable()
export class MemoryTransport implements Transport, Endpoint {
  readonly [Symbol.toStringTag] = '@peerkit/transport-memory'
  readonly name = 'memory'
  private readonly listeners = new Set<MemoryListener>()
  // In the order they came, as close and kill go through them.
  private readonly connections = new Chain<MemoryConnection>()
  private readonly dials = new Chain<PendingDial>()
  private anonName: string | undefined
  /** The first listener's name (kept: `nodeName` is read twice per frame sent). */
  private listenName: string | undefined
  /** `memory://` + the node name, as inbound connections see it (kept, not rebuilt per connection). */
  private address: string | undefined
  private dead = false

  constructor(
    @inject(IDENTITY) readonly identity: Identity,
    @inject(CLOCK) readonly clock: Clock,
    @inject(RANDOM) readonly random: Random,
    @inject(MEMORY_NETWORK) readonly network: MemoryNetwork,
    @inject(MEMORY_TRANSPORT_OPTIONS) readonly options: Readonly<Required<MemoryTransportOptions>>,
  ) {}

  get nodeName(): string {
    if (this.listenName !== undefined) return this.listenName
    this.anonName ??= this.network.uniqueName('anon')
    return this.anonName
  }

  /** True once the hub killed this node. */
  get killed(): boolean {
    return this.dead
  }

  /** Open connections (and inbound ones still proving their PeerId). */
  get connectionCount(): number {
    return this.connections.size
  }

  handles(address: string): boolean {
    return address.startsWith(SCHEME)
  }

  /** Binds `memory://NAME`; `memory://`, `memory://*` and `memory://0` pick a fresh unique name. */
  async listen(address: string): Promise<Listener> {
    if (this.dead) throw new PeerUnreachableError(`cannot listen on ${address}: this node was killed`)
    const name = parseMemoryAddress(address) ?? this.network.uniqueName()
    const listener = new MemoryListener(name, this, this.network)
    this.network.bind(name, listener)
    this.listeners.add(listener)
    this.listenName ??= name
    return listener
  }

  dial(address: string, options: DialOptions = {}): Promise<Connection> {
    const { signal } = options
    if (signal?.aborted)
      return Promise.reject(new AbortError(`dial ${address} aborted`, { cause: signal.reason }))
    let name: string | undefined
    try {
      name = parseMemoryAddress(address)
    } catch (err) {
      return Promise.reject(err)
    }
    if (name === undefined) {
      return Promise.reject(
        new InvalidOptionsError(`cannot dial ${address}: name a listener (memory://NAME)`),
      )
    }
    if (this.dead)
      return Promise.reject(new PeerUnreachableError(`cannot dial ${address}: this node was killed`))
    const dial = new PendingDial(this, address, name, options.peer)
    return new Promise<Connection>((resolve, reject) => dial.start(resolve, reject, signal))
  }

  /** Closes every listener and connection (and fails pending dials); the transport can be used again. */
  async close(): Promise<void> {
    for (const dial of this.dials.toArray())
      dial.fail(new PeerUnreachableError('the memory transport closed'))
    await Promise.all([...this.listeners].map((l) => l.close()))
    await Promise.all(this.connections.toArray().map((c) => c.close()))
  }

  /** tsyringe calls this when the peer's container is disposed. */
  async dispose(): Promise<void> {
    await this.close()
  }

  /** @internal */
  after(ms: number, fn: () => void): () => void {
    let cancelled = false
    if (ms <= 0) {
      queueMicrotask(() => {
        if (!cancelled) fn()
      })
      return () => {
        cancelled = true
      }
    }
    const handle = this.clock.setTimeout(fn, ms)
    return () => this.clock.clearTimeout(handle)
  }

  /** `memory://NAME` for this node's name `name`. */
  private addressOf(name: string): string {
    if (
      this.address === undefined ||
      this.address.length !== SCHEME.length + name.length ||
      !this.address.endsWith(name)
    )
      this.address = memoryAddress(name)
    return this.address
  }

  /** @internal The dialer's proof arrived on an inbound connection. */
  accept(connection: MemoryConnection, proof: unknown): void {
    const listener = connection.listener
    const nonce = connection.nonce
    if (this.dead) {
      connection.abort(new PeerUnreachableError('the node vanished'))
      return
    }
    if (!listener || listener.closed || !nonce) {
      connection.abort(
        new PeerUnreachableError(
          `nothing listens at ${listener ? memoryAddress(listener.name) : 'this address'} any more`,
        ),
      )
      return
    }
    if (
      this.options.authenticate &&
      !(
        proof instanceof Uint8Array &&
        verifySignature(connection.remotePeer, authMessage('dialer', nonce), proof)
      )
    ) {
      const err = new AuthenticationError(
        `an inbound connection failed to prove it is peer ${connection.remotePeer}`,
      )
      listener.emit('error', err)
      connection.abort(
        new AuthenticationError(`${memoryAddress(listener.name)} refused the connection: ${err.message}`),
      )
      return
    }
    connection.open()
    listener.emit('connection', connection)
  }

  /** @internal */
  adopt(connection: MemoryConnection): void {
    this.connections.add(connection)
  }

  /** @internal */
  untrack(connection: MemoryConnection): void {
    this.connections.remove(connection)
  }

  /** @internal A dial starts waiting for its handshake. */
  addDial(dial: PendingDial): void {
    this.dials.add(dial)
  }

  /** @internal A dial settled. */
  removeDial(dial: PendingDial): void {
    this.dials.remove(dial)
  }

  /**
   * @internal The last step of a dial that reached `listener` (its proof
   * checked): the connection's two ends, ours with our proof of `nonce` as
   * its first frame.
   */
  connect(address: string, from: string, listener: MemoryListener, nonce: Uint8Array): MemoryConnection {
    const remote = listener.endpoint
    const id = this.network.nextId()
    const local = new MemoryConnection({
      id,
      endpoint: this,
      remotePeer: remote.identity.peerId,
      remoteAddress: address,
      direction: 'outbound',
      pending: false,
    })
    const inbound = new MemoryConnection({
      id,
      endpoint: remote,
      remotePeer: this.identity.peerId,
      remoteAddress: this.addressOf(from),
      direction: 'inbound',
      pending: true,
      listener,
      nonce,
    })
    local.link(inbound)
    inbound.link(local)
    this.adopt(local)
    remote.adopt(inbound)
    const myProof = this.options.authenticate ? this.identity.sign(authMessage('dialer', nonce)) : EMPTY
    local.transmit('auth', myProof, 0)
    return local
  }

  /** @internal */
  forget(listener: MemoryListener): void {
    this.listeners.delete(listener)
    this.listenName = undefined
    for (const l of this.listeners) {
      this.listenName = l.name
      break
    }
  }

  /** @internal The node vanishes: see `MemoryNetwork.kill`. */
  kill(): void {
    if (this.dead) return
    // The node keeps its name for the resets below, after its listeners are gone.
    const name = this.nodeName
    this.anonName = name
    this.dead = true
    for (const dial of this.dials.toArray()) dial.fail(new PeerUnreachableError('this node was killed'))
    for (const l of [...this.listeners]) void l.close()
    // One error of each kind for all the connections: a node with hundreds of them (a simulation's
    // teardown kills every node) spent more on capturing stack traces than on the resets themselves.
    const reset = new PeerUnreachableError(`connection to ${this.identity.peerId} reset: the peer vanished`)
    const killed = new PeerUnreachableError(`this node (${name}) was killed`)
    for (const c of this.connections.toArray()) c.abort(reset, killed)
  }
}

// Where a dial is: its hello travels to the listener, the answer travels back, or the news that nothing answers.
const HELLO = 0
const ANSWER = 1
const REFUSED = 2

/**
 * One dial on its way through the handshake: its steps are methods and its
 * timers share one callback (not a closure per step, a promise's worth of
 * closures and a Set entry per dial: peers open and close connections all
 * the time).
 */
class PendingDial {
  /** @internal Neighbours in the transport's chain of pending dials. */
  chainPrev: PendingDial | undefined
  /** @internal */
  chainNext: PendingDial | undefined
  private step = HELLO
  private settled = false
  private timer: TimerHandle | undefined
  private unlisten: (() => void) | undefined
  private resolve!: (connection: Connection) => void
  private reject!: (err: Error) => void
  private from = ''
  private dialerNonce: Uint8Array = EMPTY
  private listener: MemoryListener | undefined
  private listenerNonce: Uint8Array = EMPTY
  private proof: Uint8Array = EMPTY
  private readonly tick = (): void => this.fire()

  constructor(
    private readonly transport: MemoryTransport,
    private readonly address: string,
    private readonly target: string,
    /** The PeerId the caller expects at `address`. */
    private readonly expected: PeerId | undefined,
  ) {}

  start(
    resolve: (connection: Connection) => void,
    reject: (err: Error) => void,
    signal: AbortSignal | undefined,
  ): void {
    const t = this.transport
    this.resolve = resolve
    this.reject = reject
    // Many dials on one signal (a search's) share one listener on it.
    if (signal)
      this.unlisten = onAbort(signal, () =>
        this.fail(new AbortError(`dial ${this.address} aborted`, { cause: signal.reason })),
      )
    t.addDial(this)
    this.from = t.nodeName
    this.dialerNonce = t.random.bytes(NONCE_SIZE)
    // 1. The dialer's PeerId and nonce travel to the listener.
    this.after(t.network.latency(this.from, this.target, t.random))
  }

  fail(err: Error): void {
    if (this.settled) return
    this.settle()
    if (this.timer !== undefined) this.transport.clock.clearTimeout(this.timer)
    this.timer = undefined
    this.reject(err)
  }

  private settle(): void {
    this.settled = true
    this.unlisten?.()
    this.transport.removeDial(this)
  }

  /** Runs the next step after `ms` (on a microtask when 0). */
  private after(ms: number): void {
    // A microtask is not cancelled: `fire` does nothing once the dial settled.
    if (ms <= 0) queueMicrotask(this.tick)
    else this.timer = this.transport.clock.setTimeout(this.tick, ms)
  }

  private fire(): void {
    this.timer = undefined
    if (this.settled) return
    if (this.step === HELLO) this.hello()
    else if (this.step === ANSWER) this.answer()
    else this.fail(new PeerUnreachableError(`nothing answers at ${this.address}`))
  }

  /** The hello reached the listener's side. */
  private hello(): void {
    const t = this.transport
    const network = t.network
    const listener = network.lookup(this.target)
    const back = network.latency(this.target, this.from, t.random)
    if (!listener || listener.endpoint.killed || network.isPartitioned(this.from, this.target)) {
      this.step = REFUSED
      this.after(back)
      return
    }
    // 2. The listener answers with its PeerId, a nonce, and its signature of ours.
    const remote = listener.endpoint
    this.listener = listener
    this.listenerNonce = remote.random.bytes(NONCE_SIZE)
    if (remote.options.authenticate)
      this.proof = remote.identity.sign(authMessage('listener', this.dialerNonce))
    this.step = ANSWER
    this.after(back)
  }

  /** The listener's answer is back. */
  private answer(): void {
    const t = this.transport
    const listener = this.listener as MemoryListener
    const listenerId = listener.endpoint.identity.peerId
    if (
      t.options.authenticate &&
      !verifySignature(listenerId, authMessage('listener', this.dialerNonce), this.proof)
    ) {
      this.fail(new AuthenticationError(`${this.address} failed to prove it is peer ${listenerId}`))
      return
    }
    if (this.expected !== undefined && this.expected !== listenerId) {
      this.fail(
        new AuthenticationError(`${this.address} is peer ${listenerId}, not the expected ${this.expected}`),
      )
      return
    }
    this.settle()
    // 3. Our signature of its nonce goes first on the new connection.
    this.resolve(t.connect(this.address, this.from, listener, this.listenerNonce))
  }
}
