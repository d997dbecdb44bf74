import {
  boundedStream,
  CLOCK,
  type Clock,
  type ContentHash,
  every,
  type FileRecord,
  type Hit,
  type Index,
  InvalidOptionsError,
  isContentHash,
  LOCAL_INDEX,
  LOGGER,
  type Logger,
  NETWORK,
  type Network,
  NotStartedError,
  type Overlay,
  type OverlayConnectivity,
  type OverlayEvents,
  type OverlayStats,
  PEER_CONFIG,
  type PeerConfig,
  type PeerId,
  type PeerRef,
  PeerUnreachableError,
  type Query,
  querySchema,
  RANDOM,
  type Random,
  RateLimitError,
  type RequestContext,
  type SearchOptions,
} from '@peerkit/core'
import { EventEmitter } from 'eventemitter3'
import { inject, injectable } from 'tsyringe'
import { addressGroup } from './address-group.js'
import {
  FLOODING,
  type FloodingMessage,
  type HitMessage,
  MAX_HITS_PER_MESSAGE,
  newQueryId,
  type PingMessage,
  type PongMessage,
  type QueryMessage,
} from './messages.js'
import { heard, Neighbor, NeighborTable } from './neighbor-table.js'
import type { ResolvedFloodingOptions } from './options.js'
import { QueryIdCache } from './query-id-cache.js'
import { SearchSession } from './search-session.js'
import { SeenCache } from './seen-cache.js'
import { Tally } from './tally.js'
import { FLOODING_OPTIONS } from './tokens.js'

/** Per-search options of the flooding overlay (on top of `SearchOptions`). */
export interface FloodingSearchOptions extends SearchOptions {
  /** Overrides `expandingRing` for this search. */
  expandingRing?: boolean
  /** TTL of a plain flood (overrides `ttl`). */
  ttl?: number
  /** Last TTL of the expanding ring (overrides `maxTtl`). */
  maxTtl?: number
  /** Providers the expanding ring collects before it ends (overrides `providerTarget`). */
  providerTarget?: number
  /** Steps the ring may go on past the first with hits to collect them (overrides `providerRings`). */
  providerRings?: number
}

/** Byes sent to peers that are not neighbors are remembered this long, so none is sent twice in a row. */
const BYE_MEMORY_MS = 10_000
const BYE_MEMORY_SIZE = 256
/** While no bootstrap peer answers, a failed retry is a warning at most this often (debug in between). */
const ISOLATED_WARN_MS = 60_000
/** Longest wait between two bootstrap rounds of a node with no neighbor (unless maintenanceInterval is longer). */
const BOOTSTRAP_RETRY_MAX = 60_000
/** Where a query id's hits go: `null` for this node's own searches, else the neighbor it came from. */
type Route = PeerId | null

/**
 * Gnutella-style flooding: each node keeps a few neighbors and indexes only
 * its own files; a search floods to all neighbors while its TTL lasts, each
 * node answers from its own Index, and hits travel back along the reverse
 * path. Searches use an expanding ring (TTL 1, 2, 3 …) by default.
 */
@injectable()
export class FloodingOverlay extends EventEmitter<OverlayEvents> implements Overlay {
  readonly name = 'flooding'
  readonly [Symbol.toStringTag] = '@peerkit/overlay-flooding'
  // What every query a node receives reads comes first (its fields in one or two lines of memory:
  // a flood reaches each node seldom, so they are nearly always cold then).
  private started = false
  /**
   * The neighbor table's neighbors by id (`NeighborTable.byId`), kept: a query's look-up of its sender
   * reads the map itself, where the table was one more object to read at every message.
   */
  private readonly byId: ReadonlyMap<PeerId, Neighbor>
  private readonly seen: QueryIdCache<Route>
  /**
   * Queries received, dropped as duplicates and sent: counted here, beside the fields every query
   * reads, and added to the tally's other counts by `stats()` (the tally was one more object to read
   * at every message of a flood, most of them duplicates).
   */
  private queriesIn = 0
  private duplicates = 0
  private queriesOut = 0
  /** `options.maxTtl`: read for every query forwarded (the options are one more object). */
  private readonly maxTtl: number
  private readonly table: NeighborTable
  /** Messages by kind and the node's figures, for `stats()` (but the three counts above). */
  private readonly counter = new Tally()
  private readonly banned: SeenCache<PeerId, true>
  private readonly byed: SeenCache<PeerId, true>
  private readonly evicted: SeenCache<PeerId, true>
  private readonly sessions = new Map<string, SearchSession>()
  private readonly joining = new Set<PeerId>()
  /** Aborted by `stop()`: ends the searches under way. */
  private running = new AbortController()
  private maintenance: { stop(): void } | undefined
  private maintaining: Promise<void> | undefined
  /** When this node last evicted a neighbor to make room for a joiner (Clock ms). */
  private lastEviction: number | undefined
  private readonly log: Logger
  /** Set while the node has no neighbor and its bootstrap peers did not answer: when it last warned, and the retries since. */
  private isolated: { warnedAt: number; retries: number } | undefined
  /** While alone: when the next bootstrap round may run (see `bootstrapDue`). */
  private nextBootstrapAt = 0
  private readonly onDisconnect = (peer: PeerRef) => this.removeNeighbor(peer.id, 'disconnected')
  /** A neighbor a flood found with no open connection (see `sendAll`). */
  private readonly onMissing = (id: PeerId) => this.removeNeighbor(id, 'disconnected')
  private readonly onIdentify = (peer: PeerRef) => this.table.update(peer)
  /** `staticNeighbors` (empty: the protocol finds the neighbors), and who answered at each address. */
  private readonly statics: ReadonlySet<string>
  private readonly staticIds = new Map<string, PeerId>()

