import type { Socket } from 'node:net'
import {
  CLOCK,
  type Clock,
  type Connection,
  type ConnectionPath,
  type DialOptions,
  IDENTITY,
  type Identity,
  InvalidOptionsError,
  LOGGER,
  type Logger,
  type PeerId,
  PeerUnreachableError,
  TimeoutError,
  type Transport,
} from '@peerkit/core'
import {
  isTcpAddress,
  type ParsedTcpTransportOptions,
  parseTcpAddress,
  parseTcpTransportOptions,
  TcpTransport,
} from '@peerkit/transport-tcp'
import { inject, injectable } from 'tsyringe'
import { isRelayAddress, parseRelayAddress } from './address.js'
import { NatListener } from './nat-listener.js'
import type { ParsedNatOptions } from './options.js'
import { type MappedPort, PortMapper } from './port-mapping.js'
import { RelayService } from './relay-service.js'
import { Reservation } from './reservation.js'
import { connectSocket, pathOf, secure, withPath } from './secure.js'
import { NAT_OPTIONS } from './tokens.js'
import { nextUpgrade, observe, observeTwice, sendUpgrade } from './upgrade.js'
import { Kind, preface, readAnswer } from './wire.js'

/** Connections made since the start, by the path they took. */
export type PathCounts = Record<ConnectionPath, number>

/**
 * TCP for peers behind NAT. It dials and listens on `tcp://` like the `tcp`
 * transport (same handshake, same encryption), and adds:
 * - **reachability**: it keeps a reservation with each relay of `nat.relays`
 *   and has the relay dial its listen port back (at the IP the reservation
 *   comes from); it advertises the addresses that answered, else its relayed
 *   addresses `relay://RELAY:PORT/PEER_ID`;
 * - **relayed connections**: dialing a relayed address joins a socket to the
 *   reserved peer through the relay, and the two ends run the end-to-end
 *   `peerkit-tcp/1` handshake through it (the relay sees ciphertext);
 * - **push and hole punching**, coordinated over that relayed connection:
 *   a reachable dialer has the firewalled peer dial it (path `pushed`);
 *   otherwise both ends open a TCP connection to each other at once from the
 *   ports their NATs showed the relay (path `hole-punched`); where that fails
 *   (a symmetric NAT), the relayed connection stays (path `relayed`);
 * - a **relay service** for others (`nat.service`), with limits.
 */
@injectable()
export class NatTransport implements Transport {
  readonly [Symbol.toStringTag] = '@peerkit/nat'
  readonly name = 'nat'
  private readonly tcp: TcpTransport
  private readonly tcpOptions: ParsedTcpTransportOptions
  private readonly log: Logger
  private service: RelayService | undefined
  private readonly reservations: Reservation[] = []
  private readonly listeners = new Set<NatListener>()
  private readonly pushWaiters = new Map<PeerId, (conn: Connection) => void>()
  private readonly dialbacks = new Map<PeerId, number>()
  private readonly upgrading = new Set<Connection>()
  private readonly mapper: PortMapper | undefined
  private readonly mapped: MappedPort[] = []
  private readonly counts: PathCounts = { direct: 0, relayed: 0, pushed: 0, 'hole-punched': 0 }
  private closed = false
  /** Whether this peer's NAT keeps a port's mapping (for hole punching), and when that was found. */
  private mapping: { stable: boolean; at: number } | undefined
  /** Incoming relayed connections being set up now. */
  private accepting = 0
  private ignored = 0

  constructor(
    @inject(IDENTITY) private readonly identity: Identity,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(NAT_OPTIONS) readonly options: ParsedNatOptions,
    @inject(LOGGER) logger: Logger,
  ) {
    this.tcpOptions = parseTcpTransportOptions(options.tcp)
    this.tcp = new TcpTransport(identity, clock, this.tcpOptions)
    this.log = logger.forComponent('peerkit:nat')
    if (options.portMapping) this.mapper = new PortMapper(this.log, options.portMappingTimeout)
  }

  handles(address: string): boolean {
    return isTcpAddress(address) || isRelayAddress(address)
  }

