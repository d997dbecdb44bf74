import {
  AuthenticationError,
  assertSignature,
  CLOCK,
  type Clock,
  type ContentHash,
  every,
  type FileRecord,
  type Hit,
  IDENTITY,
  type Identity,
  INDEX_FACTORY,
  type IndexFactory,
  keywords,
  LIMITS,
  LOGGER,
  type Logger,
  MessageCounter,
  NETWORK,
  type Network,
  NotFoundError,
  type OverlayStats,
  type PeerId,
  type PeerRef,
  type Query,
  RANDOM,
  type Random,
  RateLimitError,
  type RequestContext,
  TokenBucket,
} from '@peerkit/core'
import { EventEmitter } from 'eventemitter3'
import { inject, injectable } from 'tsyringe'
import { NotLoggedInError } from './errors.js'
import { CENTRAL, type CentralRequest, type CentralResponse, loginPayload, NONCE_BYTES } from './messages.js'
import type { DirectoryServerOptions } from './options.js'
import { type Choice, chooseProviders, compareChoices, type Placed } from './provider-choice.js'
import { RangeFoldedIndex } from './range-folded-index.js'
import { RegistryBudget, recordBytes } from './registry-budget.js'
import { type Source, sourceOf } from './source-address.js'
import { isStoredRegistry, type StoredRegistry } from './stored-registry.js'
import { DIRECTORY_SERVER_OPTIONS } from './tokens.js'

/** Milliseconds a login nonce stays valid. */
const NONCE_TTL = 30_000
/** When offline providers thin out a search, it looks this many times further (once). */
const OFFLINE_SLACK = 4
/** Paused searches kept per peer; the oldest goes first. */
const MAX_CURSORS = 8

interface Cursor {
  hits: Hit[]
  offset: number
  expires: number
}

interface Session {
  id: PeerId
  /** The provider of every record this peer registers (addresses are filled in at search time). */
  provider: PeerRef
  addresses: string[]
  /** Where it logged in from (the connection's remote IP and range); its records are accounted there. */
  source: Source
  /** When the session began: older providers are preferred when a hit has more than it returns. */
  since: number
  lastSeen: number
  online: boolean
  /** Its records, with the bytes each is accounted for. */
  hashes: Map<ContentHash, number>
  bucket: TokenBucket
  cursors: Map<number, Cursor>
  /** On a durable index: when its registrations lapse unless renewed (renewed while the session lives). */
  leaseUntil: number
  /** On a stored registry: its registrations and unregistrations, one after another. */
  queue: Promise<unknown>
}

/** Ends a queued step either way: its caller got its outcome, the queue only orders the next. */
const settle = () => undefined

export interface DirectoryServerEvents {
  /** A peer logged in (or came back, maybe from a new address). */
  'peer:login': [peer: PeerRef]
  /** A peer and its records left the registry: `logout`, or `timeout` (no heartbeat within `dropAfter`). */
  'peer:drop': [peer: PeerRef, reason: 'logout' | 'timeout']
}

/**
 * The directory of the `central` strategy (Napster): peers log in with a
 * signed proof of their key, register their records, and search one
 * registry. It answers `peerkit/central/1` on the Network it is given and
 * keeps the registry in an Index from `INDEX_FACTORY`.
 */
@injectable()
export class DirectoryServer extends EventEmitter<DirectoryServerEvents> {
  readonly [Symbol.toStringTag] = '@peerkit/overlay-central:DirectoryServer'
  private readonly index: RangeFoldedIndex
  /** The index when it keeps the registrations itself (PostgreSQL): then nothing per file is held here. */
  private readonly store: StoredRegistry | undefined
  private readonly sessions = new Map<PeerId, Session>()
  private readonly nonces = new Map<PeerId, { nonce: Uint8Array; expires: number }>()
  private readonly counter = new MessageCounter()
  private readonly budget: RegistryBudget
  private sweeper: { stop(): void } | undefined
  private nextCursor = 1
  /**
   * On a shared index: peers dropped here for silence, hidden from this
   * server's results until their registrations lapse (another directory may
   * still list them, if they moved there).
   */
  private readonly departed = new Map<PeerId, number>()
  private readonly onDisconnect = (peer: PeerRef) => this.disconnected(peer.id)
  /**
   * No session was seen last before this time (the earliest `lastSeen` at the last walk of `sweep`, or a
   * login's time since when earlier): while `dropAfter` has not passed since it, no session can be
   * silent, and a sweep with nothing else to do (no cursor, no lease) need not walk the sessions.
   */
  private earliestSeen = Number.POSITIVE_INFINITY
  /** A search cursor may be held (one was kept since the last walk of `sweep` found none). */
  private cursorsHeld = false
  private readonly log: Logger

