import {
  AbortError,
  type Clock,
  InvalidOptionsError,
  PeerUnreachableError,
  TimeoutError,
} from '@peerkit/core'
import type { WebSocketAddress } from './address.js'
import type { DialSocketOptions } from './platform.js'
import type { WebSocketConnection } from './websocket-connection.js'
import { WireSocket } from './wire-socket.js'

/** How often `drained` looks at `bufferedAmount` (a browser WebSocket has no drain event). */
const DRAIN_POLL_MS = 5

interface PageWebSocket {
  binaryType: string
  readonly readyState: number
  readonly bufferedAmount: number
  onopen: (() => void) | null
  onerror: (() => void) | null
  onclose: ((ev: { code: number; reason: string }) => void) | null
  onmessage: ((ev: { data: unknown }) => void) | null
  send(data: Uint8Array): void
  close(code?: number, reason?: string): void
}

const OPEN = 1

class PageWireSocket extends WireSocket {
  readonly remote: string
  readonly remoteIp: string

  constructor(
    private readonly ws: PageWebSocket,
    host: string,
  ) {
    super()
    this.remote = host
    this.remoteIp = host
    ws.onmessage = (ev) => {
      if (!(ev.data instanceof ArrayBuffer)) {
        this.emit('error', new Error(`${host} sent a text WebSocket message`))
        this.terminate()
        return
      }
      this.receive(new Uint8Array(ev.data))
    }
    ws.onerror = () => this.emit('error', new Error(`the WebSocket to ${host} failed`))
    ws.onclose = () => {
      this.dropHeld()
      this.emit('close')
    }
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount
  }

  get isOpen(): boolean {
    return this.ws.readyState === OPEN
  }

  send(data: Uint8Array): void {
    this.ws.send(data)
  }

  drained(limit: number): Promise<void> {
    return new Promise((resolve) => {
      const look = () => {
        if (this.ws.bufferedAmount < limit || !this.isOpen) resolve()
        else setTimeout(look, DRAIN_POLL_MS)
      }
      look()
    })
  }

  close(code = 1000, reason = ''): void {
    this.ws.close(code, reason)
  }

  terminate(): void {
    // A page cannot drop a socket without a close frame: close it, and stop listening.
    this.ws.close(4000, 'terminated')
    this.ws.onmessage = null
  }

  // A page cannot stop reading a WebSocket: messages wait in WireSocket's queue, counted by the Network.
  protected pauseReading(): void {}
  protected resumeReading(): void {}
}

export type { DialSocketOptions } from './platform.js'

export function dialSocket(url: string, address: string, options: DialSocketOptions): Promise<WireSocket> {
  const { signal, clock } = options
  const Ctor = (globalThis as { WebSocket?: new (url: string) => PageWebSocket }).WebSocket
  if (!Ctor)
    return Promise.reject(new PeerUnreachableError(`cannot dial ${address}: this page has no WebSocket`))
  return new Promise((resolve, reject) => {
    const ws = new Ctor(url)
    ws.binaryType = 'arraybuffer'
    const done = (err?: Error) => {
      clock.clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      ws.onopen = null
      ws.onerror = null
      ws.onclose = null
      if (err) {
        ws.close()
        reject(err)
      }
    }
    const onAbort = () => done(new AbortError(`dial ${address} aborted`, { cause: signal?.reason }))
    const timer = clock.setTimeout(
      () => done(new TimeoutError(`connecting to ${address} timed out after ${options.timeout} ms`)),
      options.timeout,
    )
    ws.onopen = () => {
      done()
      resolve(new PageWireSocket(ws, new URL(url).host))
    }
    ws.onerror = () => done(new PeerUnreachableError(`cannot reach ${address}`))
    ws.onclose = (ev) => done(new PeerUnreachableError(`cannot reach ${address} (closed, code ${ev.code})`))
    if (signal?.aborted) onAbort()
    else signal?.addEventListener('abort', onAbort, { once: true })
  })
}

export async function listenWebSockets(
  _address: WebSocketAddress,
  text: string,
  _upgrade: (socket: WireSocket) => Promise<WebSocketConnection>,
  _options: unknown,
  _clock: Clock,
): Promise<never> {
  throw new InvalidOptionsError(
    `cannot listen on ${text} in a browser: a page only dials WebSockets (it is reached over WebRTC)`,
  )
}
