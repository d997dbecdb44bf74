import { randomBytes } from 'node:crypto'
import { createServer, type Server, type Socket } from 'node:net'
import {
  type Clock,
  type Identity,
  type Logger,
  type PeerId,
  ProtocolError,
  RateLimitError,
  TokenBucket,
} from '@peerkit/core'
import { type ParsedTcpTransportOptions, parseTcpAddress } from '@peerkit/transport-tcp'
import type { TcpConnection } from '@peerkit/transport-tcp/parts'
import type { ParsedRelayServiceOptions } from './options.js'
import { connectSocket, secure } from './secure.js'
import { splice } from './splice.js'
import {
  acceptBody,
  answer,
  type ControlMessage,
  connectBody,
  controlMessage,
  decode,
  emptyBody,
  encode,
  Kind,
  readPreface,
  remoteIp,
} from './wire.js'

interface Reservation {
  peer: PeerId
  ip: string
  conn: TcpConnection
  circuits: number
  pings: TokenBucket
}

interface PendingCircuit {
  target: Reservation
  dialer: Socket
  dialerIp: string
  settle: (acceptor?: Socket) => void
}

/** What a relay service holds and refused, for status and tests. */
export interface RelayStats {
  reservations: number
  circuits: number
  /** Reservations refused for a limit. */
  refusedReservations: number
  /** Relayed connections refused (no reservation, a limit, a rate). */
  refusedCircuits: number
  /** Relayed connections cut for carrying too many bytes or lasting too long. */
  cutCircuits: number
  /** Bytes carried by relayed connections that ended. */
  relayedBytes: number
  dialbacks: number
}

/**
 * A relay for firewalled peers (circuit relay): it keeps reservations (an
 * authenticated control connection from each firewalled peer), joins a
 * dialer's socket to a fresh socket the reserved peer opens on request, and
 * carries the bytes of the two ends' own end-to-end handshake and records
 * (it sees ciphertext only). It also dials a reserved peer back, on ports it
 * names, at the IP address its control connection comes from: never at an
 * address someone reports. Every resource is bounded (`nat.service`).
 */
export class RelayService {
  private server: Server | undefined
  private readonly reservations = new Map<PeerId, Reservation>()
  private readonly perIp = new Map<string, number>()
  private readonly pending = new Map<string, PendingCircuit>()
  private readonly connectBuckets = new Map<string, TokenBucket>()
  private readonly dialbackBuckets = new Map<string, TokenBucket>()
  private readonly sockets = new Set<Socket>()
  private prefacing = 0
  private circuits = 0
  private readonly counters = {
    refusedReservations: 0,
    refusedCircuits: 0,
    cutCircuits: 0,
    relayedBytes: 0,
    dialbacks: 0,
  }
  private closed = false

