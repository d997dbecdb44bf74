import {
  AbortError,
  boundedStream,
  CLOCK,
  type Clock,
  type ContentHash,
  type FileRecord,
  type Hit,
  IDENTITY,
  type Identity,
  InvalidOptionsError,
  keywords,
  LOGGER,
  type Logger,
  MessageCounter,
  type MuxRequestOptions,
  NETWORK,
  type Network,
  NotStartedError,
  type Overlay,
  type OverlayConnectivity,
  type OverlayEvents,
  type OverlayStats,
  PEER_CONFIG,
  type PeerConfig,
  type PeerRef,
  PeerUnreachableError,
  ProtocolError,
  type Query,
  querySchema,
  RANDOM,
  type Random,
  type SearchOptions,
  sleep,
  TimeoutError,
} from '@peerkit/core'
import { EventEmitter } from 'eventemitter3'
import { inject, injectable } from 'tsyringe'
import { Backoff } from './backoff.js'
import { Heartbeat } from './heartbeat.js'
import {
  CENTRAL,
  type CentralRequest,
  loginPayload,
  MAX_UNREGISTER_BATCH,
  type RequestType,
  type ResponseOf,
} from './messages.js'
import type { CentralOptions } from './options.js'
import { CENTRAL_OPTIONS } from './tokens.js'

/** Errors with which the server refuses a request: the caller must hear of them. */
const REFUSALS = new Set(['RateLimitError', 'AuthenticationError', 'ProtocolError'])
/** Milliseconds a goodbye may take at `stop()`. */
const LOGOUT_TIMEOUT = 1000

/**
 * The client of the `central` strategy (Napster). It logs in to the first
 * directory server that answers, keeps its records registered there, sends
 * heartbeats, and searches with one request (results arrive page by page).
 * When the server goes away it reconnects by itself with jittered backoff
 * and registers again; meanwhile a search fails with `PeerUnreachableError`.
 */
@injectable()
export class CentralOverlay extends EventEmitter<OverlayEvents> implements Overlay {
  readonly name = 'central'
  readonly [Symbol.toStringTag] = '@peerkit/overlay-central'
  private readonly counter = new MessageCounter()
  private readonly published = new Map<ContentHash, FileRecord>()
  private readonly directories: readonly string[]
  private readonly backoff: Backoff
  private server: PeerRef | undefined
  private lastServer: string | undefined
  /** The address of the directory last logged in to. */
  private lastAddress: string | undefined
  /** The server may hold records that differ from `published`. */
  private dirty = false
  private running = false
  private abort = new AbortController()
  private heartbeat: Heartbeat | undefined
  /** The heartbeat interval of the session (the option, or the server's at login). */
  private beatInterval = 0
  /** The directory says by itself that it is alive (`expectAlive`): no pings, a deadline instead. */
  private listening = false
  private lost: (() => void) | undefined
  private loop: Promise<void> | undefined
  private lock: Promise<unknown> = Promise.resolve()
  /** Steps queued on `lock` and not finished (a registration in flight explains a `known` that differs). */
  private queued = 0
  /** When the records were last registered again after a `ping` answer's `known` differed from `published`. */
  private lastResync = Number.NEGATIVE_INFINITY
  /**
   * The counts (the directory's `known`, our `published`) a registration of
   * everything ended at without matching (a refusal over the directory's
   * budget): the same difference again is not a loss, and is not sent again.
   */
  private settled: { known: number; published: number } | undefined
  private lastError: Error | undefined
  /** Since when no directory answers (an outage is logged once, at its start and at its end). */
  private unreachableSince: number | undefined
  private readonly log: Logger
  private readonly onDisconnect = (peer: PeerRef) => {
    if (peer.id === this.server?.id) this.markLost()
  }

  constructor(
    @inject(NETWORK) private readonly network: Network,
    @inject(IDENTITY) private readonly identity: Identity,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(RANDOM) random: Random,
    @inject(PEER_CONFIG) config: PeerConfig,
    @inject(CENTRAL_OPTIONS) private readonly options: Readonly<Required<CentralOptions>>,
    @inject(LOGGER) logger: Logger,
  ) {
    super()
    this.log = logger.forComponent('peerkit:central:client')
    this.directories = options.directories.length > 0 ? options.directories : config.bootstrap
    this.backoff = new Backoff(random, options.reconnectMin, options.reconnectMax)
  }

  /** True while logged in to a directory server. */
  get connected(): boolean {
    return this.server !== undefined
  }

