import { connect, createServer, type Socket } from 'node:net'
import {
  AbortError,
  CLOCK,
  type Clock,
  type DialOptions,
  IDENTITY,
  type Identity,
  InvalidOptionsError,
  onAbort,
  PeerUnreachableError,
  TimeoutError,
  type Transport,
  throwIfAborted,
} from '@peerkit/core'
import { inject, injectable } from 'tsyringe'
import { formatTcpAddress, isTcpAddress, parseTcpAddress } from './address.js'
import { handshake, type Role } from './handshake.js'
import type { ParsedTcpTransportOptions } from './options.js'
import { TcpConnection } from './tcp-connection.js'
import { TcpListener } from './tcp-listener.js'
import { TCP_TRANSPORT_OPTIONS } from './tokens.js'

/** The observed address of a socket's remote end, `tcp://HOST:PORT`. */
function observedAddress(socket: Socket): string {
  const host = (socket.remoteAddress ?? 'unknown').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '')
  return formatTcpAddress(host, socket.remotePort ?? 0)
}

/**
 * TCP on node:net: `tcp://HOST:PORT` addresses; every connection is
 * authenticated (both PeerIds proven by Ed25519 signatures over an X25519
 * handshake) and encrypted with an AEAD, and carries length-prefixed messages
 * with backpressure.
 */
@injectable()
export class TcpTransport implements Transport {
  readonly [Symbol.toStringTag] = '@peerkit/transport-tcp'
  readonly name = 'tcp'
  private readonly listeners = new Set<TcpListener>()
  private readonly connections = new Set<TcpConnection>()
  private readonly pending = new Set<Socket>()
  private closed = false

  constructor(
    @inject(IDENTITY) private readonly identity: Identity,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(TCP_TRANSPORT_OPTIONS) private readonly options: ParsedTcpTransportOptions,
  ) {}

  handles(address: string): boolean {
    return isTcpAddress(address)
  }

  async listen(address: string): Promise<TcpListener> {
    const { host, port } = parseTcpAddress(address, true)
    if (this.closed) throw new InvalidOptionsError(`cannot listen on ${address}: the tcp transport is closed`)
    const server = createServer({ noDelay: this.options.noDelay })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ host, port }, () => {
        server.off('error', reject)
        resolve()
      })
    }).catch((err: Error) => {
      throw new InvalidOptionsError(`cannot listen on ${address}: ${err.message}`, { cause: err })
    })
    const listener = new TcpListener(
      server,
      host,
      (socket) => this.upgrade(socket, 'responder', observedAddress(socket)),
      this.options,
    )
    this.listeners.add(listener)
    listener.once('close', () => this.listeners.delete(listener))
    return listener
  }

  async dial(address: string, options: DialOptions = {}): Promise<TcpConnection> {
    const { host, port } = parseTcpAddress(address)
    const { signal } = options
    throwIfAborted(signal)
    if (this.closed) throw new PeerUnreachableError(`cannot dial ${address}: the tcp transport is closed`)
    const socket = connect({ host, port, noDelay: this.options.noDelay })
    this.pending.add(socket)
    try {
      await new Promise<void>((resolve, reject) => {
        // Many dials on one signal (a search's) share one listener on it (core's onAbort).
        let unlisten: () => void = () => {}
        const done = (err?: Error) => {
          this.clock.clearTimeout(timer)
          unlisten()
          socket.off('connect', onConnect)
          socket.off('error', onError)
          if (err) {
            socket.destroy()
            reject(err)
          } else resolve()
        }
        const onConnect = () => done()
        const onError = (err: Error) =>
          done(new PeerUnreachableError(`cannot reach ${address}: ${err.message}`, { cause: err }))
        const aborted = () => done(new AbortError(`dial ${address} aborted`, { cause: signal?.reason }))
        const timer = this.clock.setTimeout(
          () =>
            done(
              new TimeoutError(
                `connecting to ${address} timed out after ${this.options.handshakeTimeout} ms`,
              ),
            ),
          this.options.handshakeTimeout,
        )
        socket.once('connect', onConnect)
        socket.once('error', onError)
        if (signal) unlisten = onAbort(signal, aborted)
      })
      return await this.upgrade(socket, 'initiator', address, options)
    } finally {
      this.pending.delete(socket)
    }
  }

  /** Closes every listener and connection it made, and abandons dials and handshakes in progress. */
  async close(): Promise<void> {
    this.closed = true
    for (const socket of this.pending) socket.destroy()
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

  private async upgrade(
    socket: Socket,
    role: Role,
    address: string,
    options: DialOptions = {},
  ): Promise<TcpConnection> {
    this.pending.add(socket)
    try {
      const result = await handshake(socket, {
        role,
        identity: this.identity,
        cipher: this.options.cipher,
        offload: this.options.offload,
        clock: this.clock,
        timeout: this.options.handshakeTimeout,
        address,
        expectedPeer: options.peer,
        signal: options.signal,
      })
      if (this.closed) {
        socket.destroy()
        throw new PeerUnreachableError(`connection with ${address} abandoned: the tcp transport is closed`)
      }
      const conn = new TcpConnection({
        id: `tcp:${formatTcpAddress(socket.localAddress ?? '?', socket.localPort ?? 0).slice(6)}>${observedAddress(socket).slice(6)}`,
        socket,
        direction: role === 'initiator' ? 'outbound' : 'inbound',
        remotePeer: result.remotePeer,
        remoteAddress: address,
        sender: result.sender,
        receiver: result.receiver,
        leftover: result.leftover,
        options: this.options,
        clock: this.clock,
      })
      this.connections.add(conn)
      socket.once('close', () => this.connections.delete(conn))
      return conn
    } finally {
      this.pending.delete(socket)
    }
  }
}
