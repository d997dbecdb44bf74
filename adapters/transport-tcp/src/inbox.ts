import type { ConnectionEmitter } from '@peerkit/core'
import { Deque } from './deque.js'
import type { RecordCipher } from './record-cipher.js'

/**
 * The receiving side shared by the connections over `peerkit-tcp/1` records
 * (tcp's and ws's): records opened in arrival order, then messages held
 * until their owner takes them. Browser-safe.
 */

interface Job {
  /** Bytes of the record being opened. */
  bytes: number
  result?: Uint8Array
}

export interface RecordOpenerEvents {
  /** One record's plaintext, in record order. */
  opened(plain: Uint8Array): void
  /** Every record that could be passed on was (after an asynchronous open). */
  settled(): void
  failed(err: Error): void
  /** True once the connection closed: stop passing plaintexts on. */
  stopped(): boolean
}

/**
 * Opens a connection's records in order: one opened at once with nothing
 * ahead of it is passed on at once; one opened off the main thread (tcp's
 * `offload`), or behind one that is, waits its turn.
 */
export class RecordOpener {
  private readonly jobs = new Deque<Job>()
  /** Bytes of the records being opened (for backpressure and the memory budget). */
  bytes = 0

  constructor(
    private readonly receiver: RecordCipher,
    private readonly on: RecordOpenerEvents,
  ) {}

  /** Records being opened. */
  get length(): number {
    return this.jobs.length
  }

  /** Opens one record's body (valid only during the call); throws as `RecordCipher.open` does. */
  open(body: Uint8Array): void {
    const opened = this.receiver.open(body)
    if (opened instanceof Uint8Array && this.jobs.length === 0) {
      this.on.opened(opened)
      return
    }
    const job: Job = { bytes: body.length }
    this.jobs.push(job)
    this.bytes += job.bytes
    if (opened instanceof Uint8Array) job.result = opened
    else
      opened.then(
        (plain) => {
          job.result = plain
          this.passOn()
        },
        (err: Error) => this.on.failed(err),
      )
  }

  /** Forgets the records being opened (the connection closed). */
  clear(): void {
    this.jobs.drain()
    this.bytes = 0
  }

  private passOn(): void {
    while (this.jobs.length > 0 && (this.jobs.first() as Job).result) {
      const job = this.jobs.shift() as Job
      this.bytes -= job.bytes
      this.on.opened(job.result as Uint8Array)
      if (this.on.stopped()) return
    }
    this.on.settled()
  }
}

export interface BacklogOwner {
  /** The connection is open. */
  open(): boolean
  /** Its owner asked not to be given messages (`pauseReading`). */
  paused(): boolean
  /** Called after `drain`. */
  drained(): void
}

/**
 * Whole messages that wait, in order, while the connection's owner paused
 * reading or nobody listens for 'message'; `drain` emits them once both allow.
 */
export class Backlog {
  private readonly messages = new Deque<Uint8Array>()
  /** Bytes waiting (for backpressure and the memory budget). */
  bytes = 0

  constructor(
    private readonly conn: ConnectionEmitter,
    private readonly owner: BacklogOwner,
  ) {}

  get length(): number {
    return this.messages.length
  }

  /** Emits `message` now, or keeps it (reading paused, earlier ones waiting, nobody listening); true when kept. */
  offer(message: Uint8Array): boolean {
    if (this.owner.paused() || this.messages.length > 0 || this.conn.listenerCount('message') === 0) {
      this.messages.push(message)
      this.bytes += message.length
      return true
    }
    this.conn.emit('message', message)
    return false
  }

  /** Emits what waits while the connection is open, not paused and heard; then calls `drained`. */
  readonly drain = (): void => {
    while (
      this.messages.length > 0 &&
      this.owner.open() &&
      !this.owner.paused() &&
      this.conn.listenerCount('message') > 0
    ) {
      const message = this.messages.shift() as Uint8Array
      this.bytes -= message.length
      this.conn.emit('message', message)
    }
    this.owner.drained()
  }

  /** For `onMessageListener`: drains on the next microtask if anything waits. */
  heard(): void {
    if (this.messages.length > 0) queueMicrotask(this.drain)
  }

  /** Forgets what waits (the connection closed). */
  clear(): void {
    this.messages.drain()
    this.bytes = 0
  }
}