  constructor(
    @inject(NETWORK) readonly network: Network,
    @inject(INDEX_FACTORY) makeIndex: IndexFactory,
    @inject(IDENTITY) private readonly identity: Identity,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(RANDOM) private readonly random: Random,
    @inject(DIRECTORY_SERVER_OPTIONS) readonly options: Readonly<Required<DirectoryServerOptions>>,
    @inject(LOGGER) logger: Logger,
  ) {
    super()
    this.log = logger.forComponent('peerkit:central:directory')
    const index = makeIndex('directory')
    this.store = isStoredRegistry(index) ? index : undefined
    this.index = new RangeFoldedIndex(index, (err) =>
      this.log.warn('the registry index failed a write', { err }),
    )
    this.budget = new RegistryBudget(options)
  }

  get id(): PeerId {
    return this.identity.peerId
  }

  /** Records in the registry. */
  get size(): number {
    return this.store ? this.budget.total.records : this.index.size
  }

  get isStarted(): boolean {
    return this.sweeper !== undefined
  }

  /** Milliseconds between sweeps for silent peers: a silent peer goes within `dropAfter` + this. */
  get sweepInterval(): number {
    return Math.max(1, Math.min(1000, Math.floor(this.options.dropAfter / 5)))
  }

  /** Starts answering on the network (which its owner starts and stops). */
  async start(): Promise<void> {
    if (this.sweeper) return
    await this.index.open()
    this.network.handle(CENTRAL, (request, context) => this.onRequest(request, context))
    this.network.on('peer:disconnect', this.onDisconnect)
    this.sweeper = every(
      this.clock,
      this.sweepInterval,
      () => this.sweep(),
      (err) =>
        this.log.warn('the sweep for silent peers failed; it runs again at its next interval', { err }),
    )
  }

  async stop(): Promise<void> {
    if (!this.sweeper) return
    this.sweeper.stop()
    this.sweeper = undefined
    this.network.unhandle(CENTRAL)
    this.network.off('peer:disconnect', this.onDisconnect)
    this.sessions.clear()
    this.nonces.clear()
    // A durable index keeps the registrations (they lapse at their expiry); the memory index starts empty anyway.
    if (!this.index.durable) this.index.clear()
    this.departed.clear()
    this.budget.clear()
    await this.index.close()
  }

  /** Logged-in peers that are connected now. */
  peers(): PeerRef[] {
    return [...this.sessions.values()].filter((s) => s.online).map((s) => this.refOf(s))
  }

  /**
   * A logged-in peer was heard from over another protocol (a supernode
   * leaf's refresh to the supernode running this directory): it counts as
   * its heartbeat, as any request of its session does. False (and nothing
   * done) when it has no session here: only a login opens one.
   */
  heardFrom(peer: PeerId): boolean {
    const s = this.sessions.get(peer)
    if (!s) return false
    s.lastSeen = this.clock.now()
    s.online = true
    return true
  }

  /** Records a peer has registered while it has a session here (what a heartbeat's answer says); undefined without one. */
  sessionRecords(peer: PeerId): number | undefined {
    const s = this.sessions.get(peer)
    return s ? this.known(s) : undefined
  }

  /** Records registered by a peer. */
  recordsOf(peer: PeerId): number {
    const s = this.sessions.get(peer)
    return s ? this.known(s) : 0
  }

  /**
   * What the registry holds (records and estimated bytes) in all, or for one
   * peer, source address (`203.0.113.7`) or address range (`203.0.113.0/24`).
   */
  usage(of?: { peer: PeerId } | { address: string } | { prefix: string }): {
    records: number
    bytes: number
  } {
    return of ? this.budget.usage(of) : { ...this.budget.total }
  }