  constructor(
    @inject(FLOODING_OPTIONS) readonly options: ResolvedFloodingOptions,
    @inject(NETWORK) private readonly network: Network,
    @inject(LOCAL_INDEX) private readonly index: Index,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(RANDOM) private readonly random: Random,
    @inject(PEER_CONFIG) private readonly config: PeerConfig,
    @inject(LOGGER) logger: Logger,
  ) {
    super()
    this.log = logger.forComponent('peerkit:flooding:neighbors')
    this.table = new NeighborTable(network.peerId, options)
    this.byId = this.table.byId
    this.maxTtl = options.maxTtl
    this.seen = new QueryIdCache(clock, options.seenCacheSize, options.seenTtl)
    this.banned = new SeenCache(clock, Math.max(1, options.maxNeighbors * 4), Math.max(1, options.banTime))
    this.byed = new SeenCache(clock, BYE_MEMORY_SIZE, BYE_MEMORY_MS)
    this.evicted = new SeenCache(clock, Math.max(1, options.maxNeighbors * 4), Math.max(1, options.banTime))
    this.statics = new Set(options.staticNeighbors)
  }

  /** True with a fixed neighbor list (`staticNeighbors`): maintenance only re-joins those peers. */
  get isStatic(): boolean {
    return this.statics.size > 0
  }

  /** Joins through the bootstrap addresses and starts neighbor maintenance. */
  async start(): Promise<void> {
    if (this.started) return
    if (!this.network.isStarted) throw new NotStartedError('start the Network before the flooding overlay')
    this.started = true
    this.running = new AbortController()
    // A method called on the overlay (`handle`'s self), not a bound copy or an arrow: the handler reaches
    // the overlay in one step (one more line of memory at every message, all but always cold in a flood).
    this.network.handle(FLOODING, this.onMessage, this)
    this.network.on('peer:disconnect', this.onDisconnect)
    this.network.on('peer:identify', this.onIdentify)
    await this.maintain()
    this.maintenance = every(
      this.clock,
      this.options.maintenanceInterval,
      () => this.maintain(),
      (err) => this.log.warn('neighbor maintenance failed; it runs again at its next interval', { err }),
    )
  }

  /** Says bye to every neighbor and stops answering; searches under way end. */
  async stop(): Promise<void> {
    if (!this.started) return
    this.started = false
    this.running.abort()
    this.maintenance?.stop()
    this.maintenance = undefined
    this.network.unhandle(FLOODING)
    this.network.off('peer:disconnect', this.onDisconnect)
    this.network.off('peer:identify', this.onIdentify)
    for (const id of this.table.ids()) {
      void this.send(id, { kind: 'bye', reason: 'leaving' })
      this.removeNeighbor(id, 'leaving')
    }
    this.sessions.clear()
    await this.maintaining?.catch((err) => this.log.debug('maintenance failed while stopping', { err }))
  }

  async dispose(): Promise<void> {
    await this.stop()
  }

  /** Flooding keeps no remote index: publishing puts the records in this node's own Index. */
  async publish(records: FileRecord[]): Promise<void> {
    const self = this.network.self()
    // Issued together (an Index applies them in order): a persistent index commits them as one batch.
    await Promise.all(
      records.map((r) =>
        this.index.put({ ...r, provider: { id: self.id, addresses: r.provider.addresses } }),
      ),
    )
  }

