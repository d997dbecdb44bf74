import {
  AbortError,
  type AbortOptions,
  type Clock,
  type Connection,
  ConnectionEmitter,
  type PeerId,
  PeerUnreachableError,
  ProtocolError,
  type TimerHandle,
  withTimeout,
} from '@peerkit/core'
import type { DataChannel, PeerConnection } from 'node-datachannel'
import { CLOSE, fragment, Reassembler } from './fragments.js'
import type { ParsedWebRtcTransportOptions } from './options.js'

/**
 * Milliseconds a channel closed by the remote without its CLOSE marker stays
 * open for the messages whose callbacks the close overtook.
 */
const CLOSE_GRACE = 250

/** While `send` waits for the buffer to drain, it re-checks `bufferedAmount` this often (ms) as a safety net. */
const RECHECK_INTERVAL = 100

export interface WebRtcConnectionInit {
  id: string
  pc: PeerConnection
  direction: 'inbound' | 'outbound'
  remotePeer: PeerId
  remoteAddress: string
  options: ParsedWebRtcTransportOptions
  clock: Clock
  /** Called once, when the native handles are closed. */
  onClosed: () => void
}

type State = 'opening' | 'open' | 'closing' | 'closed'

/**
 * One WebRTC connection: a `PeerConnection` and one data channel, both held
 * by reference until closed (the garbage collector would otherwise close
 * them mid-transfer). Messages are cut into fragments that fit the SCTP
 * message size limit; `send` waits through `onBufferedAmountLow` while the
 * channel holds `highWaterMark` bytes.
 */
export class WebRtcConnection extends ConnectionEmitter implements Connection {
  readonly [Symbol.toStringTag] = '@peerkit/transport-webrtc:WebRtcConnection'
  readonly id: string
  readonly remotePeer: PeerId
  readonly remoteAddress: string
  readonly direction: 'inbound' | 'outbound'
  /** Resolves when the data channel opens; rejects when the connection fails first. */
  readonly ready: Promise<void>
  /** Bytes of messages sent and received (payload, without fragment headers). */
  readonly stats = { sent: 0, received: 0 }

  private readonly pc: PeerConnection
  private dc: DataChannel | undefined
  private readonly options: ParsedWebRtcTransportOptions
  private readonly clock: Clock
  private readonly onClosed: () => void
  private readonly reassembler: Reassembler
  private state: State = 'opening'
  private tail: Promise<void> = Promise.resolve()
  private backlog: Uint8Array[] = []
  private lowWaiters: Array<() => void> = []
  private settleReady!: (err?: Error) => void
  private closing: Promise<void> | undefined
  private remoteClosed: (() => void) | undefined
  private graceTimer: TimerHandle | undefined

  constructor(init: WebRtcConnectionInit) {
    super()
    this.id = init.id
    this.pc = init.pc
    this.remotePeer = init.remotePeer
    this.remoteAddress = init.remoteAddress
    this.direction = init.direction
    this.options = init.options
    this.clock = init.clock
    this.onClosed = init.onClosed
    this.reassembler = new Reassembler(init.options.maxMessageSize)
    this.ready = new Promise<void>((resolve, reject) => {
      this.settleReady = (err) => (err ? reject(err) : resolve())
    })
    this.ready.catch(() => {}) // the dial or accept awaiting `ready` gets its failure; this only keeps it handled until then
    this.pc.onStateChange((state) => {
      if (state === 'failed' || state === 'closed' || state === 'disconnected') {
        if (this.state === 'closing' && this.remoteClosed) {
          this.remoteClosed()
          return
        }
        this.terminate(new PeerUnreachableError(`connection to ${this.remotePeer} ${state}`), true)
      }
    })
  }

  get closed(): boolean {
    return this.state === 'closing' || this.state === 'closed'
  }

  /** The data channel, once created (outbound) or received (inbound). */
  get channel(): DataChannel | undefined {
    return this.dc
  }