  /** The search a client's `search` message runs, without rate limit or paging. */
  async search(query: Query): Promise<Hit[]> {
    const limit = Math.min(query.limit ?? this.options.maxResults, this.options.maxResults)
    const raw = await this.index.search({ ...query, limit })
    let hits = this.online(raw)
    if (hits.length < limit && raw.length === limit) {
      // Offline providers left gaps: look further, within a bound.
      hits = this.online(
        await this.index.search({ ...query, limit: Math.min(limit * OFFLINE_SLACK, 10_000) }),
      )
    }
    // `online` gives a fresh array: copied only to cut it (a supernode adds its own hits to what it gets).
    return hits.length > limit ? hits.slice(0, limit) : hits
  }

  stats(): OverlayStats {
    let online = 0
    for (const s of this.sessions.values()) if (s.online) online++
    return this.counter.snapshot({ peers: this.sessions.size, online, records: this.size })
  }

  private async onRequest(request: CentralRequest, context: RequestContext): Promise<CentralResponse> {
    this.counter.received(request.type)
    try {
      const response = await this.dispatch(request, context)
      this.counter.sent(response.type)
      return response
    } catch (err) {
      this.counter.sent('error')
      this.log.debug(`refused a ${request.type}`, { peer: context.peer.id, err })
      throw err
    }
  }

  private dispatch(
    request: CentralRequest,
    context: RequestContext,
  ): CentralResponse | Promise<CentralResponse> {
    const peer = context.peer.id
    switch (request.type) {
      case 'hello':
        return this.hello(peer)
      case 'login':
        return this.login(peer, request, sourceOf(context.connection.remoteAddress))
      case 'logout':
        this.drop(peer, 'logout')
        return { type: 'logout' }
      case 'register':
        return this.register(peer, request.records)
      case 'unregister': {
        const s = this.session(peer)
        if (this.store) return this.serial(s, () => this.unregisterStored(s, request.hashes))
        let removed = 0
        for (const hash of request.hashes) {
          const bytes = s.hashes.get(hash)
          if (bytes === undefined) continue
          removed += this.index.remove(hash, peer, s.source.prefix)
          s.hashes.delete(hash)
          this.budget.charge(peer, s.source, -1, -bytes)
        }
        return { type: 'unregister', removed, total: s.hashes.size }
      }
      case 'search':
        return this.startSearch(peer, request.query)
      case 'more':
        return this.more(peer, request.cursor)
      case 'ping':
        return { type: 'ping', known: this.known(this.session(peer)) }
    }
  }

  private hello(peer: PeerId): CentralResponse {
    const nonce = this.random.bytes(NONCE_BYTES)
    this.nonces.set(peer, { nonce, expires: this.clock.now() + NONCE_TTL })
    return { type: 'hello', server: this.identity.peerId, nonce }
  }

  private login(
    peer: PeerId,
    request: Extract<CentralRequest, { type: 'login' }>,
    source: Source,
  ): CentralResponse | Promise<CentralResponse> {
    const now = this.clock.now()
    const issued = this.nonces.get(peer)
    this.nonces.delete(peer)
    if (!issued || issued.expires < now) {
      throw new AuthenticationError(`login from ${peer} without a fresh nonce: send hello first`)
    }
    const skew = Math.abs(now - request.timestamp)
    if (skew > this.options.loginSkew) {
      throw new AuthenticationError(
        `login from ${peer}: timestamp is ${skew} ms off the server clock (at most ${this.options.loginSkew})`,
      )
    }
    const payload = loginPayload(
      this.identity.peerId,
      peer,
      issued.nonce,
      request.addresses,
      request.timestamp,
    )
    assertSignature(peer, payload, request.signature, 'login proof')
    if (this.store && !this.sessions.has(peer)) {
      // What it registered before (here before a restart, or at another directory) lives on under this
      // session's lease from now on: the directory that renewed it may be dead, and its last lease would
      // lapse before this session's first renewal (at half its TTL), taking the peer's rows with it, those
      // it registers again now included (they join the live lease). Then what is live is accounted to it again.
      const store = this.store
      return store
        .renew(peer, now + this.options.registrationTtl)
        .then(() => store.usage(peer))
        .then((prior) => this.enter(peer, request, source, now, prior))
    }
    return this.enter(peer, request, source, now)
  }