  async unpublish(hashes: ContentHash[]): Promise<void> {
    await Promise.all(hashes.map((h) => this.index.remove(h, this.network.peerId)))
  }

  search(query: Query, options: FloodingSearchOptions = {}): AsyncIterable<Hit> {
    return boundedStream<Hit>(this.clock, options, (push, signal) =>
      this.flood(query, options, signal, new SearchSession('hits', query.limit, (hit) => push(hit))),
    )
  }

  providers(hash: ContentHash, options: FloodingSearchOptions = {}): AsyncIterable<PeerRef> {
    return boundedStream<PeerRef>(this.clock, options, (push, signal) => {
      if (!isContentHash(hash))
        throw new InvalidOptionsError(`providers() needs a content hash (got '${hash}')`)
      const session = new SearchSession('providers', undefined, (_hit, added) => {
        for (const p of added) push(p)
      })
      return this.flood({ hash }, options, signal, session)
    })
  }

  neighbors(): PeerRef[] {
    return this.table.refs()
  }

  role(): string {
    return 'peer'
  }

  /**
   * `connected` with a neighbour; else `bootstrapping` while bootstrap peers
   * are retried (every `maintenanceInterval`), or `isolated` with none to ask.
   */
  connectivity(): OverlayConnectivity {
    const neighbors = this.table.size
    if (neighbors > 0) return { state: 'connected', neighbors }
    if (this.isStatic)
      return { state: 'bootstrapping', neighbors, reason: 'no listed static neighbor answered yet' }
    if (this.config.bootstrap.length === 0)
      return {
        state: 'isolated',
        neighbors,
        reason: 'no bootstrap peer: waiting for peers to join through this one',
      }
    const retries = this.isolated?.retries
    return {
      state: 'bootstrapping',
      neighbors,
      reason: 'the bootstrap peers did not answer or had no room',
      ...(retries === undefined ? {} : { retries }),
    }
  }

  stats(): OverlayStats {
    return this.counter.snapshot(
      { neighbors: this.table.size, candidates: this.table.candidateCount(), seen: this.seen.size },
      { receivedQuery: this.queriesIn, duplicates: this.duplicates, sentQuery: this.queriesOut },
    )
  }

  /** One round of neighbor maintenance now: join through bootstrap or candidates up to `minNeighbors`. */
  maintain(): Promise<void> {
    if (!this.started) return Promise.resolve()
    this.maintaining ??= this.fill().finally(() => {
      this.maintaining = undefined
    })
    return this.maintaining
  }

  // ---- searching ----------------------------------------------------------

  private async flood(
    query: Query,
    options: FloodingSearchOptions,
    signal: AbortSignal,
    session: SearchSession,
  ): Promise<void> {
    if (!this.started) throw new NotStartedError('the flooding overlay is not started')
    if (query.hash === undefined && (query.keywords?.length ?? 0) === 0) return // nothing can match
    const ring = options.expandingRing ?? this.options.expandingRing
    const last = ring ? (options.maxTtl ?? this.options.maxTtl) : (options.ttl ?? this.options.ttl)
    if (!Number.isInteger(last) || last < 1 || last > this.options.maxTtl) {
      throw new InvalidOptionsError(
        `search ttl must be an integer from 1 to ${this.options.maxTtl} (got ${last})`,
      )
    }
    const stopped = AbortSignal.any([signal, this.running.signal])
    const providerTarget = checkInt(
      'providerTarget',
      options.providerTarget ?? this.options.providerTarget,
      1,
    )
    const providerRings = checkInt('providerRings', options.providerRings ?? this.options.providerRings, 0)
    // What the ring needs first: the limit's distinct files, else ringHits files (providers, for providers()).
    const enough = query.limit ?? this.options.ringHits
    let foundAt: number | undefined
    const wire: Query = query.hash !== undefined ? { hash: query.hash } : { keywords: query.keywords ?? [] }
    if (query.limit !== undefined) wire.limit = Math.min(query.limit, MAX_HITS_PER_MESSAGE)
    // What the neighbors would refuse (and close the connection for) is refused here.
    const checked = querySchema.safeParse(wire)
    if (!checked.success) {
      throw new InvalidOptionsError(`query cannot be sent: ${checked.error.issues[0]?.message ?? 'invalid'}`)
    }
    try {
      for (let ttl = ring ? 1 : last; ttl <= last; ttl++) {
        if (stopped.aborted) return
        const targets = this.table.idList()
        if (targets.length === 0) return
        const id = newQueryId(this.random)
        this.seen.set(id, null)
        this.sessions.set(id, session)
        session.ids.push(id)
        this.sendAll(targets, { kind: 'query', id, ttl, hops: 0, query: wire })
        // The step runs to its end (or the limit): every answer from this radius is worth having, its
        // messages are spent anyway. Only then does the ring decide whether to go one hop further.
        await session.wait(this.clock, Number.POSITIVE_INFINITY, ttl * this.options.ringTimeout, stopped)
        if (session.atLimit || !ring) return
        // Past the first step with enough, the ring goes on collecting providers, up to providerTarget
        // of them (summed over the files found) or providerRings steps further.
        if (foundAt === undefined && session.count >= enough) foundAt = ttl
        if (foundAt !== undefined && (session.providers >= providerTarget || ttl >= foundAt + providerRings))
          return
      }
    } finally {
      for (const id of session.ids) this.sessions.delete(id)
    }
  }