  /** Connections made since the start, by path. */
  paths(): PathCounts {
    return { ...this.counts }
  }

  /** Incoming relayed connections a relay asked for and this peer ignored (beyond `nat.maxIncoming`). */
  get ignoredIncoming(): number {
    return this.ignored
  }

  /** The relay service this peer runs, if `nat.service` is set. */
  get relayService(): RelayService | undefined {
    return this.service
  }

  /** Whether a relay's dial-back proved a listen address reachable from outside. */
  get reachable(): boolean {
    return this.reservations.some((r) => r.reachable.length > 0)
  }

  /** Where the relays see this peer (its NAT's public side). */
  observed(): string[] {
    return this.reservations.flatMap((r) => (r.observed ? [`${r.observed.ip}:${r.observed.port}`] : []))
  }

  async listen(address: string): Promise<NatListener> {
    if (isRelayAddress(address))
      throw new InvalidOptionsError(
        `cannot listen on ${address}: listen on tcp://HOST:PORT; relayed addresses come from nat.relays`,
      )
    const listener = new NatListener(await this.tcp.listen(address), this)
    this.listeners.add(listener)
    const bound = listener.boundAddresses()[0]
    if (this.mapper && bound) {
      // One mapping per listener: every address it is bound at shares its port.
      const m = await this.mapper.map(parseTcpAddress(address, true).host, parseTcpAddress(bound).port)
      if (m) this.mapped.push(m)
    }
    if (this.options.service && !this.service) {
      this.service = new RelayService(
        this.identity,
        this.clock,
        this.tcpOptions,
        this.options.service,
        this.log.forComponent('peerkit:nat:relay'),
      )
      await this.service.start()
    }
    if (this.options.relays.length > 0 && this.reservations.length === 0) {
      for (const relay of this.options.relays) {
        const r = new Reservation(relay, {
          identity: this.identity,
          clock: this.clock,
          tcp: this.tcpOptions,
          log: this.log,
          reserveTimeout: this.options.reserveTimeout,
          retry: this.options.reservationRetry,
          keepAlive: this.options.keepAlive,
          ports: () => this.listenPorts(),
          expectDialback: (peer, on) => this.expectDialback(peer, on),
          incoming: (res, token, ip) => void this.acceptRelayed(res, token, ip),
          changed: () => this.log.debug('addresses', { addresses: this.advertise(this.boundAddresses()) }),
        })
        this.reservations.push(r)
        r.start()
      }
      // The addresses are known once a relay answered (or the wait is over): overlays publish them next.
      await this.within(
        Promise.all(this.reservations.map((r) => r.first)),
        this.options.reserveTimeout,
      ).catch((err: Error) => this.log.warn('no relay answered in time', { error: err.message }))
    }
    return listener
  }

  async dial(address: string, options: DialOptions = {}): Promise<Connection> {
    if (this.closed) throw new PeerUnreachableError(`cannot dial ${address}: the nat transport is closed`)
    if (isTcpAddress(address))
      return this.established(withPath(await this.tcp.dial(address, options), 'direct'))
    return this.dialRelayed(address, options)
  }

  async close(): Promise<void> {
    this.closed = true
    await Promise.allSettled([
      ...this.reservations.map((r) => r.stop()),
      this.mapper?.stop(),
      ...[...this.upgrading].map((c) => c.close()),
      this.service?.close(),
    ])
    for (const w of this.pushWaiters.keys()) this.pushWaiters.delete(w)
    await this.tcp.close()
  }

  dispose(): Promise<void> {
    return this.close()
  }

  // ——— NatListener's owner ———

  intercept(conn: Connection): boolean {
    if ((this.dialbacks.get(conn.remotePeer) ?? 0) > 0) {
      void conn.close() // the relay's dial-back: it proved the port; the relay closes it too
      return true
    }
    const waiter = this.pushWaiters.get(conn.remotePeer)
    if (waiter) {
      this.pushWaiters.delete(conn.remotePeer)
      waiter(withPath(conn, 'pushed'))
      return true
    }
    this.established(withPath(conn, 'direct'))
    return false
  }

