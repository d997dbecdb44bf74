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
} from '@peerkit/core'
import {
  type HandshakeChannel,
  type SecureConnectionInit,
  SecureTransport,
  TAG_SIZE,
} from '@peerkit/transport-tcp/secure'
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
 * per message. `SecureTransport` keeps the listeners, connections and
 * sockets in progress, closes them, and runs the handshake (`upgrade`); this
 * class opens the sockets and says how to kill one and what wraps it.
 */
@injectable()
export class StreamTransport extends SecureTransport<HandshakeSocket, StreamConnection> {
  readonly name = 'stream'

  constructor(
    @inject(IDENTITY) identity: Identity,
    @inject(CLOCK) clock: Clock,
    @inject(STREAM_TRANSPORT_OPTIONS) private readonly options: ResolvedStreamTransportOptions,
  ) {
    super(identity, clock, options)
  }

  handles(address: string): boolean {
    return isStreamAddress(address)
  }

  async listen(address: string): Promise<StreamListener> {
    const { host, port } = parseStreamAddress(address, true)
    this.assertCanListen(address)
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
    return this.adopt(
      new StreamListener(server, wss, host, this.options.maxHandshakes, (ws, observed) =>
        this.upgrade(new HandshakeSocket(ws), 'responder', observed),
      ),
    )
  }

  async dial(address: string, options: DialOptions = {}): Promise<StreamConnection> {
    const { host, port } = parseStreamAddress(address)
    const { signal } = options
    this.assertCanDial(address, signal)
    // Masking (RFC 6455 §10.3) keeps a script from choosing the bytes a proxy sees; every message here is a
    // fresh public key or AEAD ciphertext already, so the mask is zero and ws skips two passes over each message.
    const ws = new WebSocket(formatStreamAddress(host, port), {
      ...this.wsOptions(),
      generateMask: (mask: Buffer) => mask.fill(0),
    })
    const shim = new HandshakeSocket(ws) // from the start: the listener's hello may come with the upgrade
    this.pending.add(shim)
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
      return await this.upgrade(shim, 'initiator', address, options)
    } finally {
      shim.detach()
      this.pending.delete(shim)
    }
  }

  private wsOptions() {
    // A record is the message and its tag; ws refuses (WS_ERR_UNSUPPORTED_MESSAGE_LENGTH) anything longer.
    return { maxPayload: this.options.maxMessageSize + TAG_SIZE, perMessageDeflate: false }
  }

  /** Drops a WebSocket still connecting or handshaking. */
  protected kill(shim: HandshakeSocket): void {
    shim.destroy()
  }

  /** The handshake reads the WebSocket's messages through the shim; what arrived early goes first. */
  protected channel(shim: HandshakeSocket): HandshakeChannel {
    queueMicrotask(() => shim.release()) // the handshake listens by then
    return shim
  }

  /** The handshake succeeded: the connection takes the WebSocket and what arrived after the handshake. */
  protected connect(init: SecureConnectionInit<HandshakeSocket>): StreamConnection {
    const shim = init.socket
    shim.detach()
    if (init.leftover.length > 0) {
      shim.destroy()
      throw new ProtocolError(`${init.remoteAddress} sent a record inside its handshake message`)
    }
    return new StreamConnection({
      ...init,
      id: `stream:${init.direction === 'outbound' ? 'out' : 'in'}:${init.remoteAddress}:${init.remotePeer.slice(0, 8)}`,
      socket: shim.ws,
      held: shim.held,
      options: this.options,
    })
  }
}