  // ---- incoming -----------------------------------------------------------

  private onMessage(msg: FloodingMessage, ctx: RequestContext): PongMessage | null {
    if (!this.started) return null
    const now = this.clock.now()
    const neighbor = this.neighborOf(ctx)
    const from = neighbor === undefined ? ctx.peer.id : neighbor.id
    if (neighbor !== undefined) heard(neighbor, now)
    // Each kind is counted in a field of its own: `msg.kind` is a string just decoded, and a property
    // named by one is looked up in V8's string table first (1 % of a 2,000-peer flood).
    switch (msg.kind) {
      case 'ping':
        this.counter.receivedPing++
        return this.onPing(msg, from, ctx.connection.remoteAddress)
      case 'query':
        this.queriesIn++
        this.onQuery(msg, from, neighbor, now)
        return null
      case 'hit':
        this.counter.receivedHit++
        this.onHit(msg, from, neighbor !== undefined)
        return null
      case 'bye':
        this.counter.receivedBye++
        this.removeNeighbor(from, `bye: ${msg.reason}`)
        return null
    }
  }

  /**
   * The neighbor at the other end of `ctx`'s connection: the one kept on its context (`memo`) while it
   * is current, else the table's (kept there for the next message). A message of a flood then reads
   * its context and the neighbor, not the sender's id, the table's map and its hash table (at every
   * message, nearly always out of the CPU's caches).
   */
  private neighborOf(ctx: RequestContext): Neighbor | undefined {
    const memo = ctx.memo
    if (memo instanceof Neighbor && memo.current) return memo
    const n = this.byId.get(ctx.peer.id)
    if (n !== undefined) ctx.memo = n
    return n
  }

  /**
   * `remote`: the address the ping came from. Its network group (a URL parsed) is worked out only for a
   * join this node may accept: most pings are probes of neighbors and asks for peers.
   */
  private onPing(msg: PingMessage, from: PeerId, remote: string): PongMessage {
    const ref = { id: from, addresses: msg.addresses }
    const known = this.table.has(from)
    let accepted = known
    if (this.isStatic) {
      // A fixed topology: only a listed peer joins, and nobody is evicted for it. The addresses are the
      // joiner's claim: only the peer this node reached at a listed address itself is let in; another
      // claimant makes this node dial that address (its maintenance round, which runs one at a time),
      // and the listed peer, if it is there, is joined from this side.
      const listed = msg.addresses.find((a) => this.statics.has(a))
      if (msg.join && !accepted && listed !== undefined && this.network.isConnected(from)) {
        if (this.staticIds.get(listed) === from) accepted = this.addNeighbor(ref)
        else void this.maintain()
      }
    } else if (msg.join && !accepted && !this.banned.has(from) && this.network.isConnected(from)) {
      const group = addressGroup(remote)
      if (this.groupHasRoom(group)) {
        if (this.table.full) this.makeRoom(msg, from)
        if (!this.table.full) accepted = this.addNeighbor(ref, group)
      }
    }
    // A joiner's degree was counted before this join.
    if (accepted) this.table.setDegree(from, known ? msg.degree : msg.degree + 1)
    else this.table.learn(ref)
    this.counter.sent('pong')
    return {
      kind: 'pong',
      accepted,
      addresses: this.network.addresses(),
      peers: this.table.sample(
        this.random,
        Math.min(msg.peers ?? Number.POSITIVE_INFINITY, this.options.pongPeers),
        from,
      ),
      degree: this.table.size,
    }
  }

