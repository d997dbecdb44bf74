import { EventEmitter } from 'eventemitter3'
import { type Connection, type ConnectionEvents, PeerUnreachableError } from '../../src/index.js'

/** Two in-process Connection ends wired to each other: a stub of the Transport contract for core's own tests. */
export class StubConnection extends EventEmitter<ConnectionEvents> implements Connection {
  other!: StubConnection
  closed = false
  readonly id: string
  /** Frames this end sent, as bytes (for assertions). */
  sentFrames = 0

  constructor(
    readonly remotePeer: string,
    readonly direction: 'inbound' | 'outbound',
    readonly remoteAddress = 'stub://other',
  ) {
    super()
    this.id = `${direction}-${Math.random().toString(36).slice(2)}`
  }

  async send(data: Uint8Array): Promise<void> {
    if (this.closed) throw new PeerUnreachableError('closed')
    this.sentFrames++
    const copy = data.slice()
    queueMicrotask(() => {
      if (!this.other.closed) this.other.emit('message', copy)
    })
  }

  /** Delivers raw bytes to the other end as if they had come over the wire. */
  inject(data: Uint8Array): void {
    queueMicrotask(() => this.other.emit('message', data))
  }

  async close(err?: Error): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.emit('close', err)
    if (!this.other.closed) {
      this.other.closed = true
      queueMicrotask(() => this.other.emit('close'))
    }
  }
}

export function connectionPair(aId: string, bId: string): [StubConnection, StubConnection] {
  const a = new StubConnection(bId, 'outbound')
  const b = new StubConnection(aId, 'inbound')
  a.other = b
  b.other = a
  return [a, b]
}
