// src/stream-listener.ts
import type { Server } from 'node:http'
import { type Listener, type ListenerEvents, RateLimitError } from '@peerkit/core'
import { EventEmitter } from 'eventemitter3'
import type { WebSocket, WebSocketServer } from 'ws'
import { formatStreamAddress } from './address.js'
import type { StreamConnection } from './stream-connection.js'

/**
 * An HTTP server that upgrades requests to WebSockets and runs the handshake
 * on each (at most `maxHandshakes` at once; more are refused).
 */
export class StreamListener extends EventEmitter<ListenerEvents> implements Listener {
  private handshaking = 0
  private isClosed = false

  constructor(
    private readonly server: Server,
    wss: WebSocketServer,
    private readonly host: string,
    maxHandshakes: number,
    upgrade: (ws: WebSocket, observed: string) => Promise<StreamConnection>,
  ) {
    super()
    server.on('upgrade', (request, socket, head) => {
      if (this.isClosed) return socket.destroy()
      if (this.handshaking >= maxHandshakes) {
        socket.destroy()
        this.emit(
          'error',
          new RateLimitError(`stream.maxHandshakes (${maxHandshakes}) handshakes already running`),
        )
        return
      }
      this.handshaking++
      const observed = formatStreamAddress(
        (request.socket.remoteAddress ?? 'unknown').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, ''),
        request.socket.remotePort ?? 0,
      )
      wss.handleUpgrade(request, socket, head, (ws) => {
        upgrade(ws, observed).then(
          (conn) => {
            this.handshaking--
            if (this.isClosed) void conn.close()
            else this.emit('connection', conn)
          },
          (err: Error) => {
            this.handshaking--
            this.emit('error', err)
          },
        )
      })
    })
    // Plain HTTP requests get nothing to read: this server only upgrades.
    server.on('request', (_request, response) => response.writeHead(426).end())
  }

  /** Inbound handshakes running now (at most `maxHandshakes`). */
  get pendingHandshakes(): number {
    return this.handshaking
  }

  addresses(): string[] {
    const address = this.server.address()
    if (this.isClosed || address === null || typeof address === 'string') return []
    return [formatStreamAddress(this.host, address.port)]
  }

  /** Stops accepting; connections already made stay open (the transport's `close` ends them). */
  async close(): Promise<void> {
    if (this.isClosed) return
    this.isClosed = true
    // Stops listening at once; the server's own 'close' waits for every upgraded socket, so it is not awaited.
    this.server.close()
    this.server.closeIdleConnections()
    this.emit('close')
  }
}
