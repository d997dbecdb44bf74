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
  PeerUnreachableError,
  RANDOM,
  type Random,
  type Transport,
  verifySignature,
} from '@peerkit/core'
import { inject, injectable } from 'tsyringe'
import { memoryAddress, parseMemoryAddress, SCHEME } from './address.js'
import { authMessage, NONCE_SIZE } from './auth.js'
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
  // Made on first use: a simulator keeps 100,000 transports, most with few connections.
  private connections: Set<MemoryConnection> | undefined
  private dials: Set<(err: Error) => void> | undefined
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
    return this.connections?.size ?? 0
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
    const target = name
    this.dials ??= new Set()
    const dials = this.dials
    return new Promise<Connection>((resolve, reject) => {
      let cancel: () => void = () => {}
      let settled = false
      let unlisten: () => void = () => {}
      const settle = () => {
        settled = true
        unlisten()
        dials.delete(fail)
        if (dials.size === 0 && this.dials === dials) this.dials = undefined
      }
      const fail = (err: Error) => {
        if (settled) return
        settle()
        cancel()
        reject(err)
      }
      // Many dials on one signal (a search's) share one listener on it.
      if (signal)
        unlisten = onAbort(signal, () =>
          fail(new AbortError(`dial ${address} aborted`, { cause: signal.reason })),
        )
      dials.add(fail)

      const from = this.nodeName
      const dialerNonce = this.random.bytes(NONCE_SIZE)
      // 1. The dialer's PeerId and nonce travel to the listener.
      cancel = this.after(this.network.latency(from, target, this.random), () => {
        const listener = this.network.lookup(target)
        const back = this.network.latency(target, from, this.random)
        if (!listener || listener.endpoint.killed || this.network.isPartitioned(from, target)) {
          cancel = this.after(back, () => fail(new PeerUnreachableError(`nothing answers at ${address}`)))
          return
        }
        // 2. The listener answers with its PeerId, a nonce, and its signature of ours.
        const remote = listener.endpoint
        const listenerId = remote.identity.peerId
        const listenerNonce = remote.random.bytes(NONCE_SIZE)
        const proof = remote.options.authenticate
          ? remote.identity.sign(authMessage('listener', dialerNonce))
          : EMPTY
        cancel = this.after(back, () => {
          if (settled) return
          if (
            this.options.authenticate &&
            !verifySignature(listenerId, authMessage('listener', dialerNonce), proof)
          ) {
            fail(new AuthenticationError(`${address} failed to prove it is peer ${listenerId}`))
            return
          }
          if (options.peer !== undefined && options.peer !== listenerId) {
            fail(
              new AuthenticationError(`${address} is peer ${listenerId}, not the expected ${options.peer}`),
            )
            return
          }
          settle()
          // 3. Our signature of its nonce goes first on the new connection.
          const id = this.network.nextId()
          const local = new MemoryConnection({
            id,
            endpoint: this,
            remotePeer: listenerId,
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
            nonce: listenerNonce,
          })
          local.other = inbound
          inbound.other = local
          this.adopt(local)
          remote.adopt(inbound)
          const myProof = this.options.authenticate
            ? this.identity.sign(authMessage('dialer', listenerNonce))
            : EMPTY
          local.transmit('auth', myProof, 0)
          resolve(local)
        })
      })
    })
  }

  /** Closes every listener and connection (and fails pending dials); the transport can be used again. */
  async close(): Promise<void> {
    for (const fail of [...(this.dials ?? [])]) fail(new PeerUnreachableError('the memory transport closed'))
    await Promise.all([...this.listeners].map((l) => l.close()))
    await Promise.all([...(this.connections ?? [])].map((c) => c.close()))
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
    this.connections ??= new Set()
    this.connections.add(connection)
  }

  /** @internal */
  untrack(connection: MemoryConnection): void {
    this.connections?.delete(connection)
    if (this.connections?.size === 0) this.connections = undefined
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
    for (const fail of [...(this.dials ?? [])]) fail(new PeerUnreachableError('this node was killed'))
    for (const l of [...this.listeners]) void l.close()
    // One error of each kind for all the connections: a node with hundreds of them (a simulation's
    // teardown kills every node) spent more on capturing stack traces than on the resets themselves.
    const reset = new PeerUnreachableError(`connection to ${this.identity.peerId} reset: the peer vanished`)
    const killed = new PeerUnreachableError(`this node (${name}) was killed`)
    for (const c of [...(this.connections ?? [])]) c.abort(reset, killed)
  }
}