  /** False when `maxPerGroup` neighbors joined from `group` already (Bitcoin's limit per network group). */
  private groupHasRoom(group: string | undefined): boolean {
    const max = this.options.maxPerGroup
    return group === undefined || max === 0 || this.table.inGroup(group) < max
  }

  /**
   * A full node may make room for a joiner with no neighbor at all (as HyParView does), or for one
   * below minNeighbors that asks for it having found nobody with room; the latter only by evicting
   * a neighbor known to have more than minNeighbors, so the shortfall shrinks and does not move on.
   * The degree is the joiner's claim, and keys are free, so a claim alone must not let anyone take a
   * node's neighbors away (issue 17: 40 fresh keys claiming degree 0 left a node with no honest
   * neighbor). Hence: at most one eviction per evictionInterval, and never an anchor (the
   * minNeighbors longest-standing neighbors, those older than anchorAge, those that brought hits).
   * Sybils can then only take free slots and evict each other or the young. A peer this node
   * evicted itself does not get to evict in turn (no eviction ping-pong).
   */
  private makeRoom(msg: PingMessage, from: PeerId): void {
    const min = this.options.minNeighbors
    const wants = msg.degree === 0 || (msg.makeRoom === true && msg.degree < min)
    if (!wants || this.evicted.has(from)) return
    const now = this.clock.now()
    if (this.lastEviction !== undefined && now - this.lastEviction < this.options.evictionInterval) return
    const richer = msg.degree === 0 ? undefined : min
    if (this.evict(this.table.evictable(min, now - this.options.anchorAge, richer))) this.lastEviction = now
  }

  /** `neighbor`: `from` in the neighbor table (undefined: not a neighbor); `now`: the Clock's reading. */
  private onQuery(msg: QueryMessage, from: PeerId, neighbor: Neighbor | undefined, now: number): void {
    if (!neighbor) {
      if (!this.joining.has(from)) this.notNeighbor(from)
      return
    }
    if (!neighbor.take(now)) {
      this.counter.throttled++
      if (neighbor.refusedSinceFull >= this.options.dropAfter) this.drop(from)
      return
    }
    if (!this.seen.add(msg.id, from)) {
      this.duplicates++
      return
    }
    const hops = msg.hops + 1
    this.index.search(msg.query).then(
      (hits) => this.answer(msg, from, hops, hits),
      (err: unknown) => {
        // The query still travels on; only this node's own hits are missing from it.
        this.log.warn('the local index failed a search; forwarding the query without hits', { err })
        this.answer(msg, from, hops, [])
      },
    )
  }

  /** Sends this node's hits for a query back along its path, and floods the query on. */
  private answer(msg: QueryMessage, from: PeerId, hops: number, hits: Hit[]): void {
    if (!this.started) return
    if (hits.length > 0) {
      const self = this.network.self()
      void this.send(from, {
        kind: 'hit',
        id: msg.id,
        hops,
        hits: hits.slice(0, MAX_HITS_PER_MESSAGE).map((h) => ({ ...h, providers: [self], hops })),
      })
    }
    const ttl = Math.min(msg.ttl, this.maxTtl) - 1
    if (ttl < 1) return
    this.sendAll(this.table.idList(), { kind: 'query', id: msg.id, ttl, hops, query: msg.query }, from)
  }

  /** `isNeighbor`: `from` is in the neighbor table. */
  private onHit(msg: HitMessage, from: PeerId, isNeighbor: boolean): void {
    if (!isNeighbor && !this.joining.has(from)) return
    const route = this.seen.get(msg.id)
    if (route === undefined) return // unknown or forgotten query: the reverse path is gone
    if (route === null) {
      // A neighbor that brings answers to this node's own searches is worth keeping: an anchor.
      this.table.markUseful(from)
      this.sessions.get(msg.id)?.add(msg.hits, msg.hops)
    } else void this.send(route, msg, 'hit')
  }

  // ---- neighbors ----------------------------------------------------------

  private async fill(): Promise<void> {
    if (this.isStatic) return this.joinStatic()
    await this.probeQuiet()
    let bootstrapped = false
    if (this.table.size === 0 && this.table.candidateCount() === 0 && this.bootstrapDue()) {
      bootstrapped = true
      await this.bootstrap()
      this.reportIsolation()
    }
    await this.joinCandidates(false)
    if (this.started && this.table.wantsMore && this.table.size > 0) {
      // Ask a neighbor for more peers, then try them; if none of those has room either, ask the full ones to make room.
      const ids = this.table.ids()
      const asked = ids[this.random.int(ids.length)]
      if (asked !== undefined) await this.ping({ id: asked, addresses: [] }, false)
      await this.joinCandidates(true)
    }
    if (this.started && this.table.size === 0 && !bootstrapped && this.bootstrapDue()) {
      await this.bootstrap()
      this.reportIsolation()
    }
  }

