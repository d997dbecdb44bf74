import {
  AbortError,
  type AbortOptions,
  type Clock,
  type Connection,
  ConnectionEmitter,
  concatBytes,
  type ManagedConnection,
  type MemoryScope,
  type PeerId,
  PeerUnreachableError,
  ProtocolError,
  type TimerHandle,
  throwIfAborted,
} from '@peerkit/core'
import {
  Backlog,
  type RecordCipher,
  RecordOpener,
  type SecureConnectionInit,
  TAG_SIZE,
} from '@peerkit/transport-tcp/secure'
import type { ParsedWebSocketTransportOptions } from './options.js'
import { registerRawWire } from './raw-wire.js'
import type { WireSocket } from './wire-socket.js'

export interface WebSocketConnectionInit extends SecureConnectionInit<WireSocket> {
  id: string
  options: ParsedWebSocketTransportOptions
}

/** Bytes of a record's length prefix (`u32`, big-endian). */
const FRAME_HEADER_SIZE = 4

const readU32 = (b: Uint8Array, at = 0) => new DataView(b.buffer, b.byteOffset + at, 4).getUint32(0)

/**
 * One authenticated, encrypted connection over a WebSocket: each peerkit
 * message is one binary WebSocket message holding one `peerkit-tcp/1` record
 * (`u32 length ‖ ciphertext ‖ tag`, the handshake's keys, the record counter
 * as nonce), so a replayed, dropped or reordered message fails its tag.
 * `send` waits while `highWaterMark` bytes are buffered; reading pauses while
 * nobody takes messages (on Node the TCP socket stops being read).
 */
export class WebSocketConnection extends ConnectionEmitter implements Connection, ManagedConnection {
  readonly [Symbol.toStringTag] = '@peerkit/transport-websocket:WebSocketConnection'
  readonly id: string
  readonly remotePeer: PeerId
  readonly remoteAddress: string
  readonly direction: 'inbound' | 'outbound'
  private readonly socket: WireSocket
  private readonly sender: RecordCipher
  private readonly options: ParsedWebSocketTransportOptions
  private readonly clock: Clock
  private state: 'open' | 'closing' | 'closed' = 'open'
  /** Sends in order: each waits for room, then is sealed and written. */
  private sendChain: Promise<void> = Promise.resolve()
  private sealing = 0
  /** Records being opened, in arrival order, then messages waiting for their owner. */
  private readonly opening: RecordOpener
  private readonly backlog: Backlog
  private readPaused = false
  /** The socket closed while records were being opened: close once they are delivered. */
  private remoteClosed = false
  private scope: MemoryScope | undefined
  private partialTimer: TimerHandle | undefined
  private readonly closedPromise: Promise<void>
  private resolveClosed!: () => void

  constructor(init: WebSocketConnectionInit) {
    super()
    this.id = init.id
    this.socket = init.socket
    this.direction = init.direction
    this.remotePeer = init.remotePeer
    this.remoteAddress = init.remoteAddress
    this.sender = init.sender
    this.opening = new RecordOpener(init.receiver, {
      opened: (plain) => this.deliver(plain),
      settled: () => this.openedAll(),
      failed: (err) => this.terminate(err),
      stopped: () => this.state !== 'open',
    })
    this.backlog = new Backlog(this, {
      open: () => this.state === 'open',
      paused: () => this.readPaused,
      drained: () => {
        if (this.state === 'open' && !this.readPaused && this.backlog.length === 0) this.socket.resume()
        this.account()
      },
    })
    this.options = init.options
    this.clock = init.clock
    this.closedPromise = new Promise((resolve) => {
      this.resolveClosed = resolve
    })
    this.socket.on('error', this.onError)
    this.socket.on('close', this.onClose)
    this.socket.on('partial', this.onPartial)
    registerRawWire(this, this.socket, this.sender)
    // What waits in the socket counts against the Network's memory budget as it grows.
    this.socket.onHeld = () => this.account()
    // Records that came in one stream with the handshake's last one.
    let rest = init.leftover
    while (rest.length >= FRAME_HEADER_SIZE && this.state === 'open') {
      const end = FRAME_HEADER_SIZE + readU32(rest)
      this.onRecord(rest.subarray(0, Math.min(end, rest.length)))
      rest = rest.subarray(end)
    }
    // Reading starts on the next turn, once whoever gets this connection listens.
    queueMicrotask(() => {
      if (this.state === 'closed') return
      if (!this.socket.isOpen) return this.terminate(undefined)
      this.socket.on('message', this.onRecord)
      this.socket.resume()
    })
  }

  get closed(): boolean {
    return this.state !== 'open'
  }

  /** Bytes held for sending: the WebSocket's buffer and messages being sealed. */
  get bufferedAmount(): number {
    return this.socket.bufferedAmount + this.sealing
  }

  async send(data: Uint8Array, options: AbortOptions = {}): Promise<void> {
    if (this.state !== 'open') throw new PeerUnreachableError(`connection to ${this.remotePeer} is closed`)
    if (data.length > this.options.maxMessageSize) {
      throw new ProtocolError(
        `message of ${data.length} bytes exceeds the maximum of ${this.options.maxMessageSize} (ws.maxMessageSize)`,
      )
    }
    throwIfAborted(options.signal)
    const { signal } = options
    const copy = data.slice() // the caller may reuse its buffer as soon as send returns
    const turn = this.sendChain.then(async () => {
      while (this.state === 'open' && this.bufferedAmount >= this.options.highWaterMark) {
        await this.socket.drained(this.options.highWaterMark)
      }
      if (this.state !== 'open') {
        throw new PeerUnreachableError(`connection to ${this.remotePeer} closed before the message was sent`)
      }
      if (signal?.aborted) throw new AbortError('send aborted', { cause: signal.reason })
      this.sealing += copy.length
      this.account()
      try {
        const sealed = this.sender.seal([copy], copy.length)
        const record = concatBytes(...(Array.isArray(sealed) ? sealed : await sealed))
        if (this.state === 'open') this.socket.send(record)
      } finally {
        this.sealing -= copy.length
        this.account()
      }
    })
    this.sendChain = turn.catch(() => {}) // the chain goes on; this send's caller hears how it went
    await turn
  }