  /** A proven login: starts or resumes the peer's session (with `prior`, its registrations in the stored registry). */
  private enter(
    peer: PeerId,
    request: Extract<CentralRequest, { type: 'login' }>,
    source: Source,
    now: number,
    prior?: { records: number; bytes: number },
  ): CentralResponse {
    let s = this.sessions.get(peer)
    const fresh = s === undefined
    if (s && request.reset) this.forget(s)
    const moved = s !== undefined && s.source.prefix !== source.prefix
    if (s && s.source.address !== source.address) {
      // The same PeerId from a new address is the same peer: its records (and their accounting) follow it.
      const { records, bytes } = this.budget.usage({ peer })
      this.budget.charge(peer, s.source, -records, -bytes)
      this.budget.countPeer(s.source, -1)
      // Another range: its records join that range's providers (a stored registry moves them below).
      if (!this.store && s.source.prefix !== source.prefix) {
        for (const hash of s.hashes.keys()) {
          const record = this.index.get(hash, peer, s.source.prefix)
          this.index.remove(hash, peer, s.source.prefix)
          if (record) this.index.put(record, source.prefix, this.leaseOf(s))
        }
      }
      s.source = source
      this.budget.countPeer(source, 1)
      this.budget.charge(peer, source, records, bytes)
    }
    if (!s) {
      this.budget.admitPeer(peer, source)
      this.budget.countPeer(source, 1)
      s = {
        id: peer,
        provider: this.providerRef(peer, request.addresses),
        addresses: [],
        source,
        since: now,
        lastSeen: now,
        online: true,
        hashes: new Map(),
        bucket: new TokenBucket(this.options.searchRate, this.options.searchBurst, this.clock.now()),
        cursors: new Map(),
        leaseUntil: now + this.options.registrationTtl,
        queue: Promise.resolve(),
      }
      this.departed.delete(peer)
      this.sessions.set(peer, s)
      if (prior && prior.records > 0) this.budget.charge(peer, source, prior.records, prior.bytes)
    }
    const readdressed = !sameList(s.addresses, request.addresses)
    if (this.index.durable && readdressed) s.provider = this.providerRef(peer, request.addresses)
    if (this.store) {
      // Its stored records follow it to its range and addresses (one statement; a reset peer registers them all again).
      const stale = fresh ? !request.reset : moved || readdressed
      if (stale && this.known(s) > 0) this.write(this.store.relocate(peer, s.source.prefix, s.provider))
    } else if (this.index.durable && readdressed) {
      // Other directories (and this one after a restart) give the stored addresses: store the new ones.
      for (const hash of s.hashes.keys()) {
        const record = this.index.get(hash, peer, s.source.prefix)
        if (record) this.index.put({ ...record, provider: s.provider }, s.source.prefix, this.leaseOf(s))
      }
    }
    s.addresses = [...request.addresses]
    s.lastSeen = now
    if (now < this.earliestSeen) this.earliestSeen = now
    s.online = true
    this.emit('peer:login', this.refOf(s))
    return {
      type: 'login',
      known: this.known(s),
      heartbeatInterval: this.options.heartbeatInterval,
      dropAfter: this.options.dropAfter,
      maxRecords: this.options.maxRecordsPerPeer,
    }
  }

