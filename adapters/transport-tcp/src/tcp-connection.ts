import type { Socket } from 'node:net'
import {
  AbortError,
  type AbortOptions,
  type Clock,
  type Connection,
  type ConnectionEvents,
  FRAME_HEADER_SIZE,
  frameHeader,
  type PeerId,
  PeerUnreachableError,
  ProtocolError,
  throwIfAborted,
} from '@peerkit/core'
import { EventEmitter } from 'eventemitter3'
import { Deque } from './deque.js'
import { FrameReader } from './frame-reader.js'
import { MAX_RECORD_SIZE, type ParsedTcpTransportOptions } from './options.js'
import { type RecordCipher, TAG_SIZE } from './record-cipher.js'

/** The message length in a frame header. */
function frameLength(header: Uint8Array): number {
  return new DataView(header.buffer, header.byteOffset, FRAME_HEADER_SIZE).getUint32(0)
}

/** Messages smaller than this wait for the next turn of the event loop, to share a record. */
export const COALESCE_BELOW = 16 * 1024

/** Records being encrypted (or decrypted) at once, at most: enough to keep the thread pool busy. */
export const MAX_IN_FLIGHT = 4

export interface TcpConnectionInit {
  id: string
  socket: Socket
  direction: 'inbound' | 'outbound'
  remotePeer: PeerId
  remoteAddress: string
  sender: RecordCipher
  receiver: RecordCipher
  /** Record bytes that arrived with the handshake's last record. */
  leftover: Uint8Array
  options: ParsedTcpTransportOptions
  clock: Clock
}

interface Job<T> {
  /** Bytes it holds (plaintext to seal, or a record to open). */
  bytes: number
  result?: T
}

interface Waiter {
  data: Uint8Array
  resolve: () => void
  reject: (err: Error) => void
}

/**
 * One authenticated, encrypted TCP connection. Messages travel as
 * length-prefixed frames inside a stream of AEAD records; what is sent is
 * bounded by `highWaterMark` end to end.
 */
export class TcpConnection extends EventEmitter<ConnectionEvents> implements Connection {
  readonly [Symbol.toStringTag] = '@peerkit/transport-tcp:TcpConnection'
  readonly id: string
  readonly remotePeer: PeerId
  readonly remoteAddress: string
  readonly direction: 'inbound' | 'outbound'

  private readonly socket: Socket
  private readonly sender: RecordCipher
  private readonly receiver: RecordCipher
  private readonly options: ParsedTcpTransportOptions
  private readonly clock: Clock
  private readonly records = new FrameReader(MAX_RECORD_SIZE + TAG_SIZE, true, 'record')
  private readonly messages: FrameReader
  private readonly socketClosed: Promise<void>

  // Sending: plaintext frames → records being sealed (in order) → socket.
  private readonly plain = new Deque<Uint8Array>()
  /** The frame headers among `plain`'s pieces. */
  private readonly headers = new WeakSet<Uint8Array>()
  private plainBytes = 0
  private readonly sealing = new Deque<Job<Uint8Array[]>>()
  private sealingBytes = 0
  private readonly waiters = new Deque<Waiter>()
  private pumping = false
  private pumpScheduled = false

  // Receiving: socket → records being opened (in order) → frames → 'message'.
  private readonly opening = new Deque<Job<Uint8Array>>()
  private openingBytes = 0
  private paused = false
  private remoteEnded = false
  // Messages that arrived before anyone listened for them.
  private readonly backlog = new Deque<Uint8Array>()
  private backlogBytes = 0

  private state: 'open' | 'closing' | 'closed' = 'open'

  constructor(init: TcpConnectionInit) {
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
    this.messages = new FrameReader(init.options.maxMessageSize, false, 'message')
    this.socketClosed = new Promise((resolve) => {
      if (this.socket.destroyed) resolve()
      else this.socket.once('close', () => resolve())
    })
    this.socket.on('error', this.onError)
    this.socket.on('end', this.onEnd)
    this.socket.on('close', this.onClose)
    this.socket.on('drain', this.wake)
    registerRawWire(this, this.socket, this.sender)
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
    return this.plainBytes + this.sealingBytes + this.socket.writableLength
  }

