import {
  type Clock,
  type Identity,
  type Logger,
  type PeerId,
  TimeoutError,
  type TimerHandle,
} from '@peerkit/core'
import { type ParsedTcpTransportOptions, parseTcpAddress, type TcpAddress } from '@peerkit/transport-tcp'
import type { TcpConnection } from '@peerkit/transport-tcp/parts'
import { formatRelayAddress } from './address.js'
import { connectSocket, secure } from './secure.js'
import { type ControlMessage, controlMessage, decode, encode, Kind, preface } from './wire.js'

export interface ReservationDeps {
  identity: Identity
  clock: Clock
  tcp: ParsedTcpTransportOptions
  log: Logger
  reserveTimeout: number
  retry: number
  /** Milliseconds between keep-alive pings. */
  keepAlive: number
  /** The listen ports to have dialed back. */
  ports: () => number[]
  /** A dial-back from `relay` is about to come (or is over): it is not a connection for the Network. */
  expectDialback: (relay: PeerId, on: boolean) => void
  /** Someone at `ip` connects through this relay; accept with `token`. */
  incoming: (reservation: Reservation, token: string, ip: string) => void
  /** The reservation or what it learned changed (addresses to advertise). */
  changed: () => void
}

/**
 * One reservation with one relay service, kept while the transport runs: the
 * control connection (authenticated, encrypted), the address the relay sees
 * this peer at, and which listen ports answered the relay's dial-back. Lost,
 * it is made again after `reservationRetry`.
 */
export class Reservation {
  readonly relay: TcpAddress
  /** The relay's PeerId, once connected. */
  relayPeer: PeerId | undefined
  /** Where the relay sees this peer (its NAT's public side). */
  observed: { ip: string; port: number } | undefined
  /** Listen addresses proven reachable from outside by the relay's dial-back. */
  reachable: string[] = []
  /** Whether the last dial-back completed (reachable or not). */
  checked = false
  private conn: TcpConnection | undefined
  private timer: TimerHandle | undefined
  private pinger: TimerHandle | undefined
  private awaitingPong = false
  private stopped = false
  private settleFirst: (() => void) | undefined
  /** Resolves once the first attempt is over (reserved and checked, or failed). */
  readonly first: Promise<void>

  constructor(
    readonly address: string,
    private readonly deps: ReservationDeps,
  ) {
    this.relay = parseTcpAddress(address)
    this.first = new Promise((resolve) => {
      this.settleFirst = resolve
    })
  }

  get active(): boolean {
    return this.conn !== undefined && !this.conn.closed && this.observed !== undefined
  }

  /** This peer's relayed address through this relay. */
  relayedAddress(): string {
    return formatRelayAddress(this.relay, this.deps.identity.peerId)
  }

  start(): void {
    void this.attempt()
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) this.deps.clock.clearTimeout(this.timer)
    if (this.pinger) this.deps.clock.clearTimeout(this.pinger)
    this.settleFirst?.()
    await this.conn?.close()
  }

  private settle(): void {
    this.settleFirst?.()
    this.settleFirst = undefined
  }

  private async attempt(): Promise<void> {
    const { deps } = this
    try {
      const socket = await connectSocket({
        host: this.relay.host,
        port: this.relay.port,
        clock: deps.clock,
        timeout: deps.reserveTimeout,
        what: `reservation with ${this.address}`,
      })
      socket.write(preface(Kind.reserve, {}))
      const conn = await secure(socket, 'initiator', 'direct', {
        identity: deps.identity,
        tcp: deps.tcp,
        clock: deps.clock,
        address: this.address,
      })
      if (this.stopped) return void conn.close()
      this.conn = conn
      this.relayPeer = conn.remotePeer
      conn.on('message', (data) => {
        let msg: ControlMessage
        try {
          msg = decode(controlMessage, data, `relay ${this.address}`)
        } catch (err) {
          void conn.close(err as Error)
          return
        }
        this.onControl(conn, msg)
      })
      this.keepWarm(conn)
      conn.once('close', (err) => {
        if (this.pinger) deps.clock.clearTimeout(this.pinger)
        this.conn = undefined
        this.observed = undefined
        this.reachable = []
        this.checked = false
        deps.log.info('reservation lost', { relay: this.address, error: err?.message })
        deps.changed()
        this.settle()
        this.again()
      })
    } catch (err) {
      deps.log.info('reservation failed', { relay: this.address, error: (err as Error).message })
      this.settle()
      this.again()
    }
  }

  /** A ping every `keepAlive` ms; one still unanswered at the next closes the connection (then it is made again). */
  private keepWarm(conn: TcpConnection): void {
    const { clock, keepAlive } = this.deps
    this.awaitingPong = false
    const tick = () => {
      if (conn.closed) return
      if (this.awaitingPong) {
        void conn.close(
          new TimeoutError(`relay ${this.address} did not answer a keep-alive within ${keepAlive} ms`),
        )
        return
      }
      this.awaitingPong = true
      conn.send(encode({ t: 'ping' })).catch(() => {}) // closed: 'close' makes the reservation again
      this.pinger = clock.setTimeout(tick, keepAlive)
    }
    this.pinger = clock.setTimeout(tick, keepAlive)
  }

  private again(): void {
    if (this.stopped) return
    this.timer = this.deps.clock.setTimeout(() => void this.attempt(), this.deps.retry)
  }

  private onControl(conn: TcpConnection, msg: ControlMessage): void {
    const { deps } = this
    switch (msg.t) {
      case 'reserved': {
        this.observed = { ip: msg.ip, port: msg.port }
        deps.log.info('reserved', { relay: this.address, observed: `${msg.ip}:${msg.port}` })
        const ports = deps.ports()
        if (ports.length === 0) {
          this.checked = true
          deps.changed()
          this.settle()
          return
        }
        if (this.relayPeer) deps.expectDialback(this.relayPeer, true)
        conn.send(encode({ t: 'dialback', ports })).catch(() => this.settle()) // closed: 'close' retries
        deps.changed()
        return
      }
      case 'refused':
        deps.log.warn('reservation refused', { relay: this.address, reason: msg.reason })
        return
      case 'dialback-result':
        if (this.relayPeer) deps.expectDialback(this.relayPeer, false)
        this.checked = true
        this.reachable = msg.ok.map((p) => `tcp://${msg.ip}:${p}`)
        deps.log.info('reachability', {
          relay: this.address,
          reachable: this.reachable,
          unreachable: msg.failed.map((p) => `tcp://${msg.ip}:${p}`),
        })
        deps.changed()
        this.settle()
        return
      case 'pong':
        this.awaitingPong = false
        return
      case 'incoming':
        deps.incoming(this, msg.token, msg.ip)
        return
      default:
        void conn.close()
    }
  }
}
