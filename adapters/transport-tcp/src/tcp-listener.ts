import type { Server, Socket } from 'node:net'
import { type Listener, type ListenerEvents, RateLimitError } from '@peerkit/core'
import { EventEmitter } from 'eventemitter3'
import { reachableAddresses } from './address.js'
import type { ParsedTcpTransportOptions } from './options.js'
import { ListenerLimits, sourceAddress } from './source-limits.js'
import type { TcpConnection } from './tcp-connection.js'

/**
 * A listening TCP socket. Every accepted socket runs the handshake; a verified
 * one is emitted as 'connection', a failed one as 'error' (the listener goes on).
 * At most `maxHandshakes` run at once, and at most `maxHandshakesPerAddress`
 * (`…PerSubnet`) from one source address (IPv4 /24, IPv6 /64); established
 * connections are bounded per source in the same way. A socket beyond a
 * limit is closed at once, with a `RateLimitError` emitted as 'error'.
 */
export class TcpListener extends EventEmitter<ListenerEvents> implements Listener {
  readonly [Symbol.toStringTag] = '@peerkit/transport-tcp:TcpListener'
  private readonly handshaking = new Set<Socket>()
  private readonly limits: ListenerLimits
  private closing: Promise<void> | undefined

  constructor(
    private readonly server: Server,
    /** The host it was asked to bind (`0.0.0.0` and `::` are expanded by `addresses()`). */
    private readonly host: string,
    upgrade: (socket: Socket) => Promise<TcpConnection>,
    options: ParsedTcpTransportOptions,
  ) {
    super()
    this.limits = new ListenerLimits(options, 'tcp')
    server.on('connection', (socket: Socket) => {
      if (this.closing) return void socket.destroy()
      const ip = sourceAddress(socket.remoteAddress)
      const refused = this.limits.startHandshake(ip, this.handshaking.size)
      if (refused !== undefined) return this.refuse(socket, refused)
      this.handshaking.add(socket)
      upgrade(socket).then(
        (conn) => {
          this.handshaking.delete(socket)
          this.limits.endHandshake(ip)
          if (this.closing) return void conn.close()
          this.limits.admit(this, conn, ip)
        },
        (err: Error) => {
          this.handshaking.delete(socket)
          this.limits.endHandshake(ip)
          if (!this.closing) this.emit('error', err)
        },
      )
    })
    server.on('error', (err) => this.emit('error', err))
  }

  private refuse(socket: Socket, why: string): void {
    socket.destroy()
    this.emit(
      'error',
      new RateLimitError(`refused a connection from ${socket.remoteAddress}:${socket.remotePort}: ${why}`),
    )
  }

  addresses(): string[] {
    const bound = this.server.address()
    if (bound === null || typeof bound === 'string') return []
    return reachableAddresses(this.host, bound.port)
  }

  /** Stops accepting and abandons handshakes in progress; established connections stay open. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      for (const socket of this.handshaking) socket.destroy()
      this.handshaking.clear()
      // server.close's callback waits for every accepted socket to end; the
      // listening socket itself is closed at once, and that is all we own.
      this.server.close()
      setImmediate(() => {
        this.emit('close')
        resolve()
      })
    })
    return this.closing
  }
}
