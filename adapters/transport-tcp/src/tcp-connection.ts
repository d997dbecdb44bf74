import type { Socket } from 'node:net'
import {
  type AbortOptions,
  type Clock,
  type Connection,
  ConnectionEmitter,
  type ManagedConnection,
  type MemoryScope,
  type PeerId,
  PeerUnreachableError,
  ProtocolError,
  type TimerHandle,
  throwIfAborted,
} from '@peerkit/core'
import { FrameReader } from './frame-reader.js'
import { Backlog, RecordOpener } from './inbox.js'
import { MAX_RECORD_SIZE, type ParsedTcpTransportOptions } from './options.js'
import { registerRawWire } from './raw-wire.js'
import { TAG_SIZE } from './record-cipher.js'
import { RecordWriter } from './record-writer.js'
import type { SecureConnectionInit } from './secure-transport.js'

export interface TcpConnectionInit extends SecureConnectionInit<Socket> {
  id: string
  options: ParsedTcpTransportOptions
}

/**
 * One authenticated, encrypted TCP connection. Messages travel as
 * length-prefixed frames inside a stream of AEAD records; what is sent is
 * bounded by `highWaterMark` end to end.
 */
export class TcpConnection extends ConnectionEmitter implements Connection, ManagedConnection {
  readonly [Symbol.toStringTag] = '@peerkit/transport-tcp:TcpConnection'
  readonly id: string
  readonly remotePeer: PeerId
  readonly remoteAddress: string
  readonly direction: 'inbound' | 'outbound'

  private readonly socket: Socket
  private readonly options: ParsedTcpTransportOptions
  private readonly clock: Clock
  private readonly records = new FrameReader(MAX_RECORD_SIZE + TAG_SIZE, true, 'record')
  private readonly messages: FrameReader
  private readonly socketClosed: Promise<void>

  /** Sending: message frames → sealed records → socket, bounded by highWaterMark. */
  private readonly writer: RecordWriter

  // Receiving: socket → records being opened (in order) → frames → 'message' (or the backlog).
  private readonly opening: RecordOpener
  private paused = false
  /** The owner asked not to be given messages (its answers to this peer are not drained). */
  private readPaused = false
  private remoteEnded = false
  /** Where the bytes held are reported (the Network's memory budget). */
  private scope: MemoryScope | undefined
  /** When the message partly received now began to arrive, and the timer bounding it. */
  private partialSince = 0
  private partialTimer: TimerHandle | undefined
  // Messages that wait for a listener or for reading to resume.
  private readonly backlog: Backlog

  private state: 'open' | 'closing' | 'closed' = 'open'

  constructor(init: TcpConnectionInit) {
    super()
    this.id = init.id
    this.socket = init.socket
    this.direction = init.direction
    this.remotePeer = init.remotePeer
    this.remoteAddress = init.remoteAddress
    this.options = init.options
    this.clock = init.clock
    this.messages = new FrameReader(init.options.maxMessageSize, false, 'message')
    this.opening = new RecordOpener(init.receiver, {
      opened: (plain) => this.deliver(plain),
      settled: () => this.openedAll(),
      failed: (err) => this.terminate(err, true),
      stopped: () => this.terminated,
    })
    this.backlog = new Backlog(this, {
      open: () => this.state === 'open',
      paused: () => this.readPaused,
      drained: () => {
        if (this.state === 'open') {
          this.flow()
          this.account()
        }
      },
    })
    this.socketClosed = new Promise((resolve) => {
      if (this.socket.destroyed) resolve()
      else this.socket.once('close', () => resolve())
    })
    this.socket.on('error', this.onError)
    this.socket.on('end', this.onEnd)
    this.socket.on('close', this.onClose)
    this.writer = new RecordWriter(
      this.socket,
      init.sender,
      init.options.recordSize,
      init.options.highWaterMark,
      {
        fail: (err) => this.terminate(err, true),
        flushed: () => this.endIfFlushed(),
        moved: () => this.account(),
      },
    )
    registerRawWire(this, this.socket, init.sender)
    // Start reading on the next turn of the event loop, so whoever gets this
    // connection (a `dial` caller after its `await`, a 'connection' listener)
    // attaches its 'message' listener first.
    setImmediate(() => {
      if (this.terminated) return
      if (init.leftover.length > 0) this.onData(init.leftover)
      if (this.terminated) return
      if (this.socket.destroyed) {
        // It died between the handshake and now: nothing more will come.
        this.onClose()
        return
      }
      this.socket.on('data', this.onData)
      if (!this.paused) this.socket.resume()
    })
  }

  private get terminated(): boolean {
    return this.state === 'closed'
  }

  get closed(): boolean {
    return this.state !== 'open'
  }

  /** Bytes held for sending: plaintext, records being sealed, and the socket's buffer. */
  get bufferedAmount(): number {
    return this.writer.bufferedAmount
  }

  async send(data: Uint8Array, options: AbortOptions = {}): Promise<void> {
    if (this.state !== 'open') throw new PeerUnreachableError(`connection to ${this.remotePeer} is closed`)
    if (data.length > this.options.maxMessageSize) {
      throw new ProtocolError(
        `message of ${data.length} bytes exceeds the maximum of ${this.options.maxMessageSize}`,
      )
    }
    throwIfAborted(options.signal)
    const written = this.writer.write(data, options.signal)
    this.account()
    await written
  }

  /** Stops delivering messages, and reading the socket, until `resumeReading` (backpressure from the owner). */
  pauseReading(): void {
    if (this.readPaused) return
    this.readPaused = true
    this.flow()
  }

  resumeReading(): void {
    if (!this.readPaused) return
    this.readPaused = false
    if (this.backlog.length > 0) queueMicrotask(this.backlog.drain)
    else this.flow()
  }

