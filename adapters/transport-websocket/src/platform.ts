import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { AbortError, type Clock, PeerUnreachableError, TimeoutError } from '@peerkit/core'
import { sourceAddress } from '@peerkit/transport-tcp/parts'
import { WebSocket } from 'ws'
import { NodeWireSocket } from './node-wire-socket.js'
import type { WireSocket } from './wire-socket.js'

export { listenWebSockets } from './websocket-listener.js'

export interface DialSocketOptions {
  signal?: AbortSignal
  timeout: number
  /** Largest WebSocket message accepted. */
  maxPayload: number
  clock: Clock
}

/** Opens a WebSocket to `url` (`ws` on Node). Rejects with PeerUnreachableError, TimeoutError or AbortError. */
export function dialSocket(url: string, address: string, options: DialSocketOptions): Promise<WireSocket> {
  const { signal, clock } = options
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {
      maxPayload: options.maxPayload,
      perMessageDeflate: false,
      handshakeTimeout: options.timeout,
    })
    let raw: Socket | undefined
    const done = (err?: Error) => {
      clock.clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      ws.off('open', onOpen)
      ws.off('error', onError)
      ws.off('upgrade', onUpgrade)
      if (err) {
        ws.on('error', () => {}) // ws reports the abandoned attempt as an error too; the dial rejects with the reason
        ws.terminate()
        reject(err)
      }
    }
    const onUpgrade = (res: IncomingMessage) => {
      raw = res.socket as Socket
    }
    const onOpen = () => {
      done()
      const socket = raw ?? (ws as unknown as { _socket: Socket })._socket
      resolve(new NodeWireSocket(ws, clock, socket, sourceAddress(socket.remoteAddress)))
    }
    const onError = (err: Error) =>
      done(new PeerUnreachableError(`cannot reach ${address}: ${err.message}`, { cause: err }))
    const onAbort = () => done(new AbortError(`dial ${address} aborted`, { cause: signal?.reason }))
    const timer = clock.setTimeout(
      () => done(new TimeoutError(`connecting to ${address} timed out after ${options.timeout} ms`)),
      options.timeout,
    )
    ws.once('upgrade', onUpgrade)
    ws.once('open', onOpen)
    ws.on('error', onError)
    if (signal?.aborted) onAbort()
    else signal?.addEventListener('abort', onAbort, { once: true })
  })
}
