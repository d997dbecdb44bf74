import { connect } from 'node:net'
import {
  type Clock,
  type Connection,
  type DialOptions,
  type Identity,
  type Listener,
  PeerUnreachableError,
  type Transport,
} from '@peerkit/core'
import { parseTcpAddress, parseTcpTransportOptions } from '@peerkit/transport-tcp'
import { TcpConnection } from '@peerkit/transport-tcp/parts'
import { handshake } from '@peerkit/transport-tcp/secure'

/**
 * A dial-only TCP transport whose sockets leave from a chosen local address
 * (`127.0.0.2`, `127.0.1.5` …: on Linux all of 127.0.0.0/8 is loopback), so a
 * test can be many source addresses and address ranges at once. It speaks
 * the real `peerkit-tcp/1` handshake (transport-tcp's own `handshake` and
 * `TcpConnection`); transport-tcp has no option for the local address.
 */
export class BoundTcpTransport implements Transport {
  readonly name = 'tcp'
  private readonly options = parseTcpTransportOptions({})
  private readonly open = new Set<Connection>()

  constructor(
    private readonly identity: Identity,
    private readonly clock: Clock,
    readonly localAddress: string,
  ) {}

  handles(address: string): boolean {
    return address.startsWith('tcp://')
  }

  listen(address: string): Promise<Listener> {
    return Promise.reject(
      new PeerUnreachableError(`BoundTcpTransport only dials (asked to listen on ${address})`),
    )
  }

  async dial(address: string, options: DialOptions = {}): Promise<Connection> {
    const { host, port } = parseTcpAddress(address)
    const socket = connect({ host, port, localAddress: this.localAddress, noDelay: true })
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve())
      socket.once('error', (err) =>
        reject(new PeerUnreachableError(`cannot reach ${address} from ${this.localAddress}: ${err.message}`)),
      )
    })
    const result = await handshake(socket, {
      role: 'initiator',
      identity: this.identity,
      cipher: this.options.cipher,
      offload: false,
      clock: this.clock,
      timeout: this.options.handshakeTimeout,
      address,
      expectedPeer: options.peer,
      signal: options.signal,
    })
    const conn = new TcpConnection({
      id: `bound:${this.localAddress}:${socket.localPort}>${host}:${port}`,
      socket,
      direction: 'outbound',
      remotePeer: result.remotePeer,
      remoteAddress: address,
      sender: result.sender,
      receiver: result.receiver,
      leftover: result.leftover,
      options: this.options,
      clock: this.clock,
    })
    this.open.add(conn)
    conn.once('close', () => this.open.delete(conn))
    return conn
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.open].map((c) => c.close()))
  }

  dispose(): Promise<void> {
    return this.close()
  }
}
