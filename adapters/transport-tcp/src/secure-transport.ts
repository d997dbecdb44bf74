import {
  type Clock,
  type Connection,
  type DialOptions,
  type Identity,
  InvalidOptionsError,
  type Listener,
  type PeerId,
  PeerUnreachableError,
  type Transport,
  throwIfAborted,
} from '@peerkit/core'
import { type HandshakeChannel, handshake, type Role } from './handshake.js'
import type { TcpCipher } from './options.js'
import type { RecordCipher } from './record-cipher.js'

/** What `SecureTransport` reads of a transport's options. */
export interface SecureTransportOptions {
  /** The AEAD proposed when dialing. */
  readonly cipher: TcpCipher
  /** Milliseconds for the handshake. */
  readonly handshakeTimeout: number
  /** Seals and opens large records off the main thread (tcp only; false when absent). */
  readonly offload?: boolean
}

/** A verified socket, as `upgrade` hands it to `connect`: a connection's init but its `id` and options. */
export interface SecureConnectionInit<S> {
  socket: S
  direction: 'inbound' | 'outbound'
  remotePeer: PeerId
  /** The address dialed, or the observed one for inbound connections. */
  remoteAddress: string
  /** Seals what this side sends. */
  sender: RecordCipher
  /** Opens what the remote sends. */
  receiver: RecordCipher
  /** Record bytes (in tcp's stream form) that arrived with the handshake's last record. */
  leftover: Uint8Array
  clock: Clock
}

/**
 * The lifecycle shared by the transports whose connections run the
 * `peerkit-tcp/1` handshake over a socket of kind `S` (a node:net Socket for
 * tcp, a WebSocket for ws): the listeners and connections it made, the
 * sockets still connecting or handshaking, `close()`/`dispose()`, and
 * `upgrade()` (the handshake, then a connection). A subclass says how to
 * listen and dial, how a socket is killed, what the handshake reads, and
 * which connection wraps a verified socket.
 */
export abstract class SecureTransport<S, C extends Connection> implements Transport {
  abstract readonly name: string
  private readonly listeners = new Set<Listener>()
  private readonly connections = new Set<C>()
  /** Sockets connecting or handshaking: `close()` kills them. */
  protected readonly pending = new Set<S>()
  protected closed = false

  constructor(
    protected readonly identity: Identity,
    protected readonly clock: Clock,
    private readonly secure: SecureTransportOptions,
  ) {}

  abstract handles(address: string): boolean
  abstract listen(address: string): Promise<Listener>
  abstract dial(address: string, options?: DialOptions): Promise<C>

  /** Drops a socket at once (`destroy`, `terminate`). */
  protected abstract kill(socket: S): void
  /** The socket as the handshake reads and writes it. */
  protected abstract channel(socket: S): HandshakeChannel
  /** The connection over a socket whose handshake succeeded. */
  protected abstract connect(init: SecureConnectionInit<S>): C

  /** Calls `gone` once `conn` needs no more closing; by default when it emits 'close'. */
  protected untilGone(_socket: S, conn: C, gone: () => void): void {
    conn.once('close', gone)
  }

  /** Throws `InvalidOptionsError` once the transport is closed. */
  protected assertCanListen(address: string): void {
    if (this.closed) {
      throw new InvalidOptionsError(`cannot listen on ${address}: the ${this.name} transport is closed`)
    }
  }

  /** Throws `AbortError` if `signal` is aborted, `PeerUnreachableError` once the transport is closed. */
  protected assertCanDial(address: string, signal?: AbortSignal): void {
    throwIfAborted(signal)
    if (this.closed)
      throw new PeerUnreachableError(`cannot dial ${address}: the ${this.name} transport is closed`)
  }

  /** Keeps `listener` until it closes, so that `close()` closes it. */
  protected adopt<L extends Listener>(listener: L): L {
    this.listeners.add(listener)
    listener.once('close', () => this.listeners.delete(listener))
    return listener
  }

  /** Closes every listener and connection it made, and abandons dials and handshakes in progress. */
  async close(): Promise<void> {
    this.closed = true
    for (const socket of this.pending) this.kill(socket)
    this.pending.clear()
    await Promise.allSettled([
      ...[...this.listeners].map((l) => l.close()),
      ...[...this.connections].map((c) => c.close()),
    ])
  }

  /** Called by the container when the peer is disposed. */
  dispose(): Promise<void> {
    return this.close()
  }

  /** Runs the handshake on a connected socket, then wraps it in a connection (kept until it is gone). */
  protected async upgrade(socket: S, role: Role, address: string, options: DialOptions = {}): Promise<C> {
    this.pending.add(socket)
    try {
      const result = await handshake(this.channel(socket), {
        role,
        identity: this.identity,
        cipher: this.secure.cipher,
        offload: this.secure.offload ?? false,
        clock: this.clock,
        timeout: this.secure.handshakeTimeout,
        address,
        expectedPeer: options.peer,
        signal: options.signal,
      })
      if (this.closed) {
        this.kill(socket)
        throw new PeerUnreachableError(
          `connection with ${address} abandoned: the ${this.name} transport is closed`,
        )
      }
      const conn = this.connect({
        socket,
        direction: role === 'initiator' ? 'outbound' : 'inbound',
        remotePeer: result.remotePeer,
        remoteAddress: address,
        sender: result.sender,
        receiver: result.receiver,
        leftover: result.leftover,
        clock: this.clock,
      })
      this.connections.add(conn)
      this.untilGone(socket, conn, () => this.connections.delete(conn))
      return conn
    } finally {
      this.pending.delete(socket)
    }
  }
}
