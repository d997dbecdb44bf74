import { connect, type Socket } from 'node:net'
import {
  AbortError,
  type Clock,
  type Connection,
  type ConnectionPath,
  type Identity,
  type PeerId,
  PeerUnreachableError,
  TimeoutError,
} from '@peerkit/core'
import type { ParsedTcpTransportOptions } from '@peerkit/transport-tcp'
import { TcpConnection } from '@peerkit/transport-tcp/parts'
import { handshake, type Role } from '@peerkit/transport-tcp/secure'

export type { ConnectionPath }

/** A connection as the NAT transport made it: it knows its path. */
export type PathConnection = Connection & { readonly path: ConnectionPath }

/** Marks a connection with the path it took (core's `Connection.path`). */
export function withPath<C extends Connection>(
  conn: C,
  path: ConnectionPath,
): C & { readonly path: ConnectionPath } {
  Object.defineProperty(conn, 'path', { value: path, enumerable: true, configurable: true })
  return conn as C & { readonly path: ConnectionPath }
}

export function pathOf(conn: Connection): ConnectionPath {
  return (conn as Partial<PathConnection>).path ?? 'direct'
}

export interface SecureOptions {
  identity: Identity
  tcp: ParsedTcpTransportOptions
  clock: Clock
  /** The address to name in messages and as the connection's remoteAddress. */
  address: string
  expectedPeer?: PeerId
  signal?: AbortSignal
}

/**
 * Runs the `peerkit-tcp/1` handshake on a connected (and paused) socket and
 * wraps it in a `TcpConnection`: the same authentication and encryption as a
 * plain TCP connection, whichever way the socket was made (relayed, pushed,
 * hole-punched).
 */
export async function secure(
  socket: Socket,
  role: Role,
  path: ConnectionPath,
  o: SecureOptions,
): Promise<TcpConnection & { readonly path: ConnectionPath }> {
  const pending = handshake(socket, {
    role,
    identity: o.identity,
    cipher: o.tcp.cipher,
    offload: o.tcp.offload,
    clock: o.clock,
    timeout: o.tcp.handshakeTimeout,
    address: o.address,
    expectedPeer: o.expectedPeer,
    signal: o.signal,
  })
  socket.resume() // the handshake listens now; bytes pushed back by a preface reader flow to it
  const result = await pending
  const local = `${socket.localAddress ?? '?'}:${socket.localPort ?? 0}`
  const conn = new TcpConnection({
    id: `${path}:${local}>${o.address}`,
    socket,
    direction: role === 'initiator' ? 'outbound' : 'inbound',
    remotePeer: result.remotePeer,
    remoteAddress: o.address,
    sender: result.sender,
    receiver: result.receiver,
    leftover: result.leftover,
    options: o.tcp,
    clock: o.clock,
  })
  return withPath(conn, path)
}

export interface ConnectOptions {
  host: string
  port: number
  /** Bind this local port first (a hole punch reuses the port the relay observed). */
  localPort?: number
  clock: Clock
  timeout: number
  signal?: AbortSignal
  what: string
}

/** A connected raw socket, or `PeerUnreachableError` / `TimeoutError` / `AbortError`; paused. */
export function connectSocket(o: ConnectOptions): Promise<Socket> {
  return new Promise((resolve, reject) => {
    if (o.signal?.aborted) return reject(new AbortError(`${o.what} aborted`, { cause: o.signal.reason }))
    const socket = connect({
      host: o.host,
      port: o.port,
      noDelay: true,
      ...(o.localPort ? { localPort: o.localPort, localAddress: '0.0.0.0' } : {}),
    })
    socket.pause()
    const done = (err?: Error) => {
      o.clock.clearTimeout(timer)
      o.signal?.removeEventListener('abort', onAbort)
      socket.off('connect', onConnect)
      socket.off('error', onError)
      if (err) {
        socket.destroy()
        reject(err)
      } else resolve(socket)
    }
    const onConnect = () => done()
    const onError = (err: Error) =>
      done(
        new PeerUnreachableError(`${o.what}: cannot reach ${o.host}:${o.port}: ${err.message}`, {
          cause: err,
        }),
      )
    const onAbort = () => done(new AbortError(`${o.what} aborted`, { cause: o.signal?.reason }))
    const timer = o.clock.setTimeout(
      () =>
        done(
          new TimeoutError(`${o.what}: connecting to ${o.host}:${o.port} timed out after ${o.timeout} ms`),
        ),
      o.timeout,
    )
    socket.once('connect', onConnect)
    socket.once('error', onError)
    o.signal?.addEventListener('abort', onAbort, { once: true })
  })
}
