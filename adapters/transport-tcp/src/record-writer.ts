import type { Socket } from 'node:net'
import { AbortError, onAbort } from '@peerkit/core'
import { FRAME_HEADER_SIZE, frameHeader } from '@peerkit/core/wire'
import { Deque } from './deque.js'
import type { RecordCipher } from './record-cipher.js'

/** Messages smaller than this wait for the next turn of the event loop, to share a record. */
export const COALESCE_BELOW = 16 * 1024

/** Records being encrypted at once, at most (on the thread pool; inline ones are written at once). */
export const MAX_IN_FLIGHT = 4

/** The message length in a frame header. */
function frameLength(header: Uint8Array): number {
  return new DataView(header.buffer, header.byteOffset, FRAME_HEADER_SIZE).getUint32(0)
}

interface Job {
  /** Plaintext bytes it seals. */
  bytes: number
  /** Header, ciphertext and tag, once sealed. */
  chunks?: Uint8Array[]
}

interface Waiter {
  data: Uint8Array
  resolve: () => void
  reject: (err: Error) => void
}

export interface RecordWriterHooks {
  /** Sealing failed: the connection must close with `err`. */
  fail(err: Error): void
  /** Everything queued has been handed to the socket. */
  flushed(): void
  /** Bytes moved on (to the kernel): `bufferedAmount` went down. */
  moved?(): void
}

/**
 * The sending half of a connection: message frames → records (sealed in
 * order, inline or on the thread pool) → socket, with `send` waiting while
 * `bufferedAmount` is at `highWaterMark`.
 */
export class RecordWriter {
  private readonly plain = new Deque<Uint8Array>()
  /** The pieces of `plain` that start a frame (a header, or a small message with its header). */
  private readonly headers = new WeakSet<Uint8Array>()
  private plainBytes = 0
  private readonly sealing = new Deque<Job>()
  private sealingBytes = 0
  private readonly waiters = new Deque<Waiter>()
  private pumping = false
  private pumpScheduled = false
  private stopped = false

  constructor(
    private readonly socket: Socket,
    private readonly sender: RecordCipher,
    private readonly recordSize: number,
    private readonly highWaterMark: number,
    private readonly hooks: RecordWriterHooks,
  ) {
    socket.on('drain', this.wake)
  }

  /** Bytes held for sending: plaintext, records being sealed, and the socket's buffer. */
  get bufferedAmount(): number {
    return this.plainBytes + this.sealingBytes + this.socket.writableLength
  }

  /** True when nothing waits to be sealed or written to the socket. */
  get idle(): boolean {
    return this.plainBytes === 0 && this.sealing.length === 0
  }

  /**
   * Queues one message, at once while there is room, otherwise (a copy of
   * it) behind the sends already waiting; resolves once it is queued.
   */
  async write(data: Uint8Array, signal?: AbortSignal): Promise<void> {
    if (this.waiters.length === 0 && this.bufferedAmount < this.highWaterMark) {
      this.enqueue(data, false)
      return
    }
    await new Promise<void>((resolve, reject) => {
      // Many sends waiting on one signal share one listener on it (core's onAbort).
      const cancel = signal
        ? onAbort(signal, () => {
            this.waiters.remove(waiter)
            reject(new AbortError('send aborted', { cause: signal.reason }))
          })
        : undefined
      const waiter: Waiter = {
        // The caller may reuse its buffer as soon as send returns.
        data: data.slice(),
        resolve: () => {
          cancel?.()
          resolve()
        },
        reject: (err) => {
          cancel?.()
          reject(err)
        },
      }
      this.waiters.push(waiter)
    })
  }

  /** Rejects every waiting send with `err(waiter)`; what is queued still goes out. */
  rejectWaiters(err: () => Error): void {
    for (const w of this.waiters.drain()) w.reject(err())
  }

  /** Drops everything queued and writes nothing more. */
  stop(): void {
    this.stopped = true
    this.plain.drain()
    this.plainBytes = 0
    this.sealing.drain()
    this.sealingBytes = 0
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

  /** Seals queued plaintext into records (up to MAX_IN_FLIGHT on the thread pool) and writes them. */
  private pump(): void {
    if (this.pumping) return
    this.pumping = true
    try {
      do {
        this.sealRecords()
        this.flush()
      } while (this.plainBytes > 0 && this.sealing.length < MAX_IN_FLIGHT && !this.stopped)
    } finally {
      this.pumping = false
    }
  }

  private sealRecords(): void {
    while (this.plainBytes > 0 && this.sealing.length < MAX_IN_FLIGHT && !this.stopped) {
      const pieces: Uint8Array[] = []
      let n = 0
      while (n < this.recordSize && this.plain.length > 0) {
        const p = this.plain.first() as Uint8Array
        // A message that would straddle two records starts the next one instead, so the receiver
        // finds it whole in one record's plaintext and delivers it without gathering it.
        if (n > 0 && this.headers.has(p) && n + FRAME_HEADER_SIZE + frameLength(p) > this.recordSize) break
        const k = Math.min(p.length, this.recordSize - n)
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
      const job: Job = { bytes: n }
      this.sealing.push(job)
      this.sealingBytes += n
      let sealed: Uint8Array[] | Promise<Uint8Array[]>
      try {
        sealed = this.sender.seal(pieces, n)
      } catch (err) {
        this.hooks.fail(err as Error)
        return
      }
      if (Array.isArray(sealed)) {
        job.chunks = sealed
      } else {
        sealed.then(
          (chunks) => {
            job.chunks = chunks
            this.pump()
          },
          (err: Error) => this.hooks.fail(err),
        )
      }
    }
  }

  /** Writes the sealed records at the head of the queue, in order. */
  private flush(): void {
    if (this.stopped) return
    let corked = false
    while (this.sealing.length > 0 && (this.sealing.first() as Job).chunks) {
      const job = this.sealing.shift() as Job
      this.sealingBytes -= job.bytes
      const chunks = job.chunks as Uint8Array[]
      if (!corked && chunks.length > 1) {
        this.socket.cork()
        corked = true
      }
      for (let i = 0; i < chunks.length; i++) {
        // The last chunk's callback says when the kernel took the record: room for waiting sends.
        this.socket.write(chunks[i] as Uint8Array, i === chunks.length - 1 ? this.wake : undefined)
      }
    }
    if (corked) this.socket.uncork()
    this.wake()
    if (this.idle) this.hooks.flushed()
  }

  /** Lets waiting senders in, in order, while there is room. */
  private readonly wake = (): void => {
    while (this.waiters.length > 0 && this.bufferedAmount < this.highWaterMark && !this.stopped) {
      const waiter = this.waiters.shift() as Waiter
      this.enqueue(waiter.data, true)
      waiter.resolve()
    }
    this.hooks.moved?.()
  }
}
