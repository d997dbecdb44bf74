import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { Socket } from 'node:net'
import {
  type Clock,
  InvalidOptionsError,
  type Listener,
  type ListenerEvents,
  RateLimitError,
} from '@peerkit/core'
import { ListenerLimits, reachableAddresses, sourceAddress } from '@peerkit/transport-tcp/parts'
import { EventEmitter } from 'eventemitter3'
import { WebSocketServer } from 'ws'
import { formatWebSocketAddress, type WebSocketAddress } from './address.js'
import { NodeWireSocket } from './node-wire-socket.js'
import type { ParsedWebSocketTransportOptions } from './options.js'
import type { WebSocketConnection } from './websocket-connection.js'
import type { WireSocket } from './wire-socket.js'

/**
 * A listening WebSocket endpoint (an HTTP server that only upgrades, on the
 * address's path). Every accepted TCP connection counts as a handshake in
 * progress, from its accept to a verified peerkit handshake, so the HTTP
 * upgrade is bounded too: at most `maxHandshakes` at once, `…PerAddress` from
 * one address and `…PerSubnet` from one /24 or /64, all within
 * `handshakeTimeout`; established connections are bounded per source as
 * tcp's are. A socket beyond a limit is closed at once, with a
 * `RateLimitError` emitted as 'error'; the listener goes on.
 */
export class WebSocketListener extends EventEmitter<ListenerEvents> implements Listener {
  readonly [Symbol.toStringTag] = '@peerkit/transport-websocket:WebSocketListener'
  private readonly handshaking = new Set<Socket>()
  private readonly limits: ListenerLimits
  private readonly wss: WebSocketServer
  private closing: Promise<void> | undefined

  constructor(
    private readonly server: Server,
    private readonly address: WebSocketAddress,
    upgrade: (socket: WireSocket) => Promise<WebSocketConnection>,
    options: ParsedWebSocketTransportOptions,
    clock: Clock,
  ) {
    super()
    this.limits = new ListenerLimits(options, 'ws')
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxMessageSize + 64,
      perMessageDeflate: false,
      clientTracking: false,
    })
    server.headersTimeout = options.handshakeTimeout
    server.requestTimeout = options.handshakeTimeout
    server.on('connection', (socket: Socket) => {
      if (this.closing) return void socket.destroy()
      const ip = sourceAddress(socket.remoteAddress)
      const refused = this.limits.startHandshake(ip, this.handshaking.size)
      if (refused !== undefined) {
        socket.destroy()
        this.emit('error', new RateLimitError(`refused a connection from ${ip}: ${refused}`))
        return
      }
      this.handshaking.add(socket)
      const timer = clock.setTimeout(() => socket.destroy(), options.handshakeTimeout)
      let released = false
      const release = () => {
        if (released) return
        released = true
        clock.clearTimeout(timer)
        this.handshaking.delete(socket)
        this.limits.endHandshake(ip)
      }
      socket.once('close', release)
      ;(socket as Socket & { peerkitRelease?: () => void }).peerkitRelease = release
    })
    server.on('request', (_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' })
      res.end('peerkit WebSocket endpoint: connect with a WebSocket\n')
    })
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      const release = (socket as Socket & { peerkitRelease?: () => void }).peerkitRelease
      const path = new URL(req.url ?? '/', 'http://x').pathname
      if (this.closing || path !== this.address.path) {
        socket.destroy()
        release?.()
        return
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        const ip = sourceAddress(socket.remoteAddress)
        upgrade(new NodeWireSocket(ws, clock, socket, ip)).then(
          (conn) => {
            release?.()
            if (this.closing) return void conn.close()
            this.limits.admit(this, conn, ip)
          },
          (err: Error) => {
            release?.()
            if (!this.closing) this.emit('error', err)
          },
        )
      })
    })
    server.on('clientError', (_err, socket) => socket.destroy())
    server.on('error', (err) => this.emit('error', err))
  }

  addresses(): string[] {
    const bound = this.server.address()
    if (bound === null || typeof bound === 'string') return []
    return reachableAddresses(this.address.host, bound.port).map((tcp) => {
      const { hostname } = new URL(tcp)
      return formatWebSocketAddress({
        ...this.address,
        host: hostname.replace(/^\[(.*)\]$/, '$1'),
        port: bound.port,
      })
    })
  }

  /** Stops accepting and abandons handshakes in progress; established connections stay open. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      for (const socket of this.handshaking) socket.destroy()
      this.handshaking.clear()
      this.server.close()
      this.wss.close()
      setTimeout(() => {
        this.emit('close')
        resolve()
      }, 0)
    })
    return this.closing
  }
}

/** Listens on `address` (ws:// only: put a TLS proxy in front for wss://). */
export async function listenWebSockets(
  address: WebSocketAddress,
  text: string,
  upgrade: (socket: WireSocket) => Promise<WebSocketConnection>,
  options: ParsedWebSocketTransportOptions,
  clock: Clock,
): Promise<WebSocketListener> {
  if (address.secure) {
    throw new InvalidOptionsError(
      `cannot listen on ${text}: wss:// needs TLS, which this listener does not terminate; listen on ws:// behind a TLS proxy`,
    )
  }
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host: address.host, port: address.port }, () => {
      server.off('error', reject)
      resolve()
    })
  }).catch((err: Error) => {
    throw new InvalidOptionsError(`cannot listen on ${text}: ${err.message}`, { cause: err })
  })
  return new WebSocketListener(server, address, upgrade, options, clock)
}
