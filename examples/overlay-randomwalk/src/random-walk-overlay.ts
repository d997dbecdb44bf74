// src/random-walk-overlay.ts
import {
  boundedStream,
  CLOCK,
  type Clock,
  type ContentHash,
  type FileRecord,
  type Hit,
  type Index,
  InvalidOptionsError,
  LOCAL_INDEX,
  LOGGER,
  type Logger,
  MessageCounter,
  NETWORK,
  type Network,
  NotStartedError,
  type Overlay,
  type OverlayEvents,
  type OverlayStats,
  PEER_CONFIG,
  type PeerConfig,
  type PeerId,
  type PeerRef,
  pick,
  type Query,
  RANDOM,
  type Random,
  type RequestContext,
  type SearchOptions,
  shuffle,
  type TimerHandle,
  TokenBucket,
} from '@peerkit/core'
import { EventEmitter } from 'eventemitter3'
import { inject, injectable } from 'tsyringe'
import {
  CHECK,
  JOIN,
  LEAVE,
  MAX_OFFERED_PEERS,
  MAX_REPORT_HITS,
  REPORT,
  type ReportMessage,
  WALK,
  type WalkMessage,
} from './messages.js'
import { Neighbors } from './neighbors.js'
import { PROTOCOL_MAX_TTL, type ResolvedRandomWalkOptions } from './options.js'
import { SearchSession } from './search-session.js'
import { RANDOM_WALK_OPTIONS } from './tokens.js'

/** Per-search options of the randomwalk overlay (on top of `SearchOptions`). */
export interface RandomWalkSearchOptions extends SearchOptions {
  /** Walkers this search sends (overrides `walkers`; 1 to 64). */
  walkers?: number
  /** Steps each of its walkers takes at most (overrides `ttl`). */
  ttl?: number
}

/**
 * Search by k random walkers (Lv, Cao, Cohen, Li, Shenker 2002): a search sends
 * `walkers` walkers to random neighbors; each takes up to `ttl` steps, one
 * random neighbor at a time, reports what it finds straight to the origin,
 * and every `checkEvery` steps asks the origin whether to go on, so the walk
 * stops soon after the search has enough or is over.
 */
@injectable()
export class RandomWalkOverlay extends EventEmitter<OverlayEvents> implements Overlay {
  readonly name = 'randomwalk'
  private readonly counter = new MessageCounter()
  private readonly sessions = new Map<string, SearchSession>()
  private readonly buckets = new Map<PeerId, TokenBucket>()
  private readonly table: Neighbors
  private readonly log: Logger
  private started = false
  private timer: TimerHandle | undefined
  private dropped = 0
  /** `staticNeighbors` (empty: the protocol finds the neighbors), and who answered at each address. */
  private readonly statics: ReadonlySet<string>
  private readonly staticIds = new Map<string, PeerId>()

  constructor(
    @inject(NETWORK) private readonly network: Network,
    @inject(LOCAL_INDEX) private readonly shares: Index,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(RANDOM) private readonly random: Random,
    @inject(PEER_CONFIG) private readonly config: PeerConfig,
    @inject(LOGGER) logger: Logger,
    @inject(RANDOM_WALK_OPTIONS) private readonly options: ResolvedRandomWalkOptions,
  ) {
    super()
    this.table = new Neighbors(network.peerId, options.maxNeighbors, options.maxCandidates)
    this.log = logger.forComponent('randomwalk')
    this.statics = new Set(options.staticNeighbors)
  }

  /** True with a fixed neighbor list (`staticNeighbors`): maintenance only re-joins those peers. */
  get isStatic(): boolean {
    return this.statics.size > 0
  }

  async start(): Promise<void> {
    if (this.started) return
    this.started = true
    this.network.handle(JOIN, (req, ctx) => this.onJoin(req.addresses, ctx))
    this.network.handle(LEAVE, (_req, ctx) => this.removeNeighbor(ctx.peer.id))
    this.network.handle(WALK, (walk, ctx) => this.onWalk(walk, ctx))
    this.network.handle(REPORT, (report) => this.onReport(report))
    this.network.handle(CHECK, ({ id }) => ({ go: this.sessions.get(id)?.wants() ?? false }))
    this.network.on('peer:disconnect', this.onDisconnect, this)
    await (this.isStatic ? this.joinStatic() : this.joinBootstrap())
    this.schedule()
  }