  advertise(tcp: string[]): string[] {
    if (this.reservations.length === 0) return tcp
    const reachable = [...new Set(this.reservations.flatMap((r) => r.reachable))]
    if (reachable.length > 0) return reachable
    const relayed = this.reservations.filter((r) => r.active).map((r) => r.relayedAddress())
    return relayed.length > 0 ? relayed : tcp
  }

  listenerClosed(listener: NatListener): void {
    this.listeners.delete(listener)
  }

  // ——— internals ———

  private boundAddresses(): string[] {
    return [...this.listeners].flatMap((l) => l.boundAddresses())
  }

  /** The ports to have dialed back: the listen ports, and the external ports a router mapped to them. */
  private listenPorts(): number[] {
    const bound = this.boundAddresses().map((a) => parseTcpAddress(a).port)
    return [...new Set([...bound, ...this.mapped.map((m) => m.externalPort)])].slice(0, 4)
  }

  /** The ports the router forwards to this peer (`nat.portMapping`). */
  portMappings(): MappedPort[] {
    return [...this.mapped]
  }

  private expectDialback(peer: PeerId, on: boolean): void {
    const n = (this.dialbacks.get(peer) ?? 0) + (on ? 1 : -1)
    if (n > 0) this.dialbacks.set(peer, n)
    else this.dialbacks.delete(peer)
  }

  private established<C extends Connection>(conn: C): C {
    const path = pathOf(conn)
    this.counts[path]++
    this.log.info('connection', {
      peer: conn.remotePeer,
      path,
      direction: conn.direction,
      address: conn.remoteAddress,
    })
    return conn
  }