  /**
   * Whether a bootstrap round may run now: at once the first time, then, while
   * the node stays alone, after `maintenanceInterval` doubled at each failed
   * round up to BOOTSTRAP_RETRY_MAX (5 s, 10 s, 20 s … 60 s by default), on the Clock.
   */
  private bootstrapDue(): boolean {
    const now = this.clock.now()
    if (now < this.nextBootstrapAt) return false
    const retries = this.isolated?.retries ?? 0
    const delay = Math.min(this.options.maintenanceInterval * 2 ** Math.min(retries, 30), BOOTSTRAP_RETRY_MAX)
    this.nextBootstrapAt = now + Math.max(delay, this.options.maintenanceInterval)
    return true
  }

  /**
   * After a bootstrap round: a node left with no neighbor warns (no neighbor reachable at start, or a
   * retry that failed), at most once per ISOLATED_WARN_MS while it stays alone; the retries between are debug.
   */
  private reportIsolation(): void {
    if (!this.started || this.table.size > 0 || this.config.bootstrap.length === 0) return
    const now = this.clock.now()
    const fields = {
      bootstrap: this.config.bootstrap,
      retryIn: Math.max(0, this.nextBootstrapAt - now),
    }
    if (this.isolated === undefined) {
      this.isolated = { warnedAt: now, retries: 0 }
      this.log.warn(
        'no neighbor reachable: the bootstrap peers did not answer or had no room; retrying',
        fields,
      )
      return
    }
    this.isolated.retries++
    if (now - this.isolated.warnedAt >= ISOLATED_WARN_MS) {
      this.isolated.warnedAt = now
      this.log.warn('still no neighbor: bootstrap retries failed', {
        ...fields,
        retries: this.isolated.retries,
      })
    } else this.log.debug('bootstrap retry failed', { ...fields, retries: this.isolated.retries })
  }

  /**
   * With `staticNeighbors`: dials each listed address that is not a neighbor now (not yet, or lost)
   * and asks it to join; one that does not answer (not started yet, gone) is tried at the next round.
   */
  private async joinStatic(): Promise<void> {
    // Only listed peers are ever neighbors here: as many as listed means every one is.
    if (this.table.size >= this.statics.size) return
    await Promise.all(
      [...this.statics].map(async (address) => {
        const known = this.staticIds.get(address)
        if (!this.started || (known !== undefined && this.table.has(known))) return
        let id: PeerId
        try {
          id = (await this.network.dialAddress(address)).id
        } catch (err) {
          this.log.debug('static neighbor unreachable; tried again at the next round', { address, err })
          return
        }
        if (this.banned.has(id) || this.table.has(id)) return
        this.staticIds.set(address, id)
        if (this.network.addressesOf(id).length === 0) this.network.learn({ id, addresses: [address] })
        await this.ping({ id, addresses: [address] }, true)
      }),
    )
  }

  /** Pings the neighbors not heard from for `probeAfter`; one that does not answer is dropped and hung up on. */
  private async probeQuiet(): Promise<void> {
    const quiet = this.table.quiet(this.clock.now() - this.options.probeAfter)
    await Promise.all(
      quiet.map(async (id) => {
        const body: PingMessage = {
          kind: 'ping',
          join: false,
          addresses: this.network.addresses(),
          degree: this.table.size,
          peers: 0, // only the answer and its degree are read
        }
        try {
          this.counter.sent('ping')
          const pong = await this.network.request(id, FLOODING, body, { timeout: this.options.probeTimeout })
          this.counter.receivedPong++
          this.table.touch(id, this.clock.now())
          if (pong?.degree !== undefined) this.table.setDegree(id, pong.degree)
        } catch (err) {
          if (!this.started) return // stopping: the probe was cut short, the neighbor is being let go anyway
          this.log.debug('neighbor did not answer a probe', { peer: id, err })
          this.counter.unanswered++
          this.removeNeighbor(id, 'did not answer a ping')
          void this.network.hangUp(
            id,
            new PeerUnreachableError(`neighbor ${id} did not answer a ping`, { cause: err }),
          )
        }
      }),
    )
  }