  async stop(): Promise<void> {
    if (!this.started) return
    this.started = false
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    for (const protocol of [JOIN, LEAVE, WALK, REPORT, CHECK]) this.network.unhandle(protocol)
    this.network.off('peer:disconnect', this.onDisconnect, this)
    for (const session of this.sessions.values()) session.end()
    const leaving = this.table.list()
    for (const ref of leaving) this.removeNeighbor(ref.id)
    // Telling them is a courtesy: a neighbor that misses it drops this node when the connection closes.
    await Promise.allSettled(leaving.map((ref) => this.network.send(ref, LEAVE, {})))
  }

  async publish(records: FileRecord[]): Promise<void> {
    const self = this.network.self()
    // Issued together (an Index applies them in order): a persistent index commits them as one batch.
    await Promise.all(
      records.map((r) =>
        this.shares.put({ ...r, provider: { id: self.id, addresses: r.provider.addresses } }),
      ),
    )
  }

  async unpublish(hashes: ContentHash[]): Promise<void> {
    await Promise.all(hashes.map((hash) => this.shares.remove(hash, this.network.peerId)))
  }

  async *search(query: Query, options: RandomWalkSearchOptions = {}): AsyncIterable<Hit> {
    if (!this.started) throw new NotStartedError('randomwalk: search before start (or after stop)')
    const timeout = options.timeout ?? this.options.searchTimeout
    const walkers = checkRange('walkers', options.walkers ?? this.options.walkers, 64)
    const ttl = checkRange('ttl', options.ttl ?? this.options.ttl, PROTOCOL_MAX_TTL)
    yield* boundedStream<Hit>(this.clock, { ...options, timeout }, (push, signal) =>
      this.walk(query, walkers, ttl, push, signal),
    )
  }

  async *providers(hash: ContentHash, options: SearchOptions = {}): AsyncIterable<PeerRef> {
    const seen = new Set<PeerId>()
    for await (const hit of this.search({ hash }, options))
      for (const p of hit.providers) if (!seen.has(p.id) && seen.add(p.id)) yield p
  }

  neighbors(): PeerRef[] {
    return this.table.list()
  }

  role(): string {
    return 'peer'
  }

  stats(): OverlayStats {
    return this.counter.snapshot({
      neighbors: this.table.size,
      candidates: this.table.candidateCount,
      searches: this.sessions.size,
      dropped: this.dropped,
    })
  }

  // ── Searching ─────────────────────────────────────────────────────────────

  /** Sends the walkers and waits until they are done, the search has `limit` files, or `signal` aborts. */
  private async walk(
    query: Query,
    walkers: number,
    ttl: number,
    push: (hit: Hit) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const session = new SearchSession(query.limit, this.options.hitTarget, push)
    session.offer(await this.shares.search(query), 0)
    const targets = shuffle(this.random, this.table.list())
    if (!session.wants() || targets.length === 0) return
    if (this.sessions.size >= this.options.maxSearches) {
      this.log.warn('search refused: too many searches at once', { maxSearches: this.options.maxSearches })
      return
    }
    const id = Buffer.from(this.random.bytes(16)).toString('hex')
    this.sessions.set(id, session)
    signal.addEventListener('abort', () => session.end(), { once: true })
    try {
      const origin = this.network.self()
      session.expect(walkers)
      for (let i = 0; i < walkers; i++) {
        const first = targets[i % targets.length] as PeerRef
        const walk: WalkMessage = { id, origin, query, ttl, hops: 0 }
        if (!(await this.forward(walk, first))) session.walkerDone()
      }
      await session.over
    } finally {
      this.sessions.delete(id)
    }
  }

  private onReport(report: ReportMessage): void {
    this.counter.received('report')
    const session = this.sessions.get(report.id)
    if (!session) return // a report for a search that is over: nothing waits for it
    session.offer(report.hits, report.hops)
    if (report.done) session.walkerDone()
  }