  useMemoryScope(scope: MemoryScope): void {
    this.scope = scope
    this.account()
  }

  /** Bytes held: records and messages partly received, being decrypted or not yet delivered, and sends. */
  private account(): void {
    this.scope?.setTransport(
      this.state === 'closed'
        ? 0
        : this.records.retained +
            this.opening.bytes +
            this.messages.pending +
            this.backlog.bytes +
            this.writer.bufferedAmount,
    )
  }

  async close(err?: Error): Promise<void> {
    if (this.state === 'open') {
      if (err) {
        this.terminate(err, false)
      } else {
        this.state = 'closing'
        this.rejectWaiters()
        this.emit('close')
        const timer = this.clock.setTimeout(() => this.socket.destroy(), this.options.closeTimeout)
        void this.socketClosed.then(() => this.clock.clearTimeout(timer))
        this.endIfFlushed()
      }
    }
    await this.socketClosed
  }

  private endIfFlushed(): void {
    if (this.state === 'closing' && this.writer.idle && !this.socket.writableEnded) this.socket.end()
  }

  private readonly onData = (chunk: Uint8Array): void => {
    if (this.terminated) return
    try {
      this.records.push(chunk, this.onRecord)
    } catch (err) {
      this.terminate(err as Error, true)
      return
    }
    this.flow()
    this.account()
  }

  /** One record's body (valid only during the call); false stops reading. */
  private readonly onRecord = (body: Uint8Array): boolean => {
    this.opening.open(body)
    return !this.terminated
  }

  /** Stops reading while decryption or undelivered messages hold highWaterMark; reads again below half. */
  private flow(): void {
    const hwm = this.options.highWaterMark
    const { opening, backlog } = this
    if (!this.paused && (this.readPaused || opening.bytes >= hwm || backlog.bytes >= hwm)) {
      this.paused = true
      this.socket.pause()
    } else if (this.paused && !this.readPaused && opening.bytes < hwm / 2 && backlog.bytes < hwm / 2) {
      this.paused = false
      this.socket.resume()
    }
  }

  /** Records opened off the main thread were passed on. */
  private openedAll(): void {
    this.flow()
    this.account()
    if (this.remoteEnded && this.opening.length === 0) this.terminate(undefined, false)
  }

  private deliver(plain: Uint8Array): void {
    if (this.state !== 'open') return
    const wasPartial = this.messages.pending > 0
    this.completed = false
    try {
      this.messages.push(plain, this.onMessage)
    } catch (err) {
      this.terminate(err as Error, true)
      return
    }
    if (this.messages.pending === 0) this.partialSince = 0
    else if (!wasPartial || this.completed) this.startPartial()
    if (this.backlog.length > 0) this.flow()
  }

  /** A message has begun to arrive: it must be whole within `messageTimeout`. */
  private startPartial(): void {
    this.partialSince = this.clock.now()
    this.partialTimer ??= this.clock.setTimeout(this.checkPartial, this.options.messageTimeout)
  }

  private readonly checkPartial = (): void => {
    this.partialTimer = undefined
    if (this.state !== 'open' || this.partialSince === 0) return
    const age = this.clock.now() - this.partialSince
    if (age < this.options.messageTimeout) {
      this.partialTimer = this.clock.setTimeout(this.checkPartial, this.options.messageTimeout - age)
      return
    }
    this.terminate(
      new ProtocolError(
        `${this.remotePeer} (${this.remoteAddress}) sent ${this.messages.pending} bytes of a message and not the rest within ${this.options.messageTimeout} ms (tcp.messageTimeout)`,
      ),
      true,
    )
  }

  /** A message completed during the current `deliver`. */
  private completed = false

  /** One whole message; false once the connection closed (stop decoding). */
  private readonly onMessage = (frame: Uint8Array): boolean => {
    this.completed = true
    return this.backlog.offer(frame) || this.state === 'open'
  }

  protected override onMessageListener(): void {
    this.backlog.heard()
  }

  private readonly onError = (err: Error): void => {
    this.terminate(
      new PeerUnreachableError(
        `connection to ${this.remotePeer} (${this.remoteAddress}) failed: ${err.message}`,
        {
          cause: err,
        },
      ),
      true,
    )
  }

  private readonly onEnd = (): void => {
    this.remoteEnded = true
    if (this.opening.length === 0) this.terminate(undefined, false)
  }

  private readonly onClose = (): void => {
    // Records still being decrypted are delivered first (see deliverOpened).
    this.remoteEnded = true
    if (this.opening.length === 0 || this.state !== 'open') this.terminate(undefined, false)
  }

  private rejectWaiters(cause?: Error): void {
    this.writer.rejectWaiters(
      () =>
        new PeerUnreachableError(`connection to ${this.remotePeer} closed before the message was sent`, {
          cause,
        }),
    )
  }

  /**
   * Closes for good: `error` (when `report`) then `close`, once. A clean
   * remote close ends our side gracefully; anything else destroys the socket.
   */
  private terminate(err: Error | undefined, report: boolean): void {
    const wasOpen = this.state === 'open'
    if (this.terminated) return
    this.state = 'closed'
    this.rejectWaiters(err)
    this.writer.stop()
    this.opening.clear()
    this.backlog.clear()
    if (this.partialTimer !== undefined) this.clock.clearTimeout(this.partialTimer)
    this.partialTimer = undefined
    this.account()
    this.socket.off('data', this.onData)
    if (err) this.socket.destroy()
    else if (!this.socket.writableEnded) this.socket.end()
    if (wasOpen) {
      if (err && report) this.emit('error', err)
      this.emit('close', err)
    }
  }
}