  private async bootstrap(): Promise<void> {
    await Promise.all(
      this.config.bootstrap.map(async (address) => {
        if (!this.started) return
        let id: PeerId
        try {
          id = (await this.network.dialAddress(address)).id
        } catch (err) {
          this.log.debug('bootstrap peer unreachable', { address, err }) // a round with no neighbor warns
          return
        }
        if (this.network.addressesOf(id).length === 0) this.network.learn({ id, addresses: [address] })
        await this.ping({ id, addresses: this.network.addressesOf(id) }, true)
      }),
    )
  }

  /** Asks known peers to join until `minNeighbors`; with `makeRoom`, then asks those that were full to make room. */
  private async joinCandidates(makeRoom: boolean): Promise<void> {
    if (!this.started || !this.table.wantsMore) {
      // Every round asks, and a node with neighbors enough (nearly all of them, nearly always) used
      // nothing of the shuffle: only its draws of `random` are made (the seeded figures follow them).
      this.table.drawShuffle(this.random)
      return
    }
    const full: PeerRef[] = []
    for (const c of this.table.shuffledCandidates(this.random)) {
      if (!this.started || !this.table.wantsMore) return
      if (this.banned.has(c.id) || this.joining.has(c.id) || this.table.has(c.id)) continue
      if ((await this.ping(c, true)) === 'refused') full.push(c)
    }
    // Nobody had room: ask the full ones to make room, each by evicting a neighbor that has more than
    // minNeighbors. Only as a last resort, since an eviction moves a link where a join adds one.
    // (A joiner with no neighbor at all was let in wherever possible already.)
    if (!makeRoom || this.table.size === 0) return
    for (const c of full) {
      if (!this.started || !this.table.wantsMore) return
      if (this.banned.has(c.id) || this.joining.has(c.id) || this.table.has(c.id)) continue
      await this.ping(c, true, true)
    }
  }

  /**
   * Pings a peer (asking to join when `join`; asking a full one to make room when `makeRoom`),
   * learns the peers in its pong, adds it when accepted. Says whether a join was refused.
   */
  private async ping(ref: PeerRef, join: boolean, makeRoom = false): Promise<'refused' | undefined> {
    if (ref.id === this.network.peerId || (join && (this.table.has(ref.id) || this.table.full))) return
    if (join) this.joining.add(ref.id)
    try {
      const body: PingMessage = {
        kind: 'ping',
        join,
        addresses: this.network.addresses(),
        degree: this.table.size,
        ...(makeRoom ? { makeRoom } : {}),
      }
      this.counter.sent('ping')
      const pong = await this.network.request(ref, FLOODING, body)
      if (!pong) return
      this.counter.receivedPong++
      for (const p of pong.peers) this.table.learn(p)
      if (pong.degree !== undefined) this.table.setDegree(ref.id, pong.degree)
      if (!join) return
      if (!pong.accepted) {
        this.table.forget(ref.id)
        return 'refused'
      }
      // Two listed peers may join each other at once: the one that let the other in first has it already.
      if (
        !this.started ||
        !this.network.isConnected(ref.id) ||
        !(
          this.addNeighbor({
            id: this.connectionId(ref.id),
            addresses: pong.addresses.length > 0 ? pong.addresses : ref.addresses,
          }) ||
          (this.isStatic && this.table.has(ref.id))
        )
      ) {
        void this.send(ref.id, { kind: 'bye', reason: 'no room' })
      } else if (pong.degree !== undefined) this.table.setDegree(ref.id, pong.degree)
    } catch (err) {
      this.log.debug('ping failed; peer forgotten', { peer: ref.id, join, err })
      this.table.forget(ref.id)
    } finally {
      if (join) this.joining.delete(ref.id)
    }
  }

  /**
   * `id` as its open connection holds it: the one string every message's context from that peer
   * carries, and core's connections are keyed by. A candidate's id was decoded from a pong, a string
   * of its own: as a neighbor's key, every look-up of the table (each message from the neighbor) and
   * of core's connections (each message to it) compared two strings of 43 characters, apart in memory,
   * where one string compares as one pointer. Joins are few; this walks the connected peers once.
   */
  private connectionId(id: PeerId): PeerId {
    for (const p of this.network.peers()) if (p.id === id) return p.id
    return id
  }

  /** `group`: the network group it joined from, when it joined this node. */
  private addNeighbor(ref: PeerRef, group?: string): boolean {
    if (!this.table.add(ref, this.clock.now(), group)) return false
    this.network.protect(ref.id)
    if (ref.addresses.length > 0) this.network.learn(ref)
    this.log.debug('neighbor added', { peer: ref.id, neighbors: this.table.size })
    if (this.table.size === 1) {
      if (this.isolated)
        this.log.info('joined the overlay after bootstrap retries', { retries: this.isolated.retries })
      else this.log.info('joined the overlay', { peer: ref.id })
      this.isolated = undefined
      this.nextBootstrapAt = 0
    }
    this.emit('neighbor:add', ref)
    return true
  }

