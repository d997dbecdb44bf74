// src/stream-transport.ts
import { createServer } from 'node:http'
import {
  AbortError,
  CLOCK,
  type Clock,
  type DialOptions,
  IDENTITY,
  type Identity,
  InvalidOptionsError,
  PeerUnreachableError,
  ProtocolError,
  TimeoutError,
  type Transport,
  throwIfAborted,
} from '@peerkit/core'
import { handshake, type Role, TAG_SIZE } from '@peerkit/transport-tcp'
import { inject, injectable } from 'tsyringe'
import { WebSocket, WebSocketServer } from 'ws'
import { formatStreamAddress, isStreamAddress, parseStreamAddress } from './address.js'
import { HandshakeSocket } from './handshake-socket.js'
import type { ResolvedStreamTransportOptions } from './options.js'
import { StreamConnection } from './stream-connection.js'
import { StreamListener } from './stream-listener.js'
import { STREAM_TRANSPORT_OPTIONS } from './tokens.js'

/**
 * A transport over WebSockets (the `ws` library): `ws://HOST:PORT`. Each
 * connection runs transport-tcp's handshake (X25519, both PeerIds proven by
 * Ed25519 signatures) over WebSocket messages, then carries one AEAD record
 * per message.
 */
@injectable()
export class StreamTransport implements Transport {
  readonly name = 'stream'
  private readonly listeners = new Set<StreamListener>()
  private readonly connections = new Set<StreamConnection>()
  private readonly pending = new Set<WebSocket>()
  private closed = false

  constructor(
    @inject(IDENTITY) private readonly identity: Identity,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(STREAM_TRANSPORT_OPTIONS) private readonly options: ResolvedStreamTransportOptions,
  ) {}

  handles(address: string): boolean {
    return isStreamAddress(address)
  }

  async listen(address: string): Promise<StreamListener> {
    const { host, port } = parseStreamAddress(address, true)
    if (this.closed)
      throw new InvalidOptionsError(`cannot listen on ${address}: the stream transport is closed`)
    const server = createServer()
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ host, port }, () => {
        server.off('error', reject)
        resolve()
      })
    }).catch((err: Error) => {
      throw new InvalidOptionsError(`cannot listen on ${address}: ${err.message}`, { cause: err })
    })
    const wss = new WebSocketServer({ noServer: true, ...this.wsOptions() })
    const listener = new StreamListener(server, wss, host, this.options.maxHandshakes, (ws, observed) =>
      this.upgrade(ws, new HandshakeSocket(ws), 'responder', observed),
    )
    this.listeners.add(listener)
    listener.once('close', () => this.listeners.delete(listener))
    return listener
  }

  async dial(address: string, options: DialOptions = {}): Promise<StreamConnection> {
    const { host, port } = parseStreamAddress(address)
    const { signal } = options
    throwIfAborted(signal)
    if (this.closed) throw new PeerUnreachableError(`cannot dial ${address}: the stream transport is closed`)
    // Masking (RFC 6455 §10.3) keeps a script from choosing the bytes a proxy sees; every message here is a
    // fresh public key or AEAD ciphertext already, so the mask is zero and ws skips two passes over each message.
    const ws = new WebSocket(formatStreamAddress(host, port), {
      ...this.wsOptions(),
      generateMask: (mask: Buffer) => mask.fill(0),
    })
    const shim = new HandshakeSocket(ws) // from the start: the listener's hello may come with the upgrade
    this.pending.add(ws)
    try {
      await new Promise<void>((resolve, reject) => {
        const done = (err?: Error) => {
          this.clock.clearTimeout(timer)
          signal?.removeEventListener('abort', onAbort)
          ws.off('open', onOpen)
          ws.off('error', onError)
          ws.off('unexpected-response', onResponse)
          if (err) {
            // Terminating a socket still connecting makes ws emit one more error: the dial's is `err`.
            ws.on('error', (late) => void late)
            ws.terminate()
            reject(err)
          } else resolve()
        }
        const onOpen = () => done()
        const onError = (err: Error) =>
          done(new PeerUnreachableError(`cannot reach ${address}: ${err.message}`, { cause: err }))
        const onResponse = () => done(new PeerUnreachableError(`${address} refused the WebSocket upgrade`))
        const onAbort = () => done(new AbortError(`dial ${address} aborted`, { cause: signal?.reason }))
        const timer = this.clock.setTimeout(
          () =>
            done(
              new TimeoutError(
                `connecting to ${address} timed out after ${this.options.handshakeTimeout} ms`,
              ),
            ),
          this.options.handshakeTimeout,
        )
        ws.once('open', onOpen)
        ws.once('error', onError)
        ws.once('unexpected-response', onResponse)
        signal?.addEventListener('abort', onAbort, { once: true })
      })
      return await this.upgrade(ws, shim, 'initiator', address, options)
    } finally {
      shim.detach()
      this.pending.delete(ws)
    }
  }

  /** Closes every listener and connection it made, and abandons dials and handshakes in progress. */
  async close(): Promise<void> {
    this.closed = true
    for (const ws of this.pending) ws.terminate()
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

  private wsOptions() {
    // A record is the message and its tag; ws refuses (WS_ERR_UNSUPPORTED_MESSAGE_LENGTH) anything longer.
    return { maxPayload: this.options.maxMessageSize + TAG_SIZE, perMessageDeflate: false }
  }

  /** Runs the handshake over the WebSocket's messages, then hands the socket to a connection. */
  private async upgrade(
    ws: WebSocket,
    shim: HandshakeSocket,
    role: Role,
    address: string,
    options: DialOptions = {},
  ): Promise<StreamConnection> {
    this.pending.add(ws)
    try {
      const handshaking = handshake(shim.asSocket(), {
        role,
        identity: this.identity,
        cipher: this.options.cipher,
        offload: false, // records are sealed synchronously, in send order
        clock: this.clock,
        timeout: this.options.handshakeTimeout,
        address,
        expectedPeer: options.peer,
        signal: options.signal,
      })
      shim.release() // the handshake listens now
      const result = await handshaking
      shim.detach()
      if (result.leftover.length > 0) {
        ws.terminate()
        throw new ProtocolError(`${address} sent a record inside its handshake message`)
      }
      if (this.closed) {
        ws.terminate()
        throw new PeerUnreachableError(`connection with ${address} abandoned: the stream transport is closed`)
      }
      const conn = new StreamConnection({
        id: `stream:${role === 'initiator' ? 'out' : 'in'}:${address}:${result.remotePeer.slice(0, 8)}`,
        socket: ws,
        direction: role === 'initiator' ? 'outbound' : 'inbound',
        remotePeer: result.remotePeer,
        remoteAddress: address,
        sender: result.sender,
        receiver: result.receiver,
        held: shim.held,
        options: this.options,
        clock: this.clock,
      })
      this.connections.add(conn)
      conn.once('close', () => this.connections.delete(conn))
      return conn
    } finally {
      shim.detach()
      this.pending.delete(ws)
    }
  }
}
