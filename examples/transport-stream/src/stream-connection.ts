// src/stream-connection.ts
import {
  AbortError,
  type AbortOptions,
  type Clock,
  type Connection,
  ConnectionEmitter,
  type ManagedConnection,
  type PeerId,
  PeerUnreachableError,
  ProtocolError,
  throwIfAborted,
} from '@peerkit/core'
import type { RecordCipher } from '@peerkit/transport-tcp/secure'
import type { WebSocket } from 'ws'
import type { ResolvedStreamTransportOptions } from './options.js'

export interface StreamConnectionInit {
  id: string
  /** The WebSocket, once the handshake is done. */
  socket: WebSocket
  direction: 'inbound' | 'outbound'
  remotePeer: PeerId
  remoteAddress: string
  /** From the handshake: seals what this side sends, opens what the remote sends. */
  sender: RecordCipher
  receiver: RecordCipher
  /** Messages that arrived while the handshake finished, in order. */
  held: ReadonlyArray<[data: Buffer, isBinary: boolean]>
  options: ResolvedStreamTransportOptions
  clock: Clock
}

/**
 * One authenticated connection over a WebSocket: every peerkit message is one
 * binary WebSocket message holding one AEAD record (ciphertext ‖ tag) under
 * the keys of the handshake, so WebSocket framing replaces TCP's length
 * prefixes. `send` waits while more than `highWaterMark` bytes are not yet
 * written to the socket; reading pauses while nobody listens for messages
 * (or the Network asks it to).
 */
export class StreamConnection extends ConnectionEmitter implements Connection, ManagedConnection {
  readonly id: string
  readonly socket: WebSocket
  readonly direction: 'inbound' | 'outbound'
  readonly remotePeer: PeerId
  readonly remoteAddress: string
  private readonly sender: RecordCipher
  private readonly receiver: RecordCipher
  private readonly options: ResolvedStreamTransportOptions
  private readonly clock: Clock
  private readonly inbox: Uint8Array[] = []
  private readonly waiting: Array<() => void> = []
  private unflushed = 0
  private readingPaused = false
  private isClosed = false

  constructor(init: StreamConnectionInit) {
    super()
    this.id = init.id
    this.socket = init.socket
    this.direction = init.direction
    this.remotePeer = init.remotePeer
    this.remoteAddress = init.remoteAddress
    this.sender = init.sender
    this.receiver = init.receiver
    this.options = init.options
    this.clock = init.clock
    this.socket.on('message', (data: Buffer, isBinary: boolean) => this.onFrame(data, isBinary))
    this.socket.on('error', (err: Error & { code?: string }) => this.onSocketError(err))
    this.socket.on('close', (code: number) => this.onSocketClose(code))
    for (const [data, isBinary] of init.held) this.onFrame(data, isBinary)
    this.deliver()
  }

  get closed(): boolean {
    return this.isClosed
  }

  async send(data: Uint8Array, options: AbortOptions = {}): Promise<void> {
    throwIfAborted(options.signal)
    if (data.byteLength > this.options.maxMessageSize)
      throw new ProtocolError(
        `message of ${data.byteLength} bytes exceeds stream.maxMessageSize (${this.options.maxMessageSize})`,
      )
    if (!this.hasRoom()) {
      data = Uint8Array.from(data) // the caller may reuse its buffer as soon as send is called
      await this.room(options.signal)
    }
    if (this.isClosed) throw new PeerUnreachableError(`connection ${this.id} to ${this.remotePeer} is closed`)
    // offload is off: sealing is synchronous, so records leave in the order their nonces were taken.
    const record = Buffer.concat((this.sender.seal([data], data.byteLength) as Uint8Array[]).slice(1))
    this.unflushed += record.length
    this.socket.send(record, { binary: true }, () => {
      this.unflushed -= record.length
      this.wake()
    })
    this.wake() // the next waiting sender may fit as well
  }

  async close(err?: Error): Promise<void> {
    if (this.isClosed) return
    this.markClosed(err)
    await this.closeSocket(err ? 1011 : 1000)
  }

  pauseReading(): void {
    this.readingPaused = true
    this.socket.pause()
  }

  resumeReading(): void {
    this.readingPaused = false
    this.deliver()
  }

  protected onMessageListener(): void {
    this.deliver()
  }

  /** Opens one record; a text message or a record that fails its tag closes the connection. */
  private onFrame(data: Buffer, isBinary: boolean): void {
    if (this.isClosed) return
    if (!isBinary) {
      this.fail(new ProtocolError(`a text message from ${this.remotePeer}`))
      return
    }
    let plain: Uint8Array
    try {
      plain = this.receiver.open(data) as Uint8Array
    } catch (err) {
      this.fail(
        err instanceof ProtocolError ? err : new ProtocolError('a record failed to open', { cause: err }),
      )
      return
    }
    this.inbox.push(plain)
    this.deliver()
  }

  /** Hands held messages to listeners; reads the socket again once they are all delivered. */
  private deliver(): void {
    while (
      this.inbox.length > 0 &&
      !this.readingPaused &&
      this.listenerCount('message') > 0 &&
      !this.isClosed
    )
      this.emit('message', this.inbox.shift() as Uint8Array)
    if (this.inbox.length > 0 || this.readingPaused) this.socket.pause()
    else if (!this.isClosed) this.socket.resume()
  }

  private hasRoom(): boolean {
    return this.isClosed || (this.unflushed <= this.options.highWaterMark && this.waiting.length === 0)
  }

  private room(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const go = () => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }
      const onAbort = () => {
        const i = this.waiting.indexOf(go)
        if (i >= 0) this.waiting.splice(i, 1)
        reject(new AbortError('send aborted', { cause: signal?.reason }))
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.waiting.push(go)
    })
  }

  /** Lets the first waiting sender go when there is room (it passes the turn on after sending). */
  private wake(): void {
    if (this.waiting.length > 0 && (this.isClosed || this.unflushed <= this.options.highWaterMark))
      this.waiting.shift()?.()
  }

  private onSocketError(err: Error & { code?: string }): void {
    // ws names frame errors (an oversized or malformed frame) WS_ERR_*; anything else is the link.
    const wrapped = err.code?.startsWith('WS_ERR_')
      ? new ProtocolError(`bad frame from ${this.remotePeer}: ${err.message}`, { cause: err })
      : new PeerUnreachableError(`connection to ${this.remotePeer} failed: ${err.message}`, { cause: err })
    this.fail(wrapped)
  }

  private onSocketClose(code: number): void {
    if (this.isClosed) return
    const clean = code === 1000 || code === 1005
    this.markClosed(
      clean ? undefined : new PeerUnreachableError(`${this.remotePeer} closed with code ${code}`),
    )
  }

  private fail(err: Error): void {
    if (this.isClosed) return
    this.emit('error', err)
    this.markClosed(err)
    void this.closeSocket(err instanceof ProtocolError ? 1002 : 1011)
  }

  private markClosed(err?: Error): void {
    this.isClosed = true
    this.inbox.length = 0
    while (this.waiting.length > 0) this.waiting.shift()?.()
    this.emit('close', err)
  }

  /** Sends the close frame after what is queued; ends the socket if the other side does not answer. */
  private closeSocket(code: number): Promise<void> {
    const ws = this.socket
    if (ws.readyState === ws.CLOSED) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => {
        ws.terminate()
        resolve()
      }, this.options.closeTimeout)
      ws.once('close', () => {
        this.clock.clearTimeout(timer)
        resolve()
      })
      if (ws.readyState === ws.OPEN) ws.close(code)
    })
  }
}
