import type { Socket } from 'node:net'
import type { Clock } from '@peerkit/core'
import { ProtocolError } from '@peerkit/core'
import { WebSocket } from 'ws'
import { WireSocket } from './wire-socket.js'

/** What ws keeps private and this reads: the TCP socket, and the bytes its frame parser holds. */
interface WsInternals {
  _socket?: Socket
  _receiver?: { _bufferedBytes?: number }
}

/**
 * A `ws` WebSocket as a WireSocket. Pausing stops reading the TCP socket
 * (ws's `pause`). A message partly received is seen on the TCP socket's
 * `data` (before ws parses it) and in the bytes ws's parser still holds
 * after a whole message (ws's private `_receiver._bufferedBytes`; when a
 * later ws hides it, only the first case is seen): `partialSince` and the
 * `partial` event drive `messageTimeout`.
 */
export class NodeWireSocket extends WireSocket {
  readonly remote: string
  readonly remoteIp: string

  constructor(
    private readonly ws: WebSocket,
    private readonly clock: Clock,
    /** The TCP socket under the WebSocket (tests write around the WebSocket framing with it). */
    readonly raw: Socket,
    remoteIp: string,
  ) {
    super()
    this.remoteIp = remoteIp
    this.remote = `${remoteIp}:${raw.remotePort ?? 0}`
    raw.prependListener('data', this.onRawData)
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        this.emit('error', new ProtocolError(`${this.remote} sent a text WebSocket message`))
        ws.terminate()
        return
      }
      this.partialSince = 0
      this.receive(new Uint8Array(data.buffer, data.byteOffset, data.length))
      queueMicrotask(this.checkHeld)
    })
    ws.on('error', (err: Error) => this.emit('error', err))
    ws.on('close', () => {
      raw.off('data', this.onRawData)
      this.dropHeld()
      this.emit('close')
    })
  }

  private readonly onRawData = (): void => {
    if (this.partialSince === 0) {
      this.partialSince = this.clock.now()
      this.emit('partial')
    }
  }

  /** After a whole message: bytes of the next one may already wait in ws's parser. */
  private readonly checkHeld = (): void => {
    const held = (this.ws as unknown as WsInternals)._receiver?._bufferedBytes ?? 0
    if (held > 0 && this.partialSince === 0) {
      this.partialSince = this.clock.now()
      this.emit('partial')
    }
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN
  }

  send(data: Uint8Array): void {
    this.ws.send(data, { binary: true })
  }

  drained(limit: number): Promise<void> {
    const raw = (this.ws as unknown as WsInternals)._socket
    if (this.bufferedAmount < limit || !this.isOpen || !raw) return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => {
        raw.off('drain', done)
        this.ws.off('close', done)
        resolve()
      }
      raw.once('drain', done)
      this.ws.once('close', done)
    })
  }

  close(code = 1000, reason = ''): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING)
      this.ws.close(code, reason)
  }

  terminate(): void {
    this.ws.terminate()
  }

  protected pauseReading(): void {
    this.ws.pause()
  }

  protected resumeReading(): void {
    this.ws.resume()
  }
}
