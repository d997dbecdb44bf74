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
} from '@peerkit/core'
import { inject, injectable } from 'tsyringe'
import { formatTcpAddress, isTcpAddress, parseTcpAddress } from './address.js'
import type { HandshakeChannel } from './handshake.js'
import type { ParsedTcpTransportOptions } from './options.js'
import { type SecureConnectionInit, SecureTransport } from './secure-transport.js'
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
export class TcpTransport extends SecureTransport<Socket, TcpConnection> {
  readonly [Symbol.toStringTag] = '@peerkit/transport-tcp'
  readonly name = 'tcp'

  constructor(
    @inject(IDENTITY) identity: Identity,
    @inject(CLOCK) clock: Clock,
    @inject(TCP_TRANSPORT_OPTIONS) private readonly options: ParsedTcpTransportOptions,
  ) {
    super(identity, clock, options)
  }

  handles(address: string): boolean {
    return isTcpAddress(address)
  }

  async listen(address: string): Promise<TcpListener> {
    const { host, port } = parseTcpAddress(address, true)
    this.assertCanListen(address)
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
    return this.adopt(
      new TcpListener(
        server,
        host,
        (socket) => this.upgrade(socket, 'responder', observedAddress(socket)),
        this.options,
      ),
    )
  }

  async dial(address: string, options: DialOptions = {}): Promise<TcpConnection> {
    const { host, port } = parseTcpAddress(address)
    const { signal } = options
    this.assertCanDial(address, signal)
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

  protected kill(socket: Socket): void {
    socket.destroy()
  }

  /** A node:net Socket is a handshake channel as it is. */
  protected channel(socket: Socket): HandshakeChannel {
    return socket
  }

  /** The socket's close, not the connection's 'close' (emitted as it begins closing), ends its tracking. */
  protected override untilGone(socket: Socket, _conn: TcpConnection, gone: () => void): void {
    socket.once('close', gone)
  }

  protected connect(init: SecureConnectionInit<Socket>): TcpConnection {
    const { socket } = init
    return new TcpConnection({
      ...init,
      id: `tcp:${formatTcpAddress(socket.localAddress ?? '?', socket.localPort ?? 0).slice(6)}>${observedAddress(socket).slice(6)}`,
      options: this.options,
    })
  }
}