  // ── Walking ───────────────────────────────────────────────────────────────

  private onWalk(walk: WalkMessage, ctx: RequestContext): void {
    const from = ctx.peer.id
    if (!this.table.has(from) || !this.bucket(from).take(this.clock.now())) {
      this.dropped++ // counted in stats().dropped; the walker's origin stops waiting at its timeout
      return
    }
    this.counter.received('walk')
    this.step(walk, from).catch((err) => this.log.debug('a walker was lost', { error: String(err) }))
  }

  /** One step of a walker standing here: report hits, ask the origin every `checkEvery` steps, move on. */
  private async step(walk: WalkMessage, from: PeerId): Promise<void> {
    const hops = walk.hops + 1
    const limit = Math.min(walk.query.limit ?? MAX_REPORT_HITS, MAX_REPORT_HITS)
    const hits = (await this.shares.search({ ...walk.query, limit })).map((hit) => ({ ...hit, hops }))
    let go = walk.ttl > 1
    if (go && hops % this.options.checkEvery === 0) go = await this.check(walk)
    let moved = false
    if (go) {
      const next: WalkMessage = { ...walk, ttl: walk.ttl - 1, hops }
      // Not straight back where it came from, unless that is the only neighbor.
      const [back, others] = partition(this.table.list(), (n) => n.id === from)
      moved = await this.forward(next, ...shuffle(this.random, others), ...back)
    }
    if (hits.length > 0 || !moved) await this.report(walk, { id: walk.id, hops, hits, done: !moved })
  }

  /** Hands the walker to the first of `targets` that takes it; a neighbor that cannot be reached is dropped. */
  private async forward(walk: WalkMessage, ...targets: PeerRef[]): Promise<boolean> {
    for (const target of targets) {
      try {
        this.counter.sent('walk')
        await this.network.send(target, WALK, walk)
        return true
      } catch (err) {
        this.log.debug('neighbor unreachable; dropped', { peer: target.id, error: String(err) })
        this.removeNeighbor(target.id)
      }
    }
    return false
  }

  private async check(walk: WalkMessage): Promise<boolean> {
    if (walk.origin.id === this.network.peerId) return this.sessions.get(walk.id)?.wants() ?? false
    try {
      this.counter.sent('check')
      return (await this.network.request(walk.origin, CHECK, { id: walk.id })).go
    } catch (err) {
      this.log.debug('origin unreachable; the walker stops', { origin: walk.origin.id, error: String(err) })
      return false
    }
  }

  private async report(walk: WalkMessage, report: ReportMessage): Promise<void> {
    if (walk.origin.id === this.network.peerId) return this.onReport(report)
    this.counter.sent('report')
    await this.network.send(walk.origin, REPORT, report)
  }

  private bucket(peer: PeerId): TokenBucket {
    let bucket = this.buckets.get(peer)
    if (!bucket) {
      bucket = new TokenBucket(this.options.walkRate, this.options.walkBurst, this.clock.now())
      this.buckets.set(peer, bucket)
    }
    return bucket
  }

  // ── Neighbors ─────────────────────────────────────────────────────────────

  private onJoin(addresses: string[], ctx: RequestContext): { accepted: boolean; peers: PeerRef[] } {
    this.counter.received('join')
    const ref: PeerRef = { id: ctx.peer.id, addresses }
    this.network.learn(ref)
    let accepted = this.table.has(ref.id)
    if (this.isStatic) {
      // A fixed topology: only a listed peer joins. The addresses are the joiner's claim: only the peer
      // this node reached at a listed address itself is let in; another claimant makes this node join
      // the listed addresses it lacks, so the listed peer, if it is there, is joined from this side.
      const listed = addresses.find((a) => this.statics.has(a))
      if (!accepted && listed !== undefined) {
        if (this.staticIds.get(listed) === ref.id) accepted = this.addNeighbor(ref)
        else
          this.joinStatic().catch((err) =>
            this.log.debug('joining the static neighbors failed', { error: String(err) }),
          )
      }
    } else {
      accepted ||= this.addNeighbor(ref)
      if (!accepted) this.table.offer(ref)
    }
    const others = this.table.list().filter((n) => n.id !== ref.id)
    return { accepted, peers: shuffle(this.random, others).slice(0, MAX_OFFERED_PEERS) }
  }

