import {
  CLOCK,
  type Clock,
  type DialOptions,
  IDENTITY,
  type Identity,
  InvalidOptionsError,
  type Listener,
  PeerUnreachableError,
  type Transport,
  throwIfAborted,
} from '@peerkit/core'
import { handshake, type Role } from '@peerkit/transport-tcp/secure'
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
 * one per WebSocket message.
 */
@injectable()
export class WebSocketTransport implements Transport {
  readonly [Symbol.toStringTag] = '@peerkit/transport-websocket'
  readonly name = 'ws'
  private readonly listeners = new Set<Listener>()
  private readonly connections = new Set<WebSocketConnection>()
  private readonly pending = new Set<WireSocket>()
  private closed = false

  constructor(
    @inject(IDENTITY) private readonly identity: Identity,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(WEBSOCKET_TRANSPORT_OPTIONS) private readonly options: ParsedWebSocketTransportOptions,
  ) {}

  handles(address: string): boolean {
    return isWebSocketAddress(address)
  }

  async listen(address: string): Promise<Listener> {
    const parsed = parseWebSocketAddress(address, true)
    if (this.closed) throw new InvalidOptionsError(`cannot listen on ${address}: the ws transport is closed`)
    const listener = await listenWebSockets(
      parsed,
      address,
      (socket) => this.upgrade(socket, 'responder', `ws://${socket.remote}`),
      this.options,
      this.clock,
    )
    this.listeners.add(listener)
    listener.once('close', () => this.listeners.delete(listener))
    return listener
  }

  async dial(address: string, options: DialOptions = {}): Promise<WebSocketConnection> {
    const parsed = parseWebSocketAddress(address)
    throwIfAborted(options.signal)
    if (this.closed) throw new PeerUnreachableError(`cannot dial ${address}: the ws transport is closed`)
    const socket = await dialSocket(formatWebSocketAddress(parsed), address, {
      signal: options.signal,
      timeout: this.options.handshakeTimeout,
      maxPayload: this.options.maxMessageSize + 64,
      clock: this.clock,
    })
    return this.upgrade(socket, 'initiator', address, options)
  }

  async close(): Promise<void> {
    this.closed = true
    for (const socket of this.pending) socket.terminate()
    this.pending.clear()
    await Promise.allSettled([
      ...[...this.listeners].map((l) => l.close()),
      ...[...this.connections].map((c) => c.close()),
    ])
  }

  dispose(): Promise<void> {
    return this.close()
  }

  private async upgrade(
    socket: WireSocket,
    role: Role,
    address: string,
    options: DialOptions = {},
  ): Promise<WebSocketConnection> {
    this.pending.add(socket)
    try {
      const result = await handshake(new WebSocketHandshakeChannel(socket), {
        role,
        identity: this.identity,
        cipher: this.options.cipher,
        offload: false,
        clock: this.clock,
        timeout: this.options.handshakeTimeout,
        address,
        expectedPeer: options.peer,
        signal: options.signal,
      })
      if (this.closed) {
        socket.terminate()
        throw new PeerUnreachableError(`connection with ${address} abandoned: the ws transport is closed`)
      }
      const conn = new WebSocketConnection({
        id: `ws:${nextId++}:${socket.remote}`,
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
      conn.once('close', () => this.connections.delete(conn))
      return conn
    } finally {
      this.pending.delete(socket)
    }
  }
}