  /** Adopts the data channel and wires its events; messages are held until a 'message' listener exists. */
  attach(dc: DataChannel): void {
    this.dc = dc
    dc.setBufferedAmountLowThreshold(Math.floor(this.options.highWaterMark / 2))
    dc.onBufferedAmountLow(() => this.wake())
    dc.onMessage((msg) => this.onMessage(msg))
    dc.onClosed(() => {
      if (this.state === 'closing') return
      if (this.state === 'open' && this.graceTimer === undefined) {
        this.graceTimer = this.clock.setTimeout(() => this.terminate(undefined, false), CLOSE_GRACE)
      } else if (this.state !== 'open') this.terminate(undefined, false)
    })
    dc.onError((err) =>
      this.terminate(new PeerUnreachableError(`data channel to ${this.remotePeer} failed: ${err}`), true),
    )
    if (dc.isOpen()) this.opened()
    else dc.onOpen(() => this.opened())
  }

  /** Marks the connection usable (after the transport checked the remote fingerprint). */
  open(): void {
    if (this.state === 'opening') this.state = 'open'
  }

  send(data: Uint8Array, options: AbortOptions = {}): Promise<void> {
    if (this.state !== 'open') {
      return Promise.reject(new PeerUnreachableError(`connection to ${this.remotePeer} is closed`))
    }
    if (data.byteLength > this.options.maxMessageSize) {
      return Promise.reject(
        new ProtocolError(
          `message of ${data.byteLength} bytes exceeds the maximum of ${this.options.maxMessageSize}`,
        ),
      )
    }
    const { signal } = options
    if (signal?.aborted) return Promise.reject(new AbortError('send aborted', { cause: signal.reason }))
    const pieces = fragment(data, this.options.fragmentSize)
    const size = data.byteLength
    const write = this.tail.then(() => this.write(pieces, size, signal))
    this.tail = write.catch(() => {}) // the caller's promise (`write`) carries the failure; the tail only orders the next send
    return write
  }

  close(err?: Error): Promise<void> {
    if (this.state === 'closed') return Promise.resolve()
    if (!this.closing) {
      const wasOpen = this.state === 'open'
      this.state = 'closing'
      this.closing = (wasOpen ? this.flush() : Promise.resolve()).then(() => this.terminate(err, false, true))
      this.closing.catch(() => {}) // every close() caller gets `closing` and its failure; this only keeps it handled
    }
    return this.closing
  }

  private get writable(): boolean {
    return this.state === 'open' || this.state === 'closing'
  }

  /** Closes the native handles at once, without flushing. */
  destroy(err?: Error): void {
    this.terminate(err, false)
  }