  private register(
    peer: PeerId,
    records: Extract<CentralRequest, { type: 'register' }>['records'],
  ): CentralResponse | Promise<CentralResponse> {
    const s = this.session(peer)
    const maxName = this.options.maxNameLength
    // Keywords come from the name, never from the client: a record is found by what it is called.
    const accepted = new Map<ContentHash, { record: FileRecord; bytes: number }>()
    for (const r of records) {
      if (r.provider.id !== peer) {
        throw new AuthenticationError(
          `record ${r.hash} names provider ${r.provider.id}, not its sender ${peer}`,
        )
      }
      if (r.name.length > maxName) {
        throw new RateLimitError(
          `record ${r.hash}: a name may have at most ${maxName} characters (directory.maxNameLength; got ${r.name.length})`,
        )
      }
      const kws = keywords(r.name)
      accepted.set(r.hash, {
        record: { ...r, keywords: kws, provider: s.provider },
        bytes: recordBytes(r.name, kws),
      })
    }
    if (this.store) return this.serial(s, () => this.registerStored(s, accepted))
    let fresh = 0
    let bytes = 0
    for (const [hash, a] of accepted) {
      const known = s.hashes.get(hash)
      if (known === undefined) fresh++
      bytes += a.bytes - (known ?? 0)
    }
    this.budget.admit(peer, s.source, fresh, bytes)
    for (const [hash, a] of accepted) {
      this.index.put(a.record, s.source.prefix, this.leaseOf(s))
      s.hashes.set(hash, a.bytes)
    }
    this.budget.charge(peer, s.source, fresh, bytes)
    return { type: 'register', total: s.hashes.size }
  }

  /** `register` on a stored registry: what the peer had of these hashes comes from it, and they go to it. */
  private async registerStored(
    s: Session,
    accepted: Map<ContentHash, { record: FileRecord; bytes: number }>,
  ): Promise<CentralResponse> {
    const store = this.store as StoredRegistry
    const before = await store.registered(s.id, [...accepted.keys()])
    this.current(s)
    let fresh = 0
    let bytes = 0
    for (const [hash, a] of accepted) {
      const known = before.get(hash)
      if (known === undefined) fresh++
      bytes += a.bytes - (known ?? 0)
    }
    this.budget.admit(s.id, s.source, fresh, bytes)
    // Charged before the write, so other sessions' batches meanwhile are admitted against it.
    this.budget.charge(s.id, s.source, fresh, bytes)
    try {
      await store.register([...accepted.values()], { fold: s.source.prefix, expiresAt: this.leaseOf(s) })
    } catch (err) {
      if (this.sessions.get(s.id) === s) this.budget.charge(s.id, s.source, -fresh, -bytes)
      throw err
    }
    return { type: 'register', total: this.known(s) }
  }

  /** `unregister` on a stored registry. */
  private async unregisterStored(s: Session, hashes: readonly ContentHash[]): Promise<CentralResponse> {
    const removed = await (this.store as StoredRegistry).unregister(s.id, hashes)
    if (this.sessions.get(s.id) === s) {
      const held = this.budget.usage({ peer: s.id })
      const bytes = removed.reduce((a, b) => a + b, 0)
      this.budget.charge(
        s.id,
        s.source,
        -Math.min(removed.length, held.records),
        -Math.min(bytes, held.bytes),
      )
    }
    return { type: 'unregister', removed: removed.length, total: this.known(s) }
  }

  /** Runs `fn` after the session's earlier registrations (a stored registry answers each after a round trip). */
  private serial<T>(s: Session, fn: () => Promise<T>): Promise<T> {
    const run = s.queue.then(fn)
    s.queue = run.then(settle, settle)
    return run
  }

  /**
   * Renews a live session's lease on a stored registry, after its earlier
   * registrations (so what it counts is what they wrote). When fewer records
   * live under the lease than the session is accounted for, they lapsed
   * while it lived (its lease was not renewed in time: this process stalled
   * past it, or another directory shortened it) and were purged for good:
   * the accounting follows the rows again, and the peer, whose next `ping`
   * answer says so, registers them again.
   */
  private renewStored(s: Session, store: StoredRegistry): Promise<void> {
    const until = s.leaseUntil
    return this.serial(s, async () => {
      const live = await store.renew(s.id, until)
      if (this.sessions.get(s.id) !== s || live >= this.known(s)) return
      const held = await store.usage(s.id)
      if (this.sessions.get(s.id) !== s) return
      const accounted = this.budget.usage({ peer: s.id })
      if (held.records >= accounted.records) return
      this.budget.charge(s.id, s.source, held.records - accounted.records, held.bytes - accounted.bytes)
      this.log.warn(
        "a peer's registrations lapsed while its session lived (its lease was not renewed in time) and were purged; its accounting follows the rows again and it registers them again at its next heartbeat",
        {
          peer: s.id,
          accounted: accounted.records,
          live: held.records,
          registrationTtl: this.options.registrationTtl,
        },
      )
    })
  }