  private removeNeighbor(id: PeerId, reason: string, forget = false): void {
    const n = this.table.remove(id, forget)
    if (!n) return
    this.network.protect(id, false)
    this.log.debug('neighbor removed', { peer: id, reason, neighbors: this.table.size })
    if (this.table.size === 0 && this.started) this.log.info('lost the last neighbor', { peer: id, reason })
    this.emit('neighbor:remove', n.ref)
    if (this.started && this.table.wantsMore) void this.maintain()
  }

  /** Drops a neighbor that floods queries: bye, ban for `banTime`, hang up. */
  private drop(id: PeerId): void {
    this.counter.dropped++
    this.banned.set(id, true)
    const bye = this.send(id, { kind: 'bye', reason: 'query rate exceeded' })
    this.removeNeighbor(id, 'rate limit', true)
    const reason = new RateLimitError(`peer ${id} sent queries faster than ${this.options.queryRate}/s`)
    this.log.warn('neighbor dropped for flooding queries; banned', {
      peer: id,
      queryRate: this.options.queryRate,
      throttled: this.options.dropAfter,
      banTime: this.options.banTime,
    })
    void bye.then(() => this.network.hangUp(id, reason))
  }

  /** Evicts one of `ids` at random to make room for a joiner; false when there is none. */
  private evict(ids: PeerId[]): boolean {
    const victim = ids[this.random.int(ids.length)]
    if (victim === undefined) return false
    this.counter.evicted++
    this.evicted.set(victim, true)
    this.log.debug('neighbor evicted to make room for a joiner', { peer: victim })
    void this.send(victim, { kind: 'bye', reason: 'making room for a new peer' })
    this.removeNeighbor(victim, 'evicted')
    return true
  }

  /** A peer treats this node as its neighbor but is not ours: tell it (once in a while). */
  private notNeighbor(id: PeerId): void {
    if (this.banned.has(id) || !this.byed.add(id, true)) return
    void this.send(id, { kind: 'bye', reason: 'not a neighbor' })
  }

  /**
   * `send` of one query to each of `targets` but `except`, encoded once (core's `prepare`) for all of
   * them instead of once per neighbor: the same bytes, counts and order as a `send` to each. Core's
   * `sendEachIfConnected` looks each connection up once (not `isConnected`, then again to send) and
   * makes one promise job for the lot, not one per neighbor; a neighbor with no open connection is no
   * neighbor any more, as in `send`.
   */
  private sendAll(targets: readonly PeerId[], msg: QueryMessage, except?: PeerId): void {
    // Nobody to send to but `except`: nothing is encoded.
    if (targets.length === 0 || (targets.length === 1 && targets[0] === except)) return
    const prepared = this.network.prepare(FLOODING, msg)
    this.queriesOut += this.network.sendEachIfConnected(targets, prepared, except, this.onMissing)
  }

  /**
   * Sends a one-way message to a connected peer; never rejects (a lost neighbor is removed on disconnect).
   * `kind`: the message's kind as a literal, for a message that was decoded (see `onMessage`).
   */
  private send(id: PeerId, msg: FloodingMessage, kind: FloodingMessage['kind'] = msg.kind): Promise<void> {
    if (!this.sendable(id, kind)) return Promise.resolve()
    return this.network.send(id, FLOODING, msg).catch((err) => this.sendFailed(err, id, kind))
  }

  /** Whether `id` is connected (if not, it is no neighbor any more); counts the message about to be sent. */
  private sendable(id: PeerId, kind: FloodingMessage['kind']): boolean {
    if (!this.network.isConnected(id)) {
      this.removeNeighbor(id, 'disconnected')
      return false
    }
    this.counter.sent(kind)
    return true
  }

  /** A send that failed: the link's loss removes the neighbor on disconnect, so nothing else is to do. */
  private sendFailed(err: unknown, peer: PeerId, kind: FloodingMessage['kind']): void {
    this.log.debug('send failed', { peer, kind, err })
  }
}

/** A per-search integer option, checked: `search NAME must be an integer >= MIN (got V)`. */
function checkInt(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new InvalidOptionsError(`search ${name} must be an integer >= ${min} (got ${value})`)
  }
  return value
}
