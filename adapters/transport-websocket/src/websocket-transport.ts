import { CLOCK, type Clock, type DialOptions, IDENTITY, type Identity, type Listener } from '@peerkit/core'
import {
  type HandshakeChannel,
  type SecureConnectionInit,
  SecureTransport,
} from '@peerkit/transport-tcp/secure'
import { inject, injectable } from 'tsyringe'
import { formatWebSocketAddress, isWebSocketAddress, parseWebSocketAddress } from './address.js'
import { WebSocketHandshakeChannel } from './handshake-channel.js'
import type { ParsedWebSocketTransportOptions } from './options.js'
import { dialSocket, listenWebSockets } from './platform.js'
import { WEBSOCKET_TRANSPORT_OPTIONS } from './tokens.js'
import { WebSocketConnection } from './websocket-connection.js'
import type { WireSocket } from './wire-socket.js'

let nextId = 0

/**
 * WebSockets: `ws://HOST:PORT[/PATH]` (and `wss://` to dial). On Node it
 * listens and dials (the `ws` library); in a browser tab it dials with the
 * page's WebSocket. Every connection runs tcp's `peerkit-tcp/1` handshake
 * (both PeerIds proven with Ed25519 over X25519) and carries AEAD records,
 * one per WebSocket message; the lifecycle is tcp's `SecureTransport`.
 */
@injectable()
export class WebSocketTransport extends SecureTransport<WireSocket, WebSocketConnection> {
  readonly [Symbol.toStringTag] = '@peerkit/transport-websocket'
  readonly name = 'ws'

  constructor(
    @inject(IDENTITY) identity: Identity,
    @inject(CLOCK) clock: Clock,
    @inject(WEBSOCKET_TRANSPORT_OPTIONS) private readonly options: ParsedWebSocketTransportOptions,
  ) {
    super(identity, clock, options)
  }

  handles(address: string): boolean {
    return isWebSocketAddress(address)
  }

  async listen(address: string): Promise<Listener> {
    const parsed = parseWebSocketAddress(address, true)
    this.assertCanListen(address)
    const listener = await listenWebSockets(
      parsed,
      address,
      (socket) => this.upgrade(socket, 'responder', `ws://${socket.remote}`),
      this.options,
      this.clock,
    )
    return this.adopt(listener)
  }

  async dial(address: string, options: DialOptions = {}): Promise<WebSocketConnection> {
    const parsed = parseWebSocketAddress(address)
    this.assertCanDial(address, options.signal)
    const socket = await dialSocket(formatWebSocketAddress(parsed), address, {
      signal: options.signal,
      timeout: this.options.handshakeTimeout,
      maxPayload: this.options.maxMessageSize + 64,
      clock: this.clock,
    })
    return this.upgrade(socket, 'initiator', address, options)
  }

  protected kill(socket: WireSocket): void {
    socket.terminate()
  }

  protected channel(socket: WireSocket): HandshakeChannel {
    return new WebSocketHandshakeChannel(socket)
  }

  protected connect(init: SecureConnectionInit<WireSocket>): WebSocketConnection {
    return new WebSocketConnection({
      ...init,
      id: `ws:${nextId++}:${init.socket.remote}`,
      options: this.options,
    })
  }
}
