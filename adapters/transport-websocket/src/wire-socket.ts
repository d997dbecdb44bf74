import { EventEmitter } from 'eventemitter3'

export interface WireSocketEvents {
  /** One whole binary WebSocket message. */
  message: [data: Uint8Array]
  /** A message began to arrive and is not whole yet (Node only: a browser does not show partial messages). */
  partial: []
  error: [err: Error]
  close: []
}

/**
 * One open WebSocket, the same on Node (`ws`) and in a browser (the page's
 * `WebSocket`): binary messages in and out, what is buffered for sending,
 * and reading paused and resumed. Messages that arrive while reading is
 * paused, or before anyone listens, wait in order and are emitted on
 * `resume` (on Node, pausing also stops reading the TCP socket; a browser
 * cannot, so there they only wait).
 */
export abstract class WireSocket extends EventEmitter<WireSocketEvents> {
  /** When the message partly received now began to arrive (the clock's ms), 0 when none is. */
  partialSince = 0
  private readonly held: Uint8Array[] = []
  private heldBytes = 0
  private paused = false
  private flushing = false

  /** `host:port` (or the URL's host) of the remote end, for limits and messages. */
  abstract readonly remote: string
  /** The remote's IP address as the listener saw it (the dialed host when dialing). */
  abstract readonly remoteIp: string
  /** Bytes handed to `send` and not yet written to the network. */
  abstract get bufferedAmount(): number
  abstract get isOpen(): boolean
  abstract send(data: Uint8Array): void
  /** Resolves once `bufferedAmount` is below `limit`, or the socket closed. */
  abstract drained(limit: number): Promise<void>
  /** Closes gracefully (close frame); `terminate` drops the connection at once. */
  abstract close(code?: number, reason?: string): void
  abstract terminate(): void
  protected abstract pauseReading(): void
  protected abstract resumeReading(): void

  /** Called when a message is held (a page cannot stop reading: its owner re-counts what it holds). */
  onHeld: (() => void) | undefined

  /** Bytes of messages waiting for `resume` or a listener. */
  get heldAmount(): number {
    return this.heldBytes
  }

  pause(): void {
    if (this.paused) return
    this.paused = true
    this.pauseReading()
  }

  resume(): void {
    if (!this.paused) return
    this.paused = false
    this.flush()
    if (!this.paused) this.resumeReading()
  }

  /** For the platform: one message arrived. */
  protected receive(data: Uint8Array): void {
    if (this.paused || this.held.length > 0 || this.listenerCount('message') === 0) {
      this.held.push(data)
      this.heldBytes += data.length
      this.onHeld?.()
      return
    }
    this.emit('message', data)
  }

  /** Emits what waited, in order, while nobody paused again. */
  flush(): void {
    if (this.flushing) return
    this.flushing = true
    try {
      while (this.held.length > 0 && !this.paused && this.listenerCount('message') > 0) {
        const data = this.held.shift() as Uint8Array
        this.heldBytes -= data.length
        this.emit('message', data)
      }
    } finally {
      this.flushing = false
    }
  }

  /** Drops what waited (the connection is closing). */
  protected dropHeld(): void {
    this.held.length = 0
    this.heldBytes = 0
  }
}
