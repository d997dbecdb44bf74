// src/handshake-socket.ts

import { EventEmitter } from 'node:events'
import type { HandshakeChannel } from '@peerkit/transport-tcp/secure'
import type { WebSocket } from 'ws'

/**
 * Lets transport-tcp's `handshake()` run over a WebSocket: what it reads
 * (`data`, `error`, `close`) and calls (`write`, `pause`, `destroy`), mapped
 * to WebSocket messages. Binary messages that arrive once the handshake has
 * paused the socket are kept in `held`, in order, for the connection. Made
 * as soon as the WebSocket exists, it keeps what arrives before the handshake
 * listens (ws emits `open` and the first messages in one go) until `release`.
 */
export class HandshakeSocket extends EventEmitter implements HandshakeChannel {
  readonly held: Array<[data: Buffer, isBinary: boolean]> = []
  private early: Array<[data: Buffer, isBinary: boolean]> | undefined = []
  private paused = false

  constructor(readonly ws: WebSocket) {
    super()
    ws.on('message', this.onMessage)
    ws.on('error', this.onError)
    ws.on('close', this.onClose)
  }

  write(data: Uint8Array): boolean {
    this.ws.send(data, { binary: true })
    return true
  }

  pause(): this {
    this.paused = true
    this.ws.pause()
    return this
  }

  destroy(): this {
    this.ws.terminate()
    return this
  }

  /** Hands what arrived early to the handshake, which listens now. */
  release(): void {
    const early = this.early ?? []
    this.early = undefined
    for (const [data, isBinary] of early) this.onMessage(data, isBinary)
  }

  /** Stops listening to the WebSocket: the connection takes over. */
  detach(): void {
    this.ws.off('message', this.onMessage)
    this.ws.off('error', this.onError)
    this.ws.off('close', this.onClose)
  }

  private readonly onMessage = (data: Buffer, isBinary: boolean) => {
    if (this.early) this.early.push([data, isBinary])
    else if (this.paused) this.held.push([data, isBinary])
    else if (!isBinary) this.onError(new Error('a text message during the handshake'))
    else this.emit('data', data)
  }

  // Before the handshake listens, the dial itself hears errors and closes of the WebSocket.
  private readonly onError = (err: Error) => {
    if (this.listenerCount('error') > 0) this.emit('error', err)
  }
  private readonly onClose = () => this.emit('close')
}