  /** Rejects with `TimeoutError` after `ms` on the injected clock. */
  private within<T>(p: Promise<T>, ms: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = this.clock.setTimeout(() => reject(new TimeoutError(`not done within ${ms} ms`)), ms)
      p.then(
        (v) => {
          this.clock.clearTimeout(timer)
          resolve(v)
        },
        (err) => {
          this.clock.clearTimeout(timer)
          reject(err)
        },
      )
    })
  }

  /** The listen port this peer is proven reachable on (for a push), if any. */
  private pushPort(): number | undefined {
    const a = this.reservations.flatMap((r) => r.reachable)[0]
    return a ? parseTcpAddress(a).port : undefined
  }

  private waitPush(peer: PeerId, ms: number): Promise<Connection> {
    return this.within(new Promise<Connection>((resolve) => this.pushWaiters.set(peer, resolve)), ms).finally(
      () => this.pushWaiters.delete(peer),
    )
  }

  private async dialRelayed(address: string, options: DialOptions): Promise<Connection> {
    const { relay, peer } = parseRelayAddress(address)
    if (options.peer && options.peer !== peer)
      throw new PeerUnreachableError(`${address} names peer ${peer}, not the peer ${options.peer} dialed`)
    const what = `relay ${relay.host}:${relay.port}`
    const socket = await connectSocket({
      ...relay,
      clock: this.clock,
      timeout: this.options.connectTimeout,
      signal: options.signal,
      what,
    })
    socket.write(preface(Kind.connect, { target: peer }))
    const ans = await readAnswer(socket, { clock: this.clock, timeout: this.options.connectTimeout, what })
    if (!ans.ok) {
      socket.destroy()
      throw new PeerUnreachableError(
        `${what} refused a relayed connection to ${peer}: ${ans.reason ?? 'no reason'}`,
      )
    }
    const relayed = await secure(socket, 'initiator', 'relayed', {
      identity: this.identity,
      tcp: this.tcpOptions,
      clock: this.clock,
      address,
      expectedPeer: peer,
      signal: options.signal,
    })
    return this.established(await this.upgradeDialer(relayed, ans.ip, relay))
  }

  /** A socket to `host:port` (from `localPort` for a punch), or undefined once the failure is logged. */
  private tryConnect(
    host: string,
    port: number,
    what: string,
    localPort?: number,
  ): Promise<Socket | undefined> {
    return connectSocket({
      host,
      port,
      localPort,
      clock: this.clock,
      timeout: this.options.punchTimeout,
      what,
    }).catch((err: Error) => {
      this.log.info(`${what} failed: keeping the relayed connection`, { error: err.message })
      return undefined
    })
  }

  /** The end-to-end handshake on a direct socket to the relayed connection's peer, which it replaces. */
  private async replace(
    relayed: Connection,
    socket: Socket,
    role: 'initiator' | 'responder',
    path: ConnectionPath,
    address: string,
  ): Promise<Connection> {
    const conn = await secure(socket, role, path, {
      identity: this.identity,
      tcp: this.tcpOptions,
      clock: this.clock,
      address,
      expectedPeer: relayed.remotePeer,
    })
    void relayed.close()
    return conn
  }

  /**
   * A local port to punch from and the public port the relay saw it at, or undefined where this peer's
   * NAT does not keep a mapping (found once by observing one port twice, then remembered for
   * `nat.mappingCheckInterval`): a punch through it would only cost `punchTimeout`.
   */
  private async punchPort(
    relay: { host: string; port: number },
    peer: PeerId,
  ): Promise<{ localPort: number; ip: string; port: number } | undefined> {
    const o = this.options
    const known =
      this.mapping && this.clock.now() - this.mapping.at < o.mappingCheckInterval ? this.mapping : undefined
    if (known && !known.stable) return undefined
    try {
      if (known) return await observe(relay, this.clock, o.punchTimeout)
      const seen = await observeTwice(relay, this.clock, o.punchTimeout)
      this.mapping = { stable: seen.stable, at: this.clock.now() }
      this.log.info(
        seen.stable ? 'NAT keeps its mappings: hole punching' : 'NAT changes its mappings: no hole punching',
        {
          relay: `${relay.host}:${relay.port}`,
          observed: `${seen.ip}:${seen.port}`,
        },
      )
      return seen.stable ? seen : undefined
    } catch (err) {
      this.log.info('no observed port: no hole punch', { peer, error: (err as Error).message })
      return undefined
    }
  }

  /** The dialer's side of the coordination; resolves with the connection to keep. */
  private async upgradeDialer(
    relayed: Connection,
    targetIp: string | undefined,
    relay: { host: string; port: number },
  ): Promise<Connection> {
    const o = this.options
    const peer = relayed.remotePeer
    this.upgrading.add(relayed)
    try {
      const push = o.push ? this.pushPort() : undefined
      const punch =
        o.holePunch && push === undefined && targetIp ? await this.punchPort(relay, peer) : undefined
      const pushed =
        push !== undefined
          ? this.waitPush(peer, o.punchTimeout + this.tcpOptions.handshakeTimeout)
          : undefined
      pushed?.catch(() => {}) // awaited below when the plan is a push; otherwise it only times out
      await sendUpgrade(relayed, { t: 'hi', push, punch: punch?.port })
      const plan = await nextUpgrade(relayed, 'plan', this.clock, o.punchTimeout * 2)
      if (plan.mode === 'push' && pushed) {
        const r = await nextUpgrade(
          relayed,
          'result',
          this.clock,
          o.punchTimeout + this.tcpOptions.handshakeTimeout,
        )
        if (r.ok) {
          const conn = await pushed
          void relayed.close()
          return conn
        }
      } else if (plan.mode === 'punch' && punch && plan.port && targetIp) {
        await sendUpgrade(relayed, { t: 'sync' })
        const socket = await this.tryConnect(targetIp, plan.port, `hole punch to ${peer}`, punch.localPort)
        await sendUpgrade(relayed, { t: 'result', ok: socket !== undefined })
        if (socket)
          return await this.replace(
            relayed,
            socket,
            'initiator',
            'hole-punched',
            `tcp://${targetIp}:${plan.port}`,
          )
      }
      return relayed
    } catch (err) {
      if (relayed.closed)
        throw new PeerUnreachableError(`relayed connection to ${peer} closed while upgrading`, { cause: err })
      this.log.info('upgrade failed: keeping the relayed connection', { peer, error: (err as Error).message })
      return relayed
    } finally {
      this.upgrading.delete(relayed)
      this.pushWaiters.delete(peer)
    }
  }

  /** A dialer at `ip` connects through `res`: open the accepting socket, then coordinate. */
  private async acceptRelayed(res: Reservation, token: string, ip: string): Promise<void> {
    const what = `relay ${res.address}`
    if (this.accepting >= this.options.maxIncoming) {
      this.ignored++
      // A relay (anyone may run one) cannot make this peer open sockets without end.
      this.log.info('incoming relayed connection ignored: too many being set up (nat.maxIncoming)', {
        relay: res.address,
        from: ip,
        limit: this.options.maxIncoming,
      })
      return
    }
    this.accepting++
    try {
      const socket = await connectSocket({
        ...res.relay,
        clock: this.clock,
        timeout: this.options.connectTimeout,
        what,
      })
      socket.write(preface(Kind.accept, { token }))
      const ans = await readAnswer(socket, { clock: this.clock, timeout: this.options.connectTimeout, what })
      if (!ans.ok) {
        socket.destroy()
        throw new PeerUnreachableError(`${what} refused the accept: ${ans.reason ?? 'no reason'}`)
      }
      const relayed = await secure(socket, 'responder', 'relayed', {
        identity: this.identity,
        tcp: this.tcpOptions,
        clock: this.clock,
        address: `${res.relayedAddress()}#from=${ip}`,
      })
      const conn = await this.upgradeTarget(relayed, ip, res)
      const listener = [...this.listeners][0]
      if (!listener || this.closed) return void conn.close()
      listener.deliver(this.established(conn))
    } catch (err) {
      this.log.info('incoming relayed connection failed', {
        relay: res.address,
        from: ip,
        error: (err as Error).message,
      })
    } finally {
      this.accepting--
    }
  }

  /** The reserved peer's side of the coordination. */
  private async upgradeTarget(relayed: Connection, dialerIp: string, res: Reservation): Promise<Connection> {
    const o = this.options
    const peer = relayed.remotePeer
    this.upgrading.add(relayed)
    try {
      const hi = await nextUpgrade(relayed, 'hi', this.clock, o.punchTimeout * 2)
      if (hi.push !== undefined && o.push) {
        await sendUpgrade(relayed, { t: 'plan', mode: 'push' })
        // Only ever the IP the relay saw the dialer at: a dialer cannot aim this peer at a third party.
        const address = `tcp://${dialerIp}:${hi.push}`
        const socket = await this.tryConnect(dialerIp, hi.push, `push to ${peer}`)
        const conn = socket
          ? await secure(socket, 'initiator', 'pushed', {
              identity: this.identity,
              tcp: this.tcpOptions,
              clock: this.clock,
              address,
              expectedPeer: peer,
            }).catch((err: Error) => {
              this.log.info('push failed: keeping the relayed connection', {
                peer,
                address,
                error: err.message,
              })
              return undefined
            })
          : undefined
        await sendUpgrade(relayed, { t: 'result', ok: conn !== undefined })
        if (!conn) return relayed
        void relayed.close()
        return conn
      }
      const mine = hi.punch !== undefined && o.holePunch ? await this.punchPort(res.relay, peer) : undefined
      if (hi.punch !== undefined && mine) {
        await sendUpgrade(relayed, { t: 'plan', mode: 'punch', port: mine.port })
        await nextUpgrade(relayed, 'sync', this.clock, o.punchTimeout)
        const punching = this.tryConnect(dialerIp, hi.punch, `hole punch to ${peer}`, mine.localPort)
        const result = await nextUpgrade(relayed, 'result', this.clock, o.punchTimeout * 2)
        const socket = await punching
        if (result.ok && socket)
          return await this.replace(
            relayed,
            socket,
            'responder',
            'hole-punched',
            `tcp://${dialerIp}:${hi.punch}`,
          )
        socket?.destroy()
        return relayed
      }
      await sendUpgrade(relayed, { t: 'plan', mode: 'relay' })
      return relayed
    } catch (err) {
      if (relayed.closed) throw err
      this.log.info('upgrade failed: keeping the relayed connection', { peer, error: (err as Error).message })
      return relayed
    } finally {
      this.upgrading.delete(relayed)
    }
  }
}