  /**
   * Logs in to the first directory that answers (trying each once), then
   * keeps the session alive in the background. Resolves even when none
   * answers: the client goes on trying, with backoff.
   */
  async start(): Promise<void> {
    if (this.running) return
    if (this.directories.length === 0) {
      throw new InvalidOptionsError(
        'central needs a directory server: set config.bootstrap (or options.central.directories) to its address, e.g. tcp://10.0.0.5:4001',
      )
    }
    this.running = true
    this.abort = new AbortController()
    this.network.on('peer:disconnect', this.onDisconnect)
    const connected = await this.connectOnce().then(
      () => true,
      () => false,
    )
    this.loop = this.run(connected)
  }

  /** Says goodbye to the server (its records go at once) and stops reconnecting. */
  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    this.abort.abort()
    this.network.off('peer:disconnect', this.onDisconnect)
    const server = this.server
    if (server) {
      await this.call(server, { type: 'logout' }, { timeout: LOGOUT_TIMEOUT }).catch(() => {}) // unanswered: the server drops the session within its dropAfter anyway
      this.markLost()
    }
    await this.loop
    this.loop = undefined
  }

  /** The container's dispose hook, as every overlay has: stops. */
  async dispose(): Promise<void> {
    await this.stop()
  }

  async publish(records: FileRecord[]): Promise<void> {
    const self = this.identity.peerId
    const fresh: FileRecord[] = []
    for (const r of records) {
      const record = { ...r, provider: { id: self, addresses: [] } }
      if (!this.published.has(r.hash)) fresh.push(record)
      this.published.set(r.hash, record)
    }
    if (!this.server) {
      this.dirty = true
      return
    }
    await this.serial(async () => {
      const server = this.server
      if (!server) return
      try {
        await this.register(
          server,
          records.map((r) => this.published.get(r.hash) as FileRecord),
        )
      } catch (err) {
        if (!REFUSALS.has((err as Error).name)) {
          // Kept, and registered in full at the next login (dirty).
          this.log.debug('register failed; sent again at the next login', { server: server.id, err })
          this.dirty = true
          return
        }
        // The server refused: what it refused is not published.
        this.log.info('directory refused a registration', { server: server.id, err })
        for (const r of fresh) this.published.delete(r.hash)
        this.dirty = true
        throw err
      }
    })
  }

  async unpublish(hashes: ContentHash[]): Promise<void> {
    const gone = hashes.filter((h) => this.published.delete(h))
    if (gone.length === 0) return
    if (!this.server) {
      this.dirty = true
      return
    }
    await this.serial(async () => {
      const server = this.server
      if (!server) return
      try {
        for (let i = 0; i < gone.length; i += MAX_UNREGISTER_BATCH) {
          await this.call(server, { type: 'unregister', hashes: gone.slice(i, i + MAX_UNREGISTER_BATCH) })
        }
      } catch (err) {
        // Sent again in full at the next login (dirty).
        this.log.debug('unregister failed; resent at the next login', { server: server.id, err })
        this.dirty = true
      }
    })
  }

  /**
   * One request to the directory, results page by page. While the peer is
   * between two directories (its own died, it is logging in to another), the
   * search waits up to `failoverWait` for the new one; a search whose
   * directory dies under it starts again there, without repeating a hit.
   */
  search(query: Query, options: SearchOptions = {}): AsyncIterable<Hit> {
    return boundedStream<Hit>(this.clock, options, async (push, signal) => {
      const q = this.checkQuery(query)
      if (!q) return
      const limit = q.limit ?? Number.POSITIVE_INFINITY
      const seen = new Set<ContentHash>()
      for (let attempt = 0; ; attempt++) {
        const server = await this.awaitServer(signal)
        try {
          let page = await this.call(server, { type: 'search', query: q }, { signal })
          for (;;) {
            for (const hit of page.hits) {
              if (seen.size >= limit) return
              if (seen.has(hit.hash)) continue
              seen.add(hit.hash)
              push(hit)
            }
            if (page.cursor === undefined || seen.size >= limit || signal.aborted) return
            page = await this.call(server, { type: 'more', cursor: page.cursor }, { signal })
          }
        } catch (err) {
          // The directory went away under the search: once more at the next one (its registry is the same
          // when the directories share a database). A refusal, an abort or a second loss is the caller's.
          const lost = this.server !== server
          if (attempt > 0 || !lost || signal.aborted || REFUSALS.has((err as Error).name)) throw err
          this.log.debug('the directory went away during a search; searching again at the next one', {
            server: server.id,
            err,
          })
        }
      }
    })
  }

  providers(hash: ContentHash, options: SearchOptions = {}): AsyncIterable<PeerRef> {
    const search = this.search({ hash }, options)
    return (async function* () {
      const seen = new Set<string>()
      for await (const hit of search) {
        for (const p of hit.providers) {
          if (seen.has(p.id)) continue
          seen.add(p.id)
          yield p
        }
      }
    })()
  }

  /**
   * This peer exchanges something with the directory over another protocol
   * just now (a supernode leaf's refresh, which its supernode counts as a
   * heartbeat): the next heartbeat is due a whole `heartbeatInterval` from
   * now. Called when such a request is sent and again when it is answered:
   * a heartbeat while it is under way would tell nothing that its answer (or
   * its timeout, and then the heartbeat an interval after it was sent) does
   * not. Nothing while not logged in.
   */
  heard(): void {
    this.heartbeat?.heard()
  }

  /**
   * The directory will say by itself that it is alive (a supernode sends its leaf `alive`, which the
   * leaf passes to `alive()`): from the next login on this client sends no heartbeat, and the session
   * is lost once nothing was heard (`heard()`, `alive()`) for `heartbeatInterval + max(heartbeatInterval,
   * 1000)` ms, the bound a heartbeat and its timeout gave. The directory still hears from this peer
   * by other means (a supernode counts its leaf's refreshes as heartbeats).
   */
  expectAlive(): void {
    this.listening = true
  }

  /**
   * The directory said it is alive and holds `known` of our records, as a heartbeat's answer says:
   * the next deadline (or heartbeat) is an interval from now, and a `known` that differs from what
   * we publish is registered again as after a heartbeat. Nothing while not logged in.
   */
  alive(known: number): void {
    const server = this.server
    if (server === undefined || this.heartbeat === undefined) return
    this.heartbeat.heard()
    this.compare(server, known, this.beatInterval)
  }

  /** The directory server while logged in. */
  neighbors(): PeerRef[] {
    return this.server ? [{ ...this.server, addresses: [...this.server.addresses] }] : []
  }

  role(): string {
    return 'peer'
  }

  /** `connected` while logged in to a directory, else `bootstrapping` (it keeps reconnecting with backoff) with the last error. */
  connectivity(): OverlayConnectivity {
    if (this.server) return { state: 'connected', neighbors: 1 }
    const reason = this.lastError?.message
    return reason === undefined
      ? { state: 'bootstrapping', neighbors: 0 }
      : { state: 'bootstrapping', neighbors: 0, reason }
  }

  stats(): OverlayStats {
    return this.counter.snapshot({
      connected: this.connected,
      server: this.server?.id,
      published: this.published.size,
    })
  }

  /** Reconnects whenever the session is lost, until `stop()`. */
  private async run(connected: boolean): Promise<void> {
    while (this.running) {
      if (connected) {
        this.backoff.reset()
        await this.whenLost()
        connected = false
        continue
      }
      try {
        await sleep(this.clock, this.backoff.next(), this.abort.signal)
      } catch {
        return // aborted by stop(): nothing to report
      }
      if (!this.running) return
      connected = await this.connectOnce().then(
        () => true,
        () => false,
      )
    }
  }

  /**
   * Tries each directory address in order, starting after the one last used
   * (after a failure, the directory that failed is tried last); logs in to the first that answers.
   */
  private async connectOnce(): Promise<void> {
    const errors: string[] = []
    const last = this.lastAddress === undefined ? -1 : this.directories.indexOf(this.lastAddress)
    const order = [...this.directories.slice(last + 1), ...this.directories.slice(0, last + 1)]
    for (const address of order) {
      if (!this.running) throw new NotStartedError('the central overlay is stopped')
      try {
        const { id } = await this.network.dialAddress(address, { signal: this.abort.signal })
        const server: PeerRef = { id, addresses: [address] }
        await this.serial(() => this.login(server))
        this.lastAddress = address
        return
      } catch (err) {
        errors.push(`${address}: ${(err as Error).message}`)
      }
    }
    this.lastError = new PeerUnreachableError(`no directory server answered (${errors.join('; ')})`)
    if (this.unreachableSince === undefined && this.running) {
      this.unreachableSince = this.clock.now()
      this.log.info('no directory server is reachable; retrying with backoff', { err: this.lastError })
    } else this.log.debug('still no directory server', { err: this.lastError })
    throw this.lastError
  }

  private async login(server: PeerRef): Promise<void> {
    this.network.protect(server.id)
    try {
      const hello = await this.call(server, { type: 'hello' })
      if (hello.server !== server.id) {
        throw new ProtocolError(
          `directory at ${server.addresses[0]} says it is ${hello.server}, not ${server.id}`,
        )
      }
      const addresses = this.network.addresses()
      const timestamp = this.clock.now()
      const signature = this.identity.sign(
        loginPayload(server.id, this.identity.peerId, hello.nonce, addresses, timestamp),
      )
      const reset = this.dirty || this.lastServer !== server.id
      const res = await this.call(server, { type: 'login', addresses, timestamp, signature, reset })
      this.settled = undefined
      if (reset || res.known !== this.published.size) await this.registerAll(server, res.known)
      if (!this.running) {
        await this.call(server, { type: 'logout' }, { timeout: LOGOUT_TIMEOUT }).catch(() => {}) // unanswered: the server drops the session within its dropAfter anyway
        throw new NotStartedError('the central overlay was stopped while logging in')
      }
      this.dirty = false
      this.lastServer = server.id
      this.server = server
      this.lastError = undefined
      const interval = this.options.heartbeatInterval || res.heartbeatInterval
      this.beatInterval = interval
      this.heartbeat = this.listening
        ? new Heartbeat(
            this.clock,
            interval + Math.max(interval, 1000),
            () => this.silent(server, interval + Math.max(interval, 1000)),
            (err) => this.log.warn('a silent directory was not dropped cleanly', { server: server.id, err }),
          )
        : new Heartbeat(
            this.clock,
            interval,
            () => this.ping(server, interval),
            (err) =>
              this.log.warn('a heartbeat failed; it runs again at its next interval', {
                server: server.id,
                err,
              }),
          )
      const outage =
        this.unreachableSince === undefined ? undefined : this.clock.now() - this.unreachableSince
      this.unreachableSince = undefined
      this.log.info(outage === undefined ? 'logged in to the directory' : 'reconnected to the directory', {
        server: server.id,
        address: server.addresses[0],
        records: this.published.size,
        ...(outage === undefined ? {} : { afterMs: outage }),
      })
      this.emit('neighbor:add', { ...server })
    } catch (err) {
      this.network.protect(server.id, false)
      await this.network.hangUp(server.id).catch(() => {}) // closing a connection that may be gone: nothing to lose
      throw err
    }
  }

  private async ping(server: PeerRef, interval: number): Promise<void> {
    if (this.server !== server) return
    let known: number
    try {
      known = (await this.call(server, { type: 'ping' }, { timeout: Math.max(interval, 1000) })).known
    } catch (err) {
      if (this.server !== server) return
      this.lastError = err as Error
      this.markLost()
      await this.network.hangUp(server.id).catch(() => {}) // closing a connection that may be gone: nothing to lose
      return
    }
    this.compare(server, known, interval)
  }

  /** A directory that says it is alive by itself (`expectAlive`) said nothing for `ms`: the session is lost. */
  private async silent(server: PeerRef, ms: number): Promise<void> {
    if (this.server !== server) return
    this.lastError = new TimeoutError(`directory ${server.id} said nothing for ${ms} ms`)
    this.markLost()
    await this.network.hangUp(server.id).catch(() => {}) // closing a connection that may be gone: nothing to lose
  }

  /** The directory holds `known` of our records (a heartbeat's answer, or an `alive`): registers them again when it lost some. */
  private compare(server: PeerRef, known: number, interval: number): void {
    if (!this.mustResync(server, known, interval)) return
    this.lastResync = this.clock.now()
    // Beside the heartbeat, which goes on meanwhile (a lost directory is noticed as before).
    this.serial(async () => {
      if (this.server !== server) return // lost meanwhile: the next login registers everything
      this.log.info(
        'the directory holds a different number of our records than we publish; registering them again',
        {
          server: server.id,
          known,
          published: this.published.size,
        },
      )
      await this.registerAll(server, known)
    }).catch((err) =>
      this.log.warn('registering our records again failed; the next heartbeat compares again', {
        server: server.id,
        err,
      }),
    )
  }

  /**
   * True when a `ping` answer's `known` says the directory lost records we
   * publish (on a durable index they lapsed with a lease it did not renew in
   * time): not while a registration is in flight or queued (it explains the
   * difference), at most once per heartbeat `interval`, and not for the
   * difference a refused registration of everything already ended at.
   */
  private mustResync(server: PeerRef, known: number, interval: number): boolean {
    const published = this.published.size
    if (this.server !== server || this.queued > 0 || known === published) return false
    if (this.settled?.known === known && this.settled.published === published) return false
    return this.clock.now() - this.lastResync >= interval
  }

  /**
   * Registers every published record again (in batches; the directory takes
   * a record it holds as it is). A refusal (over the directory's budget) does
   * not end the session: it is logged, and the counts it ended at are kept
   * so that the same difference is not sent again at every heartbeat.
   */
  private async registerAll(server: PeerRef, known: number): Promise<void> {
    const held = { total: known }
    try {
      await this.register(server, [...this.published.values()], held)
    } catch (err) {
      if (!REFUSALS.has((err as Error).name)) throw err
      this.log.info('directory refused the registration of our records', { server: server.id, err })
      this.lastError = err as Error
    }
    const published = this.published.size
    this.settled = held.total === published ? undefined : { known: held.total, published }
  }

  /** Registers `records` in batches; `held.total` follows the directory's count after each. */
  private async register(
    server: PeerRef,
    records: FileRecord[],
    held: { total: number } = { total: 0 },
  ): Promise<void> {
    const batch = this.options.registerBatch
    for (let i = 0; i < records.length; i += batch) {
      held.total = (await this.call(server, { type: 'register', records: records.slice(i, i + batch) })).total
    }
  }

  /** Ends the session: the run loop reconnects unless stopped. */
  private markLost(): void {
    const server = this.server
    if (!server) return
    this.server = undefined
    this.heartbeat?.stop()
    this.heartbeat = undefined
    this.network.protect(server.id, false)
    if (this.running) {
      this.unreachableSince ??= this.clock.now()
      this.log.info('lost the directory; reconnecting', { server: server.id, err: this.lastError })
    }
    this.emit('neighbor:remove', server)
    const lost = this.lost
    this.lost = undefined
    lost?.()
  }

  private whenLost(): Promise<void> {
    if (!this.server || !this.running) return Promise.resolve()
    return new Promise((resolve) => {
      this.lost = resolve
    })
  }

  /**
   * The directory logged in to; while there is none, waits up to
   * `failoverWait` for a login (a failover in progress), then fails with
   * `PeerUnreachableError`.
   */
  private async awaitServer(signal: AbortSignal): Promise<PeerRef> {
    if (!this.running) throw new NotStartedError('the central overlay is not started; call start() first')
    if (this.server) return this.server
    const wait = this.options.failoverWait
    if (wait > 0 && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.clock.clearTimeout(timer)
          signal.removeEventListener('abort', done)
          this.off('neighbor:add', done)
          resolve()
        }
        const timer = this.clock.setTimeout(done, wait)
        signal.addEventListener('abort', done)
        this.on('neighbor:add', done)
      })
    }
    if (signal.aborted) throw new AbortError('search aborted', { cause: signal.reason })
    if (!this.running) throw new NotStartedError('the central overlay was stopped')
    if (this.server) return this.server
    throw new PeerUnreachableError(
      `no directory server is reachable (${this.directories.join(', ')}) within central.failoverWait (${wait} ms); the client keeps reconnecting in the background` +
        (this.lastError ? `: ${this.lastError.message}` : ''),
      { cause: this.lastError },
    )
  }

  /** The query as the server accepts it, or undefined for one that can match nothing. */
  private checkQuery(query: Query): Query | undefined {
    const q: Query = { ...query }
    if (q.keywords !== undefined) {
      q.keywords = keywords(q.keywords.join(' '))
      if (q.keywords.length === 0 && q.hash === undefined) return undefined
    }
    if (q.limit !== undefined && q.limit <= 0) return undefined
    const result = querySchema.safeParse(q)
    if (!result.success) {
      throw new InvalidOptionsError(
        `invalid query: ${result.error.issues[0]?.message ?? 'does not match the query schema'}`,
      )
    }
    return result.data
  }

  private async call<T extends RequestType>(
    server: PeerRef,
    request: Extract<CentralRequest, { type: T }>,
    options: MuxRequestOptions = {},
  ): Promise<ResponseOf<T>> {
    if (options.signal?.aborted) throw new AbortError('request aborted', { cause: options.signal.reason })
    this.counter.sent(request.type)
    const response = await this.network.request(server, CENTRAL, request, options).catch((err: Error) => {
      if (err.name === 'NotLoggedInError' && this.server === server) {
        // The server dropped our session (a missed heartbeat): log in again, with everything.
        this.dirty = true
        this.markLost()
        void this.network.hangUp(server.id).catch(() => {}) // closing a connection that may be gone: nothing to lose
      }
      throw err
    })
    this.counter.received(response.type)
    const expected = request.type === 'search' || request.type === 'more' ? 'hits' : request.type
    if (response.type !== expected) {
      throw new ProtocolError(`directory answered ${request.type} with ${response.type}`)
    }
    return response as ResponseOf<T>
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    this.queued++
    const run = this.lock.then(fn, fn).finally(() => {
      this.queued--
    })
    this.lock = run.catch(() => {}) // the caller of serial() gets the error from `run`; the lock only orders
    return run
  }
}