  async send(data: Uint8Array, options: AbortOptions = {}): Promise<void> {
    if (this.state !== 'open') throw new PeerUnreachableError(`connection to ${this.remotePeer} is closed`)
    if (data.length > this.options.maxMessageSize) {
      throw new ProtocolError(
        `message of ${data.length} bytes exceeds the maximum of ${this.options.maxMessageSize}`,
      )
    }
    throwIfAborted(options.signal)
    if (this.waiters.length === 0 && this.bufferedAmount < this.options.highWaterMark) {
      this.enqueue(data, false)
      return
    }
    const { signal } = options
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        // The caller may reuse its buffer as soon as send returns.
        data: data.slice(),
        resolve: () => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort)
          reject(err)
        },
      }
      const onAbort = () => {
        this.waiters.remove(waiter)
        reject(new AbortError('send aborted', { cause: signal?.reason }))
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.waiters.push(waiter)
    })
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

  /**
   * Queues one message. A small one is copied (with its frame header, into
   * Node's buffer pool) and sealed on the next turn of the event loop, so
   * that messages sent meanwhile share its record; a large one is sealed at
   * once, together with whatever small ones wait before it, and whatever of
   * the caller's buffer (`owned` false) is still queued after that is copied.
   * Either way the caller may reuse its buffer as soon as `send` returns
   * (records sealed on the thread pool copy their input when submitted).
   */
  private enqueue(data: Uint8Array, owned: boolean): void {
    if (data.length < COALESCE_BELOW) {
      const frame = Buffer.allocUnsafe(FRAME_HEADER_SIZE + data.length)
      frame.writeUInt32BE(data.length, 0)
      frame.set(data, FRAME_HEADER_SIZE)
      this.headers.add(frame)
      this.plain.push(frame)
      this.plainBytes += frame.length
      if (!this.pumpScheduled) {
        this.pumpScheduled = true
        setImmediate(this.scheduledPump)
      }
      return
    }
    const header = frameHeader(data.length)
    this.headers.add(header)
    this.plain.push(header)
    this.plain.push(data)
    this.plainBytes += data.length + FRAME_HEADER_SIZE
    this.pump()
    const last = this.plain.last()
    if (!owned && last !== undefined && last !== header) this.plain.replaceLast(last.slice())
  }

  private readonly scheduledPump = (): void => {
    this.pumpScheduled = false
    this.pump()
  }

  /** Seals queued plaintext into records, up to MAX_IN_FLIGHT at once. */
  private pump(): void {
    if (this.pumping) return
    this.pumping = true
    try {
      do {
        this.sealRecords()
        this.flush()
      } while (this.plainBytes > 0 && this.sealing.length < MAX_IN_FLIGHT && !this.terminated)
    } finally {
      this.pumping = false
    }
  }

  private sealRecords(): void {
    const { recordSize } = this.options
    while (this.plainBytes > 0 && this.sealing.length < MAX_IN_FLIGHT && !this.terminated) {
      const pieces: Uint8Array[] = []
      let n = 0
      while (n < recordSize && this.plain.length > 0) {
        const p = this.plain.first() as Uint8Array
        // A message that would straddle two records starts the next one instead, so the receiver
        // finds it whole in one record's plaintext and delivers it without gathering it.
        if (n > 0 && this.headers.has(p) && n + FRAME_HEADER_SIZE + frameLength(p) > recordSize) break
        const k = Math.min(p.length, recordSize - n)
        if (k === p.length) {
          pieces.push(p)
          this.plain.shift()
        } else {
          pieces.push(p.subarray(0, k))
          this.plain.replaceFirst(p.subarray(k))
        }
        n += k
      }
      this.plainBytes -= n
      const job: Job<Uint8Array[]> = { bytes: n }
      this.sealing.push(job)
      this.sealingBytes += n
      let sealed: Uint8Array[] | Promise<Uint8Array[]>
      try {
        sealed = this.sender.seal(pieces, n)
      } catch (err) {
        this.terminate(err as Error, true)
        return
      }
      if (Array.isArray(sealed)) {
        job.result = sealed
      } else {
        sealed.then(
          (chunks) => {
            job.result = chunks
            this.flush()
            this.pump()
          },
          (err: Error) => this.terminate(err, true),
        )
      }
    }
  }

  /** Writes the sealed records at the head of the queue, in order. */
  private flush(): void {
    if (this.terminated) return
    let corked = false
    while (this.sealing.length > 0 && (this.sealing.first() as Job<Uint8Array[]>).result) {
      const job = this.sealing.shift() as Job<Uint8Array[]>
      this.sealingBytes -= job.bytes
      const chunks = job.result as Uint8Array[]
      if (!corked && chunks.length > 1) {
        this.socket.cork()
        corked = true
      }
      for (let i = 0; i < chunks.length; i++) {
        this.socket.write(chunks[i] as Uint8Array, i === chunks.length - 1 ? this.wake : undefined)
      }
    }
    if (corked) this.socket.uncork()
    this.wake()
    this.endIfFlushed()
  }

  /** Lets waiting senders in, in order, while there is room. */
  private readonly wake = (): void => {
    while (
      this.waiters.length > 0 &&
      this.bufferedAmount < this.options.highWaterMark &&
      this.state === 'open'
    ) {
      const waiter = this.waiters.shift() as Waiter
      this.enqueue(waiter.data, true)
      waiter.resolve()
    }
  }

  private endIfFlushed(): void {
    if (
      this.state === 'closing' &&
      this.plainBytes === 0 &&
      this.sealing.length === 0 &&
      !this.socket.writableEnded
    ) {
      this.socket.end()
    }
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
  }

  /** One record's body (valid only during the call); false stops reading. */
  private readonly onRecord = (body: Uint8Array): boolean => {
    const opened = this.receiver.open(body)
    if (opened instanceof Uint8Array && this.opening.length === 0) {
      this.deliver(opened)
      return !this.terminated
    }
    const job: Job<Uint8Array> = { bytes: body.length }
    this.opening.push(job)
    this.openingBytes += body.length
    if (opened instanceof Uint8Array) {
      job.result = opened
    } else {
      opened.then(
        (plain) => {
          job.result = plain
          this.deliverOpened()
        },
        (err: Error) => this.terminate(err, true),
      )
    }
    return true
  }

  /** Stops reading while decryption or undelivered messages hold highWaterMark; reads again below half. */
  private flow(): void {
    const hwm = this.options.highWaterMark
    if (!this.paused && (this.openingBytes >= hwm || this.backlogBytes >= hwm)) {
      this.paused = true
      this.socket.pause()
    } else if (this.paused && this.openingBytes < hwm / 2 && this.backlogBytes < hwm / 2) {
      this.paused = false
      this.socket.resume()
    }
  }

  private deliverOpened(): void {
    while (this.opening.length > 0 && (this.opening.first() as Job<Uint8Array>).result) {
      const job = this.opening.shift() as Job<Uint8Array>
      this.openingBytes -= job.bytes
      this.deliver(job.result as Uint8Array)
      if (this.terminated) return
    }
    this.flow()
    if (this.remoteEnded && this.opening.length === 0) this.terminate(undefined, false)
  }

  private deliver(plain: Uint8Array): void {
    if (this.state !== 'open') return
    try {
      this.messages.push(plain, this.onMessage)
    } catch (err) {
      this.terminate(err as Error, true)
      return
    }
    if (this.backlog.length > 0) this.flow()
  }

  /** One whole message; false once the connection closed (stop decoding). */
  private readonly onMessage = (frame: Uint8Array): boolean => {
    if (this.backlog.length > 0 || this.listenerCount('message') === 0) {
      this.backlog.push(frame)
      this.backlogBytes += frame.length
      return true
    }
    this.emit('message', frame)
    return this.state === 'open'
  }

  /** Delivers the messages that waited for a 'message' listener, once one is there. */
  private readonly drainBacklog = (): void => {
    while (this.backlog.length > 0 && this.state === 'open' && this.listenerCount('message') > 0) {
      const frame = this.backlog.shift() as Uint8Array
      this.backlogBytes -= frame.length
      this.emit('message', frame)
    }
    if (this.state === 'open') this.flow()
  }

  override on<T extends EventEmitter.EventNames<ConnectionEvents>>(
    event: T,
    fn: EventEmitter.EventListener<ConnectionEvents, T>,
    context?: unknown,
  ): this {
    super.on(event, fn, context)
    if (event === 'message' && this.backlog.length > 0) queueMicrotask(this.drainBacklog)
    return this
  }

  override addListener<T extends EventEmitter.EventNames<ConnectionEvents>>(
    event: T,
    fn: EventEmitter.EventListener<ConnectionEvents, T>,
    context?: unknown,
  ): this {
    return this.on(event, fn, context)
  }

  override once<T extends EventEmitter.EventNames<ConnectionEvents>>(
    event: T,
    fn: EventEmitter.EventListener<ConnectionEvents, T>,
    context?: unknown,
  ): this {
    super.once(event, fn, context)
    if (event === 'message' && this.backlog.length > 0) queueMicrotask(this.drainBacklog)
    return this
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
    for (const w of this.waiters.drain()) {
      w.reject(
        new PeerUnreachableError(`connection to ${this.remotePeer} closed before the message was sent`, {
          cause,
        }),
      )
    }
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
    this.plain.drain()
    this.plainBytes = 0
    this.sealing.drain()
    this.sealingBytes = 0
    this.opening.drain()
    this.openingBytes = 0
    this.backlog.drain()
    this.backlogBytes = 0
    this.socket.off('data', this.onData)
    if (err) this.socket.destroy()
    else if (!this.socket.writableEnded) this.socket.end()
    if (wasOpen) {
      if (err && report) this.emit('error', err)
      this.emit('close', err)
    }
  }
}

/**
 * Writes that bypass `send` and its checks, for tests that play a broken or
 * hostile peer. Not exported by the package.
 */
export interface RawWire {
  /** Bytes straight onto the socket, outside any record. */
  writeRaw(bytes: Uint8Array): void
  /** `plaintext` sealed as the next record, as if it were framed messages. */
  writeSealed(plaintext: Uint8Array): void
}

const rawWires = new WeakMap<TcpConnection, RawWire>()

export function rawWire(conn: TcpConnection): RawWire {
  return rawWires.get(conn) as RawWire
}

export function registerRawWire(conn: TcpConnection, socket: Socket, sender: RecordCipher): void {
  rawWires.set(conn, {
    writeRaw: (bytes) => void socket.write(bytes),
    writeSealed: (plaintext) => {
      const sealed = sender.seal([plaintext], plaintext.length)
      const write = (chunks: Uint8Array[]) => {
        for (const c of chunks) socket.write(c)
      }
      if (Array.isArray(sealed)) write(sealed)
      else void sealed.then(write)
    },
  })
}