  private async write(pieces: Uint8Array[], size: number, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) throw new AbortError('send aborted', { cause: signal.reason })
    // Once the first piece is written the message is finished: a half-sent message would corrupt the next.
    // Sends accepted before close() still go out while it is closing.
    for (const piece of pieces) {
      const dc = this.dc
      if (!this.writable || !dc) {
        throw new PeerUnreachableError(`connection to ${this.remotePeer} closed before the message was sent`)
      }
      while (dc.bufferedAmount() >= this.options.highWaterMark && this.writable) await this.low()
      if (!this.writable) {
        throw new PeerUnreachableError(`connection to ${this.remotePeer} closed before the message was sent`)
      }
      try {
        dc.sendMessageBinary(piece)
      } catch (err) {
        const reason = new PeerUnreachableError(
          `sending to ${this.remotePeer} failed: ${(err as Error).message}`,
          {
            cause: err,
          },
        )
        this.terminate(reason, true)
        throw reason
      }
    }
    this.stats.sent += size
  }

  /** Resolves on the next `onBufferedAmountLow` (or a periodic re-check, or close). */
  private low(): Promise<void> {
    return new Promise((resolve) => {
      let timer: TimerHandle | undefined
      const done = () => {
        if (timer !== undefined) this.clock.clearTimeout(timer)
        resolve()
      }
      timer = this.clock.setTimeout(() => {
        timer = undefined
        this.lowWaiters = this.lowWaiters.filter((w) => w !== done)
        resolve()
      }, RECHECK_INTERVAL)
      this.lowWaiters.push(done)
    })
  }

  private wake(): void {
    const waiters = this.lowWaiters
    this.lowWaiters = []
    for (const w of waiters) w()
  }

  /**
   * Waits for the accepted sends, queues CLOSE behind them, and waits for
   * the remote to read it and close its end: closing the PeerConnection
   * earlier would drop what SCTP still holds unacknowledged (even once
   * `bufferedAmount` is 0). Bounded by `closeTimeout`.
   */
  private async flush(): Promise<void> {
    const deadline = this.clock.now() + this.options.closeTimeout
    const sent = await withTimeout(this.clock, this.tail, this.options.closeTimeout).then(
      () => true,
      () => false,
    )
    const dc = this.dc
    if (!sent || !dc) return
    if (!dc.isOpen() || this.state !== 'closing') return
    // The remote closes its PeerConnection when it reads CLOSE, after everything sent before it.
    const acknowledged = new Promise<void>((resolve) => {
      this.remoteClosed = resolve
    })
    try {
      dc.sendMessageBinary(new Uint8Array([CLOSE]))
    } catch {
      return // the channel is already closed: there is no acknowledgement to wait for
    }
    await withTimeout(this.clock, acknowledged, Math.max(1, deadline - this.clock.now())).catch(() => {}) // no acknowledgement by the deadline: the channel is reset, as close documents
  }

  private opened(): void {
    this.settleReady()
  }

  private onMessage(msg: string | Buffer | ArrayBuffer): void {
    if (this.state === 'closed') return
    if (typeof msg === 'string') {
      this.terminate(new ProtocolError(`text message on the data channel from ${this.remotePeer}`), true)
      return
    }
    if (msg.byteLength === 1 && (msg as Uint8Array)[0] === CLOSE && !(msg instanceof ArrayBuffer)) {
      this.terminate(undefined, false)
      return
    }
    let message: Uint8Array | undefined
    try {
      message = this.reassembler.push(msg instanceof ArrayBuffer ? new Uint8Array(msg) : msg)
    } catch (err) {
      this.terminate(err as Error, true)
      return
    }
    if (message === undefined) return
    this.stats.received += message.byteLength
    if (this.state === 'open' && this.backlog.length === 0 && this.listenerCount('message') > 0) {
      this.emit('message', message)
    } else {
      this.backlog.push(message)
      if (this.state === 'open' && this.listenerCount('message') > 0) queueMicrotask(this.drainBacklog)
    }
  }

  /** Delivers the messages that waited for a 'message' listener (or for the channel to be accepted). */
  private readonly drainBacklog = (): void => {
    while (this.backlog.length > 0 && this.state === 'open' && this.listenerCount('message') > 0) {
      this.emit('message', this.backlog.shift() as Uint8Array)
    }
  }

  protected override onMessageListener(): void {
    if (this.backlog.length > 0) queueMicrotask(this.drainBacklog)
  }

  /**
   * Closes for good, once: rejects pending sends, closes the channel and the
   * PeerConnection, then emits `error` (when `report`) and `close`.
   */
  private terminate(err: Error | undefined, report: boolean, local = false): void {
    if (this.state === 'closed') return
    const wasOpen = this.state === 'open' || (this.state === 'closing' && local)
    const wasEstablished = this.state !== 'opening'
    this.state = 'closed'
    if (this.graceTimer !== undefined) this.clock.clearTimeout(this.graceTimer)
    this.backlog = []
    this.reassembler.clear()
    this.wake()
    this.settleReady(err ?? new PeerUnreachableError(`connection to ${this.remotePeer} closed while opening`))
    try {
      this.dc?.close()
    } catch {
      // already closed
    }
    try {
      this.pc.close()
    } catch {
      // already closed
    }
    this.onClosed()
    if (wasOpen || wasEstablished) {
      if (err && report) this.emit('error', err)
      this.emit('close', err)
    }
    this.removeAllListeners()
  }
}