  /** Throws when the session ended (logout, timeout) while a step of it waited for the stored registry. */
  private current(s: Session): void {
    if (this.sessions.get(s.id) !== s)
      throw new NotLoggedInError(`peer ${s.id} logged out of this directory while registering`)
  }

  /** Records the peer has registered (on a stored registry: as accounted, registrations here before a restart included). */
  private known(s: Session): number {
    return this.store ? this.budget.usage({ peer: s.id }).records : s.hashes.size
  }

  /** A write whose outcome nobody waits for: a failure is logged. */
  private write(done: Promise<unknown>): void {
    done.catch((err) => this.log.warn('the registry index failed a write', { err }))
  }

  private async startSearch(peer: PeerId, query: Query): Promise<CentralResponse> {
    const s = this.session(peer)
    if (!s.bucket.take(this.clock.now())) {
      throw new RateLimitError(
        `search rate limit: at most ${this.options.searchRate} searches a second (burst ${this.options.searchBurst})`,
      )
    }
    return this.page(s, { hits: await this.search(query), offset: 0, expires: 0 }, undefined)
  }

  private more(peer: PeerId, id: number): CentralResponse {
    const s = this.session(peer)
    const cursor = s.cursors.get(id)
    if (!cursor || cursor.expires < this.clock.now()) {
      s.cursors.delete(id)
      throw new NotFoundError(
        `no search cursor ${id} (finished, or expired after ${this.options.cursorTtl} ms)`,
      )
    }
    return this.page(s, cursor, id)
  }

  /** The next page of `cursor`; keeps it (under `id`, or a new id) while hits remain. */
  private page(s: Session, cursor: Cursor, id: number | undefined): CentralResponse {
    const hits = cursor.hits.slice(cursor.offset, cursor.offset + this.options.pageSize)
    cursor.offset += hits.length
    if (cursor.offset >= cursor.hits.length) {
      if (id !== undefined) s.cursors.delete(id)
      return { type: 'hits', hits }
    }
    cursor.expires = this.clock.now() + this.options.cursorTtl
    const key = id ?? this.nextCursor++
    if (this.nextCursor > 2 ** 32) this.nextCursor = 1
    s.cursors.set(key, cursor)
    this.cursorsHeld = true
    if (s.cursors.size > MAX_CURSORS) s.cursors.delete(s.cursors.keys().next().value as number)
    return { type: 'hits', hits, cursor: key }
  }

  /**
   * Hits with only their online providers, at their current addresses: at
   * most `LIMITS.providers`, round-robin over address ranges, older sessions
   * first; hits with providers in more distinct ranges first.
   */
  private online(hits: Hit[]): Hit[] {
    // Nearly every search at a supernode's directory finds nothing (a query reaches every supernode): the
    // index's fresh empty array is the answer, without the ranking's arrays.
    if (hits.length === 0) return hits
    const ranked: { hit: Hit; choice: Choice<PeerRef> }[] = []
    const now = this.clock.now()
    for (const hit of hits) {
      const placed: Placed<PeerRef>[] = []
      for (const p of hit.providers) {
        const s = this.sessions.get(p.id)
        if (s) {
          if (s.online) placed.push({ item: this.refOf(s), prefix: s.source.prefix, since: s.since })
        } else if (this.index.durable && (this.departed.get(p.id) ?? 0) <= now) {
          // Registered at another directory on the shared index, or here before a restart: live until it lapses.
          const at = p.addresses[0]
          placed.push({ item: p, prefix: at ? sourceOf(at).prefix : p.id, since: Number.MAX_SAFE_INTEGER })
        }
      }
      if (placed.length === 0) continue
      const choice = chooseProviders(placed, LIMITS.providers)
      ranked.push({ hit: { ...hit, providers: choice.chosen }, choice })
    }
    return ranked.sort((a, b) => compareChoices(a.choice, b.choice)).map((r) => r.hit)
  }