  /** Asks `ref` to be a neighbor; remembers the peers it offers. */
  private async join(ref: PeerRef): Promise<void> {
    this.counter.sent('join')
    const answer = await this.network.request(ref, JOIN, { addresses: this.network.addresses() })
    for (const peer of answer.peers) this.table.offer(peer)
    if (answer.accepted && this.started) this.addNeighbor(ref)
  }

  private async joinBootstrap(): Promise<void> {
    await Promise.allSettled(
      this.config.bootstrap.map(async (address) => {
        try {
          const { id } = await this.network.dialAddress(address)
          await this.join({ id, addresses: [address] })
        } catch (err) {
          this.log.info('bootstrap peer unreachable', { address, error: String(err) })
        }
      }),
    )
  }

  /** Joins each listed address that is not a neighbor now (not yet, or lost); one that does not answer is tried at the next round. */
  private async joinStatic(): Promise<void> {
    // Only listed peers are ever neighbors here: as many as listed means every one is.
    if (this.table.size >= this.statics.size) return
    await Promise.all(
      [...this.statics].map(async (address) => {
        const known = this.staticIds.get(address)
        if (!this.started || (known !== undefined && this.table.has(known))) return
        try {
          const { id } = await this.network.dialAddress(address)
          if (this.table.has(id)) return
          this.staticIds.set(address, id)
          await this.join({ id, addresses: [address] })
        } catch (err) {
          this.log.debug('static neighbor unreachable; tried again at the next round', {
            address,
            error: String(err),
          })
        }
      }),
    )
  }

  private addNeighbor(ref: PeerRef): boolean {
    if (!this.table.add(ref)) return false
    this.network.protect(ref.id, true)
    this.emit('neighbor:add', ref)
    return true
  }

  private removeNeighbor(id: PeerId): null {
    const ref = this.table.list().find((n) => n.id === id)
    if (ref && this.table.remove(id)) {
      this.network.protect(id, false)
      this.buckets.delete(id)
      this.emit('neighbor:remove', ref)
    }
    return null
  }

  private onDisconnect(peer: PeerRef): void {
    this.removeNeighbor(peer.id)
  }

  /** Every `maintenanceInterval`: below `minNeighbors`, join candidates, else ask a neighbor for peers, else the bootstrap peers again. */
  private schedule(): void {
    this.timer = this.clock.setTimeout(() => {
      this.maintain()
        .catch((err) => this.log.warn('neighbor maintenance failed', { error: String(err) }))
        .finally(() => {
          if (this.started) this.schedule()
        })
    }, this.options.maintenanceInterval)
  }

  private async maintain(): Promise<void> {
    if (this.isStatic) return this.joinStatic()
    const missing = this.options.minNeighbors - this.table.size
    if (missing <= 0) return
    const tries: PeerRef[] = []
    while (tries.length < missing && this.table.candidateCount > 0) {
      const ref = this.table.takeCandidate(this.random.int(this.table.candidateCount))
      if (ref) tries.push(ref)
    }
    const asked =
      tries.length > 0 ? tries : [pick(this.random, this.table.list())].filter((r) => r !== undefined)
    if (asked.length === 0) return this.joinBootstrap()
    await Promise.allSettled(asked.map((ref) => this.join(ref)))
  }
}

/** A per-search integer option from 1 to `max`, checked: `search NAME must be an integer from 1 to MAX (got V)`. */
function checkRange(name: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max)
    throw new InvalidOptionsError(`search ${name} must be an integer from 1 to ${max} (got ${value})`)
  return value
}

function partition<T>(items: readonly T[], test: (item: T) => boolean): [T[], T[]] {
  const yes: T[] = []
  const no: T[] = []
  for (const item of items) (test(item) ? yes : no).push(item)
  return [yes, no]
}