  pauseReading(): void {
    if (this.readPaused) return
    this.readPaused = true
    this.socket.pause()
  }

  resumeReading(): void {
    if (!this.readPaused) return
    this.readPaused = false
    queueMicrotask(this.backlog.drain)
  }

  useMemoryScope(scope: MemoryScope): void {
    this.scope = scope
    this.account()
  }

  private account(): void {
    this.scope?.setTransport(
      this.state === 'closed'
        ? 0
        : this.opening.bytes + this.backlog.bytes + this.socket.heldAmount + this.bufferedAmount,
    )
  }

  async close(err?: Error): Promise<void> {
    if (this.state === 'open') {
      if (err) {
        this.terminate(err)
      } else {
        this.state = 'closing'
        this.emit('close')
        const timer = this.clock.setTimeout(() => this.socket.terminate(), this.options.closeTimeout)
        void this.closedPromise.then(() => this.clock.clearTimeout(timer))
        // What was queued goes first, then the close frame.
        void this.sendChain.then(() => this.socket.close(1000, 'closed'))
      }
    }
    await this.closedPromise
  }

  /** One WebSocket message: one record. */
  private readonly onRecord = (record: Uint8Array): void => {
    if (this.state !== 'open') return
    this.socket.partialSince = 0
    const limit = this.options.maxMessageSize + TAG_SIZE
    if (
      record.length < FRAME_HEADER_SIZE + TAG_SIZE ||
      readU32(record) !== record.length - FRAME_HEADER_SIZE
    ) {
      this.terminate(
        new ProtocolError(
          `${this.remotePeer} (${this.remoteAddress}) sent a WebSocket message that is not a record`,
        ),
      )
      return
    }
    if (record.length - FRAME_HEADER_SIZE > limit) {
      this.terminate(
        new ProtocolError(
          `${this.remotePeer} (${this.remoteAddress}) sent a message of ${record.length - FRAME_HEADER_SIZE - TAG_SIZE} bytes; the maximum is ${this.options.maxMessageSize} (ws.maxMessageSize)`,
        ),
      )
      return
    }
    try {
      this.opening.open(record.subarray(FRAME_HEADER_SIZE))
    } catch (err) {
      this.terminate(err as Error)
      return
    }
    if (this.opening.bytes >= this.options.highWaterMark) this.socket.pause()
    this.account()
  }

  /** Records opened off the main thread were passed on. */
  private openedAll(): void {
    if (!this.readPaused && this.opening.bytes < this.options.highWaterMark / 2) this.socket.resume()
    this.account()
    if (this.remoteClosed && this.opening.length === 0) this.terminate(undefined)
  }

  private deliver(plain: Uint8Array): void {
    if (this.state === 'open' && this.backlog.offer(plain)) this.account()
  }

  protected override onMessageListener(): void {
    this.backlog.heard()
  }

  /** A message began to arrive: it must be whole within `messageTimeout`. */
  private readonly onPartial = (): void => {
    this.partialTimer ??= this.clock.setTimeout(this.checkPartial, this.options.messageTimeout)
  }

  private readonly checkPartial = (): void => {
    this.partialTimer = undefined
    const since = this.socket.partialSince
    if (this.state !== 'open' || since === 0) return
    const age = this.clock.now() - since
    if (age < this.options.messageTimeout) {
      this.partialTimer = this.clock.setTimeout(this.checkPartial, this.options.messageTimeout - age)
      return
    }
    this.terminate(
      new ProtocolError(
        `${this.remotePeer} (${this.remoteAddress}) sent part of a message and not the rest within ${this.options.messageTimeout} ms (ws.messageTimeout)`,
      ),
    )
  }

  private readonly onError = (err: Error): void => {
    this.terminate(
      new PeerUnreachableError(
        `connection to ${this.remotePeer} (${this.remoteAddress}) failed: ${err.message}`,
        {
          cause: err,
        },
      ),
    )
  }

  private readonly onClose = (): void => {
    // Records still being decrypted are delivered first.
    if (this.opening.length > 0 && this.state === 'open') {
      this.remoteClosed = true
      return
    }
    this.terminate(undefined)
  }

  /** Closes for good: `error` (with an error) then `close`, once; an error drops the socket at once. */
  private terminate(err: Error | undefined): void {
    if (this.state === 'closed') {
      this.resolveClosedIfGone()
      return
    }
    const wasOpen = this.state === 'open'
    this.state = 'closed'
    this.opening.clear()
    this.backlog.clear()
    if (this.partialTimer !== undefined) this.clock.clearTimeout(this.partialTimer)
    this.partialTimer = undefined
    this.account()
    this.socket.off('message', this.onRecord)
    if (err) this.socket.terminate()
    else if (this.socket.isOpen) this.socket.close(1000, 'closed')
    this.resolveClosedIfGone()
    if (wasOpen) {
      if (err) this.emit('error', err)
      this.emit('close', err)
    }
  }

  private resolveClosedIfGone(): void {
    if (!this.socket.isOpen) this.resolveClosed()
    else this.socket.once('close', () => this.resolveClosed())
  }
}