  constructor(
    private readonly identity: Identity,
    private readonly clock: Clock,
    private readonly tcp: ParsedTcpTransportOptions,
    readonly options: ParsedRelayServiceOptions,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const { host, port } = parseTcpAddress(this.options.listen, true)
    const server = createServer({ noDelay: true, pauseOnConnect: true })
    server.on('connection', (socket) => this.onSocket(socket))
    server.on('error', (err) => this.log.warn('relay service socket error', { error: err.message }))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ host, port }, () => {
        server.off('error', reject)
        resolve()
      })
    })
    this.server = server
    const bound = server.address()
    this.log.info('relay service listening', { address: typeof bound === 'object' ? bound : host })
  }

  /** The port the service is bound to (0 before `start`). */
  get port(): number {
    const a = this.server?.address()
    return a && typeof a === 'object' ? a.port : 0
  }

  stats(): RelayStats {
    return { reservations: this.reservations.size, circuits: this.circuits, ...this.counters }
  }

  async close(): Promise<void> {
    this.closed = true
    this.server?.close()
    for (const p of this.pending.values()) p.settle()
    for (const s of this.sockets) s.destroy()
    await Promise.allSettled([...this.reservations.values()].map((r) => r.conn.close()))
  }

  private onSocket(socket: Socket): void {
    if (this.closed || this.prefacing >= this.options.maxPending) {
      socket.destroy()
      return
    }
    this.sockets.add(socket)
    socket.once('close', () => this.sockets.delete(socket))
    socket.on('error', () => {}) // every socket's failure reaches its owner through 'close'; nothing is lost
    this.prefacing++
    const ip = remoteIp(socket)
    const what = `relay client ${ip}:${socket.remotePort}`
    readPreface(socket, { clock: this.clock, timeout: this.options.prefaceTimeout, what })
      .finally(() => this.prefacing--)
      .then(({ kind, body }) => {
        switch (kind) {
          case Kind.reserve:
            decode(emptyBody, body, `${what} reserve`)
            return this.reserve(socket, ip, what)
          case Kind.connect:
            return this.connect(socket, ip, decode(connectBody, body, `${what} connect`).target)
          case Kind.accept:
            return this.accept(socket, decode(acceptBody, body, `${what} accept`).token)
          case Kind.observe:
            decode(emptyBody, body, `${what} observe`)
            socket.end(answer({ ok: true, ip, port: socket.remotePort ?? 0 }))
            return
          default:
            throw new ProtocolError(`${what}: unknown relay preface kind ${kind}`)
        }
      })
      .catch((err: Error) => {
        socket.destroy()
        this.log.debug('relay client refused', { client: what, error: `${err.name}: ${err.message}` })
      })
  }

  private refuse(socket: Socket, reason: string): void {
    socket.end(answer({ ok: false, reason }))
  }

  private async reserve(socket: Socket, ip: string, what: string): Promise<void> {
    const fromIp = this.perIp.get(ip) ?? 0
    const o = this.options
    const limit =
      this.reservations.size >= o.maxReservations
        ? `${o.maxReservations} reservations held (nat.service.maxReservations)`
        : fromIp >= o.maxReservationsPerAddress
          ? `${fromIp} reservations from ${ip} (nat.service.maxReservationsPerAddress ${o.maxReservationsPerAddress})`
          : undefined
    // Counted before the handshake: one address cannot hold more handshakes than reservations.
    if (limit === undefined) this.perIp.set(ip, fromIp + 1)
    let conn: TcpConnection
    try {
      conn = await secure(socket, 'responder', 'direct', {
        identity: this.identity,
        tcp: { ...this.tcp, handshakeTimeout: Math.min(this.tcp.handshakeTimeout, o.prefaceTimeout) },
        clock: this.clock,
        address: `tcp://${ip}:${socket.remotePort}`,
      })
    } catch (err) {
      if (limit === undefined) this.release(ip)
      throw err
    }
    if (limit !== undefined) {
      this.counters.refusedReservations++
      this.log.info('reservation refused', { peer: conn.remotePeer, ip, limit })
      await conn.send(encode({ t: 'refused', reason: `reservation refused: ${limit}` }))
      await conn.close(new RateLimitError(limit))
      return
    }
    const peer = conn.remotePeer
    const old = this.reservations.get(peer)
    const perMinute = o.maxPingsPerMinute
    const r: Reservation = {
      peer,
      ip,
      conn,
      circuits: 0,
      pings: new TokenBucket(perMinute / 60, perMinute, this.clock.now()),
    }
    this.reservations.set(peer, r)
    if (old) void old.conn.close()
    conn.on('close', () => {
      this.release(ip)
      if (this.reservations.get(peer) === r) this.reservations.delete(peer)
    })
    conn.on('message', (data) => {
      let msg: ControlMessage
      try {
        msg = decode(controlMessage, data, `${what} control`)
      } catch (err) {
        void conn.close(err as Error)
        return
      }
      if (msg.t === 'dialback') void this.dialback(r, msg.ports)
      else if (msg.t === 'ping') this.pong(r)
      else void conn.close(new ProtocolError(`${what}: a '${msg.t}' message is the relay's to send`))
    })
    await conn.send(encode({ t: 'reserved', ip, port: socket.remotePort ?? 0 }))
    this.log.info('reservation', { peer, ip })
  }

  private pong(r: Reservation): void {
    if (!r.pings.take(this.clock.now())) {
      const limit = `more than ${this.options.maxPingsPerMinute} keep-alive pings a minute (nat.service.maxPingsPerMinute)`
      void r.conn.close(new RateLimitError(`closed the reservation of ${r.peer}: ${limit}`))
      return
    }
    r.conn.send(encode({ t: 'pong' })).catch(() => {}) // closed meanwhile: nothing to answer
  }

  private release(ip: string): void {
    const n = (this.perIp.get(ip) ?? 1) - 1
    if (n <= 0) this.perIp.delete(ip)
    else this.perIp.set(ip, n)
  }

  private bucket(map: Map<string, TokenBucket>, ip: string, rate: number, burst: number): TokenBucket {
    let b = map.get(ip)
    if (!b) {
      if (map.size >= 4096) map.clear() // a bounded map: forgetting buckets only lets some through early
      b = new TokenBucket(rate, burst, this.clock.now())
      map.set(ip, b)
    }
    return b
  }

  /** Dials the reserved peer back at the IP its control connection comes from, on the ports it named. */
  private async dialback(r: Reservation, ports: number[]): Promise<void> {
    const o = this.options
    if (ports.length > o.maxDialbackPorts) {
      await r.conn.close(
        new ProtocolError(
          `a dial-back request for ${ports.length} ports from ${r.peer} (nat.service.maxDialbackPorts ${o.maxDialbackPorts})`,
        ),
      )
      return
    }
    const bucket = this.bucket(this.dialbackBuckets, r.ip, o.dialbackRate / 60, o.dialbackRate)
    const ok: number[] = []
    const failed: number[] = []
    if (!bucket.take(this.clock.now())) {
      this.log.info('dial-back refused: rate', { peer: r.peer, ip: r.ip })
      failed.push(...ports)
    } else {
      for (const port of new Set(ports)) {
        this.counters.dialbacks++
        try {
          const socket = await connectSocket({
            host: r.ip,
            port,
            clock: this.clock,
            timeout: o.dialbackTimeout,
            what: `dial-back to ${r.peer}`,
          })
          const conn = await secure(socket, 'initiator', 'direct', {
            identity: this.identity,
            tcp: { ...this.tcp, handshakeTimeout: o.dialbackTimeout },
            clock: this.clock,
            address: `tcp://${r.ip}:${port}`,
            expectedPeer: r.peer,
          })
          await conn.close()
          ok.push(port)
        } catch (err) {
          this.log.debug('dial-back failed', { peer: r.peer, ip: r.ip, port, error: (err as Error).message })
          failed.push(port)
        }
      }
    }
    if (!r.conn.closed)
      await r.conn.send(encode({ t: 'dialback-result', ip: r.ip, ok, failed })).catch(() => {}) // closed meanwhile: nobody to tell
  }

  private async connect(dialer: Socket, ip: string, target: PeerId): Promise<void> {
    const o = this.options
    const r = this.reservations.get(target)
    const refused = !this.bucket(this.connectBuckets, ip, o.connectRate, o.connectRate * 4).take(
      this.clock.now(),
    )
      ? `too many relayed connections from ${ip} (nat.service.connectRate ${o.connectRate}/s)`
      : !r
        ? `peer ${target} has no reservation here`
        : this.circuits >= o.maxCircuits
          ? `${this.circuits} relayed connections open (nat.service.maxCircuits)`
          : r.circuits >= o.maxCircuitsPerPeer
            ? `${r.circuits} relayed connections open to ${target} (nat.service.maxCircuitsPerPeer)`
            : undefined
    if (refused !== undefined || !r) {
      this.counters.refusedCircuits++
      this.log.info('relayed connection refused', { from: ip, target, reason: refused })
      return this.refuse(dialer, refused ?? 'no reservation')
    }
    // Counted from the request: pending circuits hold sockets too.
    this.circuits++
    r.circuits++
    const token = randomBytes(16).toString('hex')
    const acceptor = await new Promise<Socket | undefined>((settle) => {
      const timer = this.clock.setTimeout(() => done(), o.acceptTimeout)
      const done = (s?: Socket) => {
        this.clock.clearTimeout(timer)
        this.pending.delete(token)
        dialer.off('close', onClose)
        settle(s)
      }
      const onClose = () => done()
      dialer.once('close', onClose)
      this.pending.set(token, { target: r, dialer, dialerIp: ip, settle: done })
      r.conn.send(encode({ t: 'incoming', token, ip })).catch(() => done()) // the reservation closed: refused below
    })
    if (!acceptor || dialer.destroyed) {
      this.circuits--
      r.circuits--
      acceptor?.destroy()
      this.counters.refusedCircuits++
      return this.refuse(dialer, `peer ${target} did not accept within ${o.acceptTimeout} ms`)
    }
    dialer.write(answer({ ok: true, ip: r.ip }))
    acceptor.write(answer({ ok: true, ip }))
    this.log.info('relayed connection', { from: ip, target })
    const { end, bytes } = await splice(dialer, acceptor, {
      maxBytes: o.maxCircuitBytes,
      maxDuration: o.maxCircuitDuration,
      clock: this.clock,
    })
    this.circuits--
    r.circuits--
    this.counters.relayedBytes += bytes
    if (end !== 'closed') {
      this.counters.cutCircuits++
      this.log.info('relayed connection cut', {
        from: ip,
        target,
        reason:
          end === 'bytes'
            ? `more than ${o.maxCircuitBytes} bytes (nat.service.maxCircuitBytes)`
            : `longer than ${o.maxCircuitDuration} ms (nat.service.maxCircuitDuration)`,
        bytes,
      })
    }
  }

  private accept(socket: Socket, token: string): void {
    const p = this.pending.get(token)
    if (p) p.settle(socket)
    else this.refuse(socket, 'no relayed connection waits for this token')
  }
}
