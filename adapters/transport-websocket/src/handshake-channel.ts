import type { HandshakeChannel } from '@peerkit/transport-tcp/secure'
import { EventEmitter } from 'eventemitter3'
import type { WireSocket } from './wire-socket.js'

interface ChannelEvents {
  data: [chunk: Uint8Array]
  error: [err: Error]
  close: []
}

/**
 * tcp's handshake over a WebSocket: each binary message is bytes of the
 * handshake's stream, each write one message. `pause` (the handshake is done)
 * pauses the socket, so what follows waits there for the connection.
 */
export class WebSocketHandshakeChannel extends EventEmitter<ChannelEvents> implements HandshakeChannel {
  constructor(private readonly socket: WireSocket) {
    super()
    socket.on('message', this.onMessage)
    socket.on('error', this.onError)
    socket.on('close', this.onClose)
    // What arrived before this channel existed (ws emits `open` and the first messages in one go)
    // waits in the socket; the handshake listens once this constructor has returned.
    queueMicrotask(() => socket.flush())
  }

  write(bytes: Uint8Array): void {
    if (this.socket.isOpen) this.socket.send(bytes)
  }

  pause(): void {
    this.socket.pause()
    this.detach()
  }

  destroy(): void {
    this.detach()
    this.socket.terminate()
  }

  private detach(): void {
    this.socket.off('message', this.onMessage)
    this.socket.off('error', this.onError)
    this.socket.off('close', this.onClose)
  }

  private readonly onMessage = (data: Uint8Array) => this.emit('data', data)
  private readonly onError = (err: Error) => this.emit('error', err)
  private readonly onClose = () => this.emit('close')
}
