import { EventEmitter } from 'eventemitter3'
import { type Clock, withTimeout } from '../clock.js'
import { PeerkitError, PeerUnreachableError, RemoteError } from '../errors.js'
import type { AbortOptions, Connection } from '../transport.js'
import { decode, encode, validate } from './codec.js'
import { type Envelope, envelopeSchema, Kind } from './envelope.js'
import type { Protocol } from './protocol.js'

export interface MuxRequestOptions extends AbortOptions {
  /** Milliseconds to wait for the response. */
  timeout?: number
}

interface Pending {
  protocol: Protocol<unknown, unknown>
  resolve: (value: unknown) => void
  reject: (err: Error) => void
}

export interface MuxEvents {
  /** A request for `protocol`; answer with `respond` or `fail`. */
  request: [protocol: string, body: unknown, reply: Reply]
  /** A one-way message. */
  message: [protocol: string, body: unknown]
}

export interface Reply {
  respond(body: unknown): void
  fail(err: Error): void
}

/**
 * Whoever owns a Mux (the Network) may hear of its requests, messages and
 * close through these calls, made just before the `request` and `message`
 * events and just after pending requests fail on close: one object per
 * owner instead of three listeners per connection.
 */
export interface MuxOwner {
  onMuxRequest(mux: Mux, protocol: string, body: unknown, reply: Reply): void
  onMuxMessage(mux: Mux, protocol: string, body: unknown): void
  onMuxClose(mux: Mux): void
}

/**
 * Request/response and one-way messages for many protocols over one
 * Connection, matched by request id. A frame that does not decode or does not
 * match the envelope schema closes the connection with a `ProtocolError`.
 */
export class Mux extends EventEmitter<MuxEvents> {
  private nextId = 1
  /** Requests awaiting their response; made with the first request. */
  private pending: Map<number, Pending> | undefined
  lastUsed: number

  constructor(
    readonly connection: Connection,
    private readonly clock: Clock,
    private readonly owner?: MuxOwner,
  ) {
    super()
    this.lastUsed = clock.now()
    // Prototype methods with the Mux as context: no closures per connection.
    connection.on('message', this.onFrame, this)
    connection.on('close', this.onClose, this)
  }

  get inFlight(): number {
    return this.pending?.size ?? 0
  }

  async request<Req, Res>(
    protocol: Protocol<Req, Res>,
    body: Req,
    options: MuxRequestOptions = {},
  ): Promise<Res> {
    if (this.connection.closed)
      throw new PeerUnreachableError(`connection to ${this.connection.remotePeer} is closed`)
    const id = this.nextId++
    if (this.nextId > 2 ** 32) this.nextId = 1
    this.lastUsed = this.clock.now()
    this.pending ??= new Map()
    const pending = this.pending
    const response = new Promise<Res>((resolve, reject) => {
      pending.set(id, {
        protocol: protocol as Protocol<unknown, unknown>,
        resolve: resolve as (v: unknown) => void,
        reject,
      })
    })
    response.catch(() => {}) // settled through the chain below; never unhandled
    const sent = this.write([Kind.Request, id, protocol.name, body], options)
    return withTimeout(
      this.clock,
      sent.then(() => response),
      options.timeout,
      {
        signal: options.signal,
        message: `${protocol.name} request to ${this.connection.remotePeer} timed out after ${options.timeout} ms`,
        onCancel: () => pending.delete(id),
      },
    ).finally(() => {
      pending.delete(id)
      if (pending.size === 0 && this.pending === pending) this.pending = undefined // an idle connection keeps none
    })
  }

  async message<Req>(protocol: Protocol<Req, unknown>, body: Req, options: AbortOptions = {}): Promise<void> {
    this.lastUsed = this.clock.now()
    await this.write([Kind.Message, protocol.name, body], options)
  }

  private write(envelope: Envelope, options: AbortOptions): Promise<void> {
    return this.connection.send(encode(envelope), options)
  }

  private onFrame(data: Uint8Array): void {
    let envelope: Envelope
    try {
      envelope = validate(envelopeSchema, decode(data), 'envelope')
    } catch (err) {
      void this.connection.close(err as Error)
      return
    }
    this.lastUsed = this.clock.now()
    switch (envelope[0]) {
      case Kind.Request: {
        const [, id, protocol, body] = envelope
        let answered = false
        const reply: Reply = {
          respond: (res) => {
            if (answered) return
            answered = true
            this.write([Kind.Response, id, res], {}).catch(() => {})
          },
          fail: (err) => {
            if (answered) return
            answered = true
            this.write([Kind.Error, id, wireError(err)], {}).catch(() => {})
          },
        }
        this.owner?.onMuxRequest(this, protocol, body, reply)
        this.emit('request', protocol, body, reply)
        return
      }
      case Kind.Response: {
        const [, id, body] = envelope
        const p = this.pending?.get(id)
        if (!p) return // answered after its timeout: dropped
        this.pending?.delete(id)
        try {
          p.resolve(validate(p.protocol.response, body, `${p.protocol.name} response`))
        } catch (err) {
          p.reject(err as Error)
          void this.connection.close(err as Error)
        }
        return
      }
      case Kind.Error: {
        const [, id, e] = envelope
        const p = this.pending?.get(id)
        if (!p) return
        this.pending?.delete(id)
        p.reject(new RemoteError(e.name, e.message, this.connection.remotePeer))
        return
      }
      case Kind.Message: {
        const [, protocol, body] = envelope
        this.owner?.onMuxMessage(this, protocol, body)
        this.emit('message', protocol, body)
        return
      }
    }
  }

  private onClose(err?: Error): void {
    this.failAll(err)
    this.owner?.onMuxClose(this)
  }

  private failAll(err?: Error): void {
    if (this.pending === undefined || this.pending.size === 0) return
    const reason = new PeerUnreachableError(`connection to ${this.connection.remotePeer} closed`, {
      cause: err,
    })
    for (const p of this.pending.values()) p.reject(reason)
    this.pending.clear()
  }
}

/** What an error looks like on the wire: peerkit errors keep name and message; others reveal nothing. */
export function wireError(err: unknown): { name: string; message: string } {
  if (err instanceof PeerkitError) return { name: err.name.slice(0, 64), message: err.message.slice(0, 1024) }
  return { name: 'InternalError', message: 'the peer failed to answer' }
}