  /** Removes a session's records from the index and the budget. */
  private forget(s: Session, keepShared = false): void {
    if (this.store) {
      if (!keepShared) this.write(this.store.unregister(s.id))
    } else if (keepShared) for (const hash of s.hashes.keys()) this.index.forget(hash, s.id, s.source.prefix)
    else for (const hash of s.hashes.keys()) this.index.remove(hash, s.id, s.source.prefix)
    const { records, bytes } = this.budget.usage({ peer: s.id })
    this.budget.charge(s.id, s.source, -records, -bytes)
    s.hashes.clear()
  }

  private session(peer: PeerId): Session {
    const s = this.sessions.get(peer)
    if (!s)
      throw new NotLoggedInError(
        `peer ${peer} is not logged in to this directory: send hello and login first`,
      )
    s.lastSeen = this.clock.now()
    s.online = true
    return s
  }

  private disconnected(peer: PeerId): void {
    this.nonces.delete(peer)
    const s = this.sessions.get(peer)
    if (!s) return
    s.online = false
    s.cursors.clear()
  }

  private drop(peer: PeerId, reason: 'logout' | 'timeout'): void {
    const s = this.sessions.get(peer)
    if (!s) return
    this.sessions.delete(peer)
    // On a shared index a silent peer's registrations are left to lapse: it may have moved to another directory.
    const keep = reason === 'timeout' && this.index.shared
    if (keep) this.departed.set(peer, s.leaseUntil)
    this.forget(s, keep)
    this.budget.countPeer(s.source, -1)
    this.emit('peer:drop', this.refOf(s), reason)
  }

  private sweep(): void {
    const now = this.clock.now()
    // Every session was seen within dropAfter, none holds a cursor and no lease needs renewing: the walk
    // would change nothing (a directory of 10^4 peers heartbeating every 5 s walks about one sweep in ten).
    if (now - this.earliestSeen > this.options.dropAfter || this.cursorsHeld || this.index.durable)
      this.walk(now)
    for (const [peer, until] of this.departed) if (until <= now) this.departed.delete(peer)
    for (const [peer, n] of this.nonces) if (n.expires < now) this.nonces.delete(peer)
  }

  /** Drops the sessions silent for `dropAfter`, forgets expired cursors and renews leases at half their term. */
  private walk(now: number): void {
    const ttl = this.options.registrationTtl
    let earliest = Number.POSITIVE_INFINITY
    let cursors = false
    // Over the map itself, not a copy (a supernode's directory sweeps every second): a Map's
    // iteration goes on past the entry `drop` deletes, and nothing here adds one.
    for (const s of this.sessions.values()) {
      if (now - s.lastSeen > this.options.dropAfter) this.drop(s.id, 'timeout')
      else {
        if (s.lastSeen < earliest) earliest = s.lastSeen
        // Nearly every session has no cursor: no iterator made for it at every sweep.
        if (s.cursors.size > 0) {
          for (const [id, c] of s.cursors) if (c.expires < now) s.cursors.delete(id)
          if (s.cursors.size > 0) cursors = true
        }
        if (this.index.durable && s.leaseUntil - now < ttl / 2) {
          // A live session's registrations are renewed at half their lease (one statement on PostgreSQL).
          s.leaseUntil = now + ttl
          if (this.store) {
            if (this.known(s) > 0) this.write(this.renewStored(s, this.store))
          } else if (s.hashes.size > 0) this.index.renew(s.id, s.source.prefix, s.hashes.keys(), s.leaseUntil)
        }
      }
    }
    this.earliestSeen = earliest
    this.cursorsHeld = cursors
  }

  private refOf(s: Session): PeerRef {
    return { id: s.id, addresses: [...s.addresses] }
  }

  /**
   * The provider stored in a peer's records: on a durable index with its
   * addresses (other directories, and this one after a restart, list it as
   * stored); otherwise without (they are filled in from the session).
   */
  private providerRef(peer: PeerId, addresses: readonly string[]): PeerRef {
    const listed = this.index.durable ? Object.freeze([...addresses]) : Object.freeze([])
    return Object.freeze({ id: peer, addresses: listed as unknown as string[] })
  }

  /** The expiry of a session's registrations, on a durable index. */
  private leaseOf(s: Session): number | undefined {
    return this.index.durable ? s.leaseUntil : undefined
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}
