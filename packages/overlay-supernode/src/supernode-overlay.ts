import {
  boundedStream,
  CLOCK,
  type Clock,
  type ContentHash,
  type FileRecord,
  type Hit,
  IDENTITY,
  type Identity,
  INDEX_FACTORY,
  type Index,
  type IndexFactory,
  InvalidOptionsError,
  isContentHash,
  LOGGER,
  type Logger,
  MessageCounter,
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
  type PreparedMessage,
  ProtocolError,
  type Query,
  RANDOM,
  type Random,
  type RequestContext,
  type SearchOptions,
  type TimerHandle,
  withTimeout,
} from '@peerkit/core'
import { NeighborTable, SearchSession, sameAddresses } from '@peerkit/overlay-flooding'
import { EventEmitter } from 'eventemitter3'
import { inject, injectable } from 'tsyringe'
import type { NodeContext } from './context.js'
import { measuredCapacity } from './election.js'
import { LeafAttachment } from './leaf-attachment.js'
import { type Candidate, type InfoMessage, MAX_LIST, SUPERNODE, type SupernodeMessage } from './messages.js'
import type { ResolvedSupernodeOptions } from './options.js'
import { Rounds } from './rounds.js'
import { SupernodeHub } from './supernode-hub.js'
import { SUPERNODE_OPTIONS } from './tokens.js'

/** Supernodes a node remembers at most (besides its links). */
const MAX_KNOWN_SUPERNODES = 256
/** Longest wait between two rounds of a lone supernode asking its bootstrap peers again. */
const REJOIN_MAX = 60_000
const DONE: Promise<void> = Promise.resolve()

/** The messages that are requests, answered with an `info`; every other kind is one-way. */
type RequestMessage = Exclude<SupernodeMessage, { kind: 'query' | 'hit' | 'done' | 'move' | 'alive' | 'bye' }>

type Counts = Record<string, number>

function merged(...all: Counts[]): Counts {
  const out: Counts = {}
  for (const c of all) for (const [k, v] of Object.entries(c)) out[k] = (out[k] ?? 0) + v
  return out
}

/**
 * The `supernode` strategy (KaZaA / FastTrack, Gnutella 0.6 ultrapeers).
 * Every node is a supernode or a leaf. A leaf attaches to one supernode and
 * registers its files there; a supernode indexes its leaves like a small
 * directory server, links to other supernodes, and runs its leaves'
 * searches: its own index first, then among the supernodes with a TTL.
 * Leaves fail over to another supernode, or elect one among themselves;
 * supernodes promote a leaf when they have too many and step down when they
 * have too few.
 */
@injectable()
export class SupernodeOverlay extends EventEmitter<OverlayEvents> implements Overlay, NodeContext {
  readonly name = 'supernode'
  readonly [Symbol.toStringTag] = '@peerkit/overlay-supernode'
  readonly counter = new MessageCounter()
  readonly supernodes: NeighborTable
  readonly own: Index
  private readonly published = new Map<ContentHash, FileRecord>()
  private readonly leaf: LeafAttachment
  private hub: SupernodeHub | undefined
  private hubCounts = { sent: {} as Counts, received: {} as Counts }
  private readonly figures = { promotions: 0, demotions: 0 }
  private started = false
  private startedAt = 0
  private maintenance: Rounds | undefined
  private switching: Promise<void> = Promise.resolve()
  /** Role changes queued or under way in `switching` (0 once it has settled). */
  private switches = 0
  private readonly onDisconnect = (peer: PeerRef) => this.hub?.gone(peer.id)
  readonly log: Logger

  constructor(
    @inject(SUPERNODE_OPTIONS) readonly options: ResolvedSupernodeOptions,
    @inject(NETWORK) readonly network: Network,
    @inject(INDEX_FACTORY) readonly makeIndex: IndexFactory,
    @inject(IDENTITY) readonly identity: Identity,
    @inject(CLOCK) readonly clock: Clock,
    @inject(RANDOM) readonly random: Random,
    @inject(PEER_CONFIG) readonly config: PeerConfig,
    @inject(LOGGER) readonly logger: Logger,
  ) {
    super()
    this.log = logger.forComponent('peerkit:supernode')
    this.supernodes = new NeighborTable(network.peerId, {
      minNeighbors: options.supernodeLinks,
      maxNeighbors: options.maxSupernodeLinks,
      maxCandidates: MAX_KNOWN_SUPERNODES,
      queryRate: options.queryRate,
      queryBurst: options.queryBurst,
    })
    // Unnamed, so never persisted: it mirrors `published`, which the peer fills again at every start.
    this.own = makeIndex()
    this.leaf = new LeafAttachment(
      this,
      () => [...this.published.values()],
      (reason) => this.becomeSupernode(reason),
      () => this.maintenance?.wake(),
    )
  }

  get running(): boolean {
    return this.started
  }

  /**
   * Joins: asks the bootstrap peers for supernodes and attaches to one, or
   * becomes a supernode (the first peer, or one elected). Resolves once that
   * is done or after a bounded wait; maintenance goes on in the background.
   */
  async start(): Promise<void> {
    if (this.started) return
    if (!this.network.isStarted) throw new NotStartedError('start the Network before the supernode overlay')
    await this.own.open()
    this.started = true
    this.startedAt = this.clock.now()
    this.network.handle(SUPERNODE, (msg, ctx) => this.onMessage(msg, ctx))
    this.network.on('peer:disconnect', this.onDisconnect)
    this.leaf.start()
    const limit = 2 * (this.options.failoverTimeout + this.options.electionDelay)
    // A timer cleared once the attachment finishes first (nearly always): a sleep aborted instead made
    // an AbortController, its DOMException and an AbortError with their stacks at every start.
    let bound: TimerHandle | undefined
    const waited = new Promise<void>((resolve) => {
      bound = this.clock.setTimeout(resolve, limit)
    })
    await Promise.race([this.leaf.ensure(), waited])
    if (bound !== undefined) this.clock.clearTimeout(bound)
    this.maintenance = new Rounds(
      this.clock,
      this.options.maintenanceInterval,
      () => this.maintain(),
      () => this.quietUntil(),
      (err) => this.log.warn('a maintenance round failed; the next one runs as usual', { err }),
    )
  }

  /** A supernode hands its leaves to its links; a leaf logs out. Searches under way end. */
  async stop(): Promise<void> {
    if (!this.started) return
    this.started = false
    this.maintenance?.stop()
    this.maintenance = undefined
    await this.switching // never rejects: serial() logs a failed role change
    const hub = this.hub
    this.hub = undefined
    if (hub) {
      await hub.stop('leaving').catch((err) => this.log.warn('the supernode did not stop cleanly', { err }))
      this.collect(hub)
    }
    await this.leaf.stop()
    this.network.unhandle(SUPERNODE)
    this.network.off('peer:disconnect', this.onDisconnect)
    await this.own.close()
  }

  async dispose(): Promise<void> {
    await this.stop()
  }

  async publish(records: FileRecord[]): Promise<void> {
    const self = { id: this.network.peerId, addresses: [] }
    const writes: Promise<void>[] = []
    for (const r of records) {
      const record = { ...r, provider: self }
      this.published.set(r.hash, record)
      writes.push(this.own.put(record)) // issued together: an Index applies them in order
    }
    await Promise.all(writes)
    await this.leaf.publish(records)
  }

  async unpublish(hashes: ContentHash[]): Promise<void> {
    for (const h of hashes) this.published.delete(h)
    await Promise.all(hashes.map((h) => this.own.remove(h, this.network.peerId)))
    await this.leaf.unpublish(hashes)
  }

  search(query: Query, options: SearchOptions = {}): AsyncIterable<Hit> {
    return boundedStream<Hit>(this.clock, options, (push, signal) =>
      this.run(query, new SearchSession('hits', query.limit, (hit) => push(hit)), signal),
    )
  }

  providers(hash: ContentHash, options: SearchOptions = {}): AsyncIterable<PeerRef> {
    return boundedStream<PeerRef>(this.clock, options, (push, signal) => {
      if (!isContentHash(hash))
        throw new InvalidOptionsError(`providers() needs a content hash (got '${hash}')`)
      const session = new SearchSession('providers', undefined, (_hit, added) => {
        for (const p of added) push(p)
      })
      return this.run({ hash }, session, signal)
    })
  }

  /** A supernode's links and leaves; a leaf's supernode. */
  neighbors(): PeerRef[] {
    if (this.hub) return this.hub.neighbors()
    const sn = this.leaf.supernode
    return sn ? [sn] : []
  }

  role(): 'supernode' | 'leaf' {
    return this.hub ? 'supernode' : 'leaf'
  }

  /**
   * A leaf is `connected` while attached to a supernode, else `bootstrapping`
   * (it attaches again every `maintenanceInterval`, or is elected). A
   * supernode is `connected` with a link or a leaf; alone, `bootstrapping`
   * when it has bootstrap peers to link to, else `isolated`.
   */
  connectivity(): OverlayConnectivity {
    const neighbors = this.neighbors().length
    if (neighbors > 0) return { state: 'connected', neighbors }
    if (!this.hub) return { state: 'bootstrapping', neighbors, reason: 'not attached to a supernode' }
    return this.config.bootstrap.length > 0
      ? { state: 'bootstrapping', neighbors, reason: 'a supernode with no link or leaf yet' }
      : {
          state: 'isolated',
          neighbors,
          reason: 'a supernode with no bootstrap peer: waiting for peers to join',
        }
  }

  /** The supernode this leaf is attached to (undefined for a supernode, or while failing over). */
  supernode(): PeerRef | undefined {
    return this.leaf.supernode
  }

  /** The co-leaves this leaf would elect from, best first (as its supernode last told). */
  electionCandidates(): Candidate[] {
    return this.leaf.candidates
  }

  /** Supernodes this node knows of (its links first). */
  knownSupernodes(): PeerRef[] {
    return [...this.supernodes.refs(), ...this.supernodes.sample(this.random, MAX_KNOWN_SUPERNODES)].filter(
      (r, i, all) => all.findIndex((x) => x.id === r.id) === i,
    )
  }

  stats(): OverlayStats {
    const hub = this.hub?.stats()
    const client = this.leaf.clientStats()
    const mine = this.counter.snapshot()
    return {
      role: this.role(),
      leaves: hub?.leaves ?? 0,
      links: this.supernodes.size,
      records: hub?.records ?? 0,
      ownRecords: this.published.size,
      supernode: this.leaf.supernode?.id,
      knownSupernodes: this.supernodes.candidateCount(),
      ...this.figures,
      ...this.leaf.figures,
      ...(hub ?? {}),
      sent: merged(mine.sent, client.sent, this.hubCounts.sent, hub?.sent ?? {}),
      received: merged(mine.received, client.received, this.hubCounts.received, hub?.received ?? {}),
    }
  }

  /** One maintenance round now (tests and simulations call it directly). */
  maintain(): Promise<void> {
    // Most rounds of a leaf find it attached and its refresh not due: they end here, with no promise chain.
    if (!this.started || (this.hub === undefined && this.switches === 0 && this.leaf.idle())) return DONE
    return this.maintainNow()
  }

  /** Until when maintenance rounds would do nothing (see `Rounds`): an attached leaf's next refresh; else 0. */
  private quietUntil(): number {
    if (!this.started || this.hub !== undefined || this.switches !== 0) return 0
    return this.leaf.quietUntil()
  }

  private async maintainNow(): Promise<void> {
    await this.switching
    const hub = this.hub
    if (!hub) return this.leaf.tick()
    if (hub.alone) await this.askBootstrap()
    else if (this.rejoin.delay > 0) {
      this.log.info('a lone supernode reached the network through its bootstrap peers', {
        neighbors: hub.neighbors().length,
      })
      this.rejoin = { at: 0, delay: 0 }
    }
    if ((await hub.tick()) === 'demote' && this.hub === hub && this.started) await this.becomeLeaf()
  }

  /**
   * A supernode with no link and no leaf asks its bootstrap peers again (they
   * may have come up after it), with backoff on the Clock: maintenanceInterval,
   * doubled after each round, up to REJOIN_MAX. The supernodes they are or
   * name become candidates, which the hub links to in the same round.
   */
  private async askBootstrap(): Promise<void> {
    if (this.config.bootstrap.length === 0) return
    const now = this.clock.now()
    if (now < this.rejoin.at) return
    const first = this.rejoin.delay === 0
    const delay = Math.min(Math.max(this.options.maintenanceInterval, this.rejoin.delay * 2), REJOIN_MAX)
    this.rejoin = { at: now + delay, delay }
    if (first)
      this.log.warn('a supernode with no link or leaf: asking its bootstrap peers again, with backoff', {
        bootstrap: this.config.bootstrap,
      })
    await Promise.all(
      this.config.bootstrap.map(async (address) => {
        try {
          const ref = await withTimeout(
            this.clock,
            this.network.dialAddress(address),
            this.options.failoverTimeout,
          )
          this.learn(await this.request(ref, { kind: 'ping', leaves: 0 }, this.options.failoverTimeout), ref)
        } catch (err) {
          this.log.debug('bootstrap peer unreachable; asked again later', { address, retryIn: delay, err })
        }
      }),
    )
  }

  /** While a lone supernode: when its bootstrap peers may be asked again, and the last wait. */
  private rejoin = { at: 0, delay: 0 }
  /** Election-list versions given out so far (`nextListVersion`). */
  private listVersions = 0

  // ---- NodeContext --------------------------------------------------------

  self(): Candidate {
    const reachable = this.network.addresses().length > 0
    return {
      peer: this.network.self(),
      capacity: measuredCapacity(this.options.capacity, reachable, this.clock.now() - this.startedAt),
    }
  }

  capable(): boolean {
    const c = this.options.canBeSupernode
    return c === 'auto' ? this.network.addresses().length > 0 : c
  }

  send(to: PeerId, message: SupernodeMessage): Promise<void> {
    if (!this.sendable(to, message.kind)) return Promise.resolve()
    return this.network.send(to, SUPERNODE, message).catch((err) => this.unsent(to, message, err))
  }

  sendAll(targets: readonly PeerId[], message: SupernodeMessage, except?: PeerId): void {
    let prepared: PreparedMessage<SupernodeMessage> | undefined
    for (const to of targets) {
      if (to === except) continue
      prepared ??= this.network.prepare(SUPERNODE, message)
      // Over an open connection only, as `send` after `sendable`: no promise per target (a query is
      // sent to every link at each hop); a target not connected is gone.
      if (this.network.sendIfConnected(to, prepared)) this.counter.sent(message.kind)
      else this.hub?.gone(to)
    }
  }

  /** Whether `to` is connected (if not, it is gone: no link or leaf any more); counts the message about to be sent. */
  private sendable(to: PeerId, kind: SupernodeMessage['kind']): boolean {
    if (!this.network.isConnected(to)) {
      this.hub?.gone(to)
      return false
    }
    this.counter.sent(kind)
    return true
  }

  notify(to: PeerRef, message: SupernodeMessage): Promise<void> {
    this.counter.sent(message.kind)
    return this.network.send(to, SUPERNODE, message).catch((err) => this.unsent(to.id, message, err))
  }

  async request(to: PeerRef, message: SupernodeMessage, timeout?: number): Promise<InfoMessage> {
    this.counter.sent(message.kind)
    const answer = await this.network.request(
      to,
      SUPERNODE,
      message,
      timeout === undefined ? {} : { timeout },
    )
    if (!answer) throw new ProtocolError(`peer ${to.id} answered ${message.kind} with nothing`)
    this.counter.received(answer.kind)
    return answer
  }

  learn(info: InfoMessage, from: PeerRef): void {
    const table = this.supernodes
    const list = info.supernodes
    let i = 0
    if (info.role === 'supernode' && from.addresses.length > 0) {
      table.learn(from)
      // A supernode names itself first: learned just now, with these addresses (the usual case), it
      // is learned again for nothing (a link is no candidate; a candidate is the newest already).
      const first = list[0]
      if (first !== undefined && first.id === from.id && sameAddresses(first.addresses, from.addresses)) i = 1
    }
    const self = this.network.peerId
    for (; i < list.length; i++) {
      const ref = list[i] as PeerRef
      if (ref.id !== self) table.learn(ref)
    }
  }

  emitNeighbor(event: 'neighbor:add' | 'neighbor:remove', peer: PeerRef): void {
    this.emit(event, peer)
  }

  // ---- internals ----------------------------------------------------------

  /** A one-way message that did not leave: the peer went away, which its heartbeat or a timeout notices. */
  private unsent(to: PeerId, message: SupernodeMessage, err: unknown): void {
    this.log.debug(`could not send ${message.kind}`, { to, err })
  }

  private async run(query: Query, session: SearchSession, signal: AbortSignal): Promise<void> {
    if (!this.started) throw new NotStartedError('the supernode overlay is not started; call start() first')
    if (query.hash === undefined && (query.keywords?.length ?? 0) === 0) return
    while (!signal.aborted && this.started) {
      if (this.hub) return this.hub.search(query, session, signal)
      const sn = await this.leaf.whenAttached(signal)
      if (sn) return this.leaf.search(sn, query, session, signal)
    }
  }

  /**
   * A message of `peerkit/supernode/1`. A one-way message (`query`, `hit`, `done`, `move`, `alive`,
   * `bye`: nearly all of them, a flooded query about three times at each supernode) is handled at once
   * and answered with null, no promise: an async handler made one, and the Network another to watch
   * it, for every message. A request gets its answer as a promise, as from an async handler (it leaves
   * after the same steps as before).
   */
  private onMessage(msg: SupernodeMessage, ctx: RequestContext): Promise<InfoMessage | null> | null {
    if (!this.started) return null
    switch (msg.kind) {
      case 'query': {
        this.counter.received('query')
        const hub = this.hub
        if (hub) hub.onQuery(msg, ctx.peer.id)
        else void this.send(ctx.peer.id, { kind: 'done', id: msg.id })
        return null
      }
      case 'hit':
        this.counter.received('hit')
        if (this.hub) this.hub.onHit(msg, ctx.peer.id)
        else this.leaf.onHit(msg, ctx.peer.id)
        return null
      case 'done':
        this.counter.received('done')
        this.leaf.onDone(msg, ctx.peer.id)
        return null
      case 'move':
        this.counter.received('move')
        if (!this.hub) this.leaf.onMove(ctx.peer.id, msg.to)
        else this.learnListed(msg.to)
        return null
      case 'alive':
        this.counter.received('alive')
        if (!this.hub) this.leaf.onAlive(msg.known, ctx.peer.id)
        return null
      case 'bye':
        this.counter.received('bye')
        this.hub?.gone(ctx.peer.id)
        this.leaf.onBye(ctx.peer.id)
        return null
      default:
        return this.onRequest(msg, ctx)
    }
  }

  /** A request (`hello`, `attach`, `link`, `ping`, `promote`) of a started overlay, answered with an `info`. */
  private async onRequest(msg: RequestMessage, ctx: RequestContext): Promise<InfoMessage | null> {
    const from = ctx.peer
    const hub = this.hub
    // Each kind is counted under its literal: `msg.kind` is a string just decoded, and a property
    // named by one is looked up in V8's string table first (as in overlay-flooding).
    switch (msg.kind) {
      case 'hello': {
        this.counter.received('hello')
        this.learnListed(msg.supernodes)
        // A leaf's refresh carries its capacity now, and is its heartbeat (accepted: counted as one).
        const counted = hub?.reported(from.id, msg.capacity, msg.capable) ?? false
        if (hub === undefined) return this.info(counted, true, msg.want, msg.listed)
        const want = hub.wanted(from.id, msg.want)
        const answer = this.info(counted, true, want, msg.listed)
        if (want !== 0) hub.listedTo(from.id)
        return answer
      }
      case 'attach': {
        this.counter.received('attach')
        this.learnListed(msg.supernodes)
        const accepted = hub?.attach(from, msg, ctx.connection.remoteAddress) ?? false
        const answer = this.info(accepted, accepted)
        if (accepted) hub?.listedTo(from.id)
        if (accepted && msg.alive === true) answer.alive = true // SupernodeHub.beat sends them
        return answer
      }
      case 'link':
        this.counter.received('link')
        return this.info(
          hub?.link({ id: from.id, addresses: msg.addresses }, msg.leaves, ctx.connection.remoteAddress) ??
            false,
          false,
        )
      case 'ping':
        this.counter.received('ping')
        return this.info(hub?.pinged(from.id, msg.leaves) ?? false, false, msg.want)
      case 'promote':
        this.counter.received('promote')
        this.learnListed(msg.supernodes)
        return this.info(hub ? false : await this.leaf.onPromote(from.id), false)
    }
  }

  /** Remembers the supernodes a message lists (but this node). */
  private learnListed(refs: readonly PeerRef[]): void {
    for (const ref of refs) if (ref.id !== this.network.peerId) this.supernodes.learn(ref)
  }

  /**
   * The answer to a request: this node's role and up to `want` (MAX_LIST)
   * supernodes it knows (itself, or its supernode, first). A supernode adds its election list
   * only where it is read: answers to `hello` (a leaf's refresh) and to an
   * accepted `attach`; a `link`, `ping` or `promote` answer, or a refused
   * attach, carries none (nothing reads it there). The list goes with its version (`listed`), and
   * not at all to a hello that names that version (`have`): the leaf holds it already.
   */
  private info(accepted: boolean, withCandidates: boolean, want = MAX_LIST, have?: number): InfoMessage {
    const hub = this.hub
    const supernodes: PeerRef[] = []
    if (want > 0) {
      const first = hub ? this.network.self() : this.leaf.supernode
      if (first && first.addresses.length > 0) supernodes.push(first)
      for (const r of this.supernodes.sample(this.random, want)) {
        if (supernodes.length === want) break
        if (r.id !== first?.id) supernodes.push(r)
      }
    }
    const answer: InfoMessage = {
      kind: 'info',
      role: hub ? 'supernode' : 'leaf',
      accepted,
      leaves: hub?.leafCount ?? 0,
      supernodes,
      candidates: [],
    }
    if (hub && withCandidates) {
      const { list, version } = hub.electionList()
      if (version !== have) answer.candidates = list
      answer.listed = version
    }
    return answer
  }

  nextListVersion(): number {
    return ++this.listVersions
  }

  private becomeSupernode(reason: string): Promise<void> {
    return this.serial(async () => {
      if (this.hub || !this.started) return
      const hub = new SupernodeHub(this)
      await hub.start()
      this.hub = hub
      this.figures.promotions++
      this.log.info('became a supernode', { reason, supernodes: this.supernodes.candidateCount() })
      this.emit('role', 'supernode')
      this.leaf.wakeAll()
      void this.leaf.detach()
      void hub.fillLinks()
    })
  }

  private becomeLeaf(): Promise<void> {
    return this.serial(async () => {
      const hub = this.hub
      if (!hub) return
      const to = hub.roomyLinks()
      this.hub = undefined
      await hub.stop('demoted', to)
      this.collect(hub)
      this.figures.demotions++
      this.log.info('stepped down to a leaf (too few leaves); they move to linked supernodes', {
        to: to.map((r) => r.id),
      })
      this.emit('role', 'leaf')
      this.leaf.prefer(to)
      void this.leaf.ensure()
    })
  }

  private serial(fn: () => Promise<void>): Promise<void> {
    this.switches++
    this.maintenance?.wake() // rounds wait for the switch, then run as a supernode's or a leaf's
    const run = this.switching.then(fn, fn)
    // The caller gets the error from `run`; the log tells an operator the role did not change.
    this.switching = run.then(
      () => {
        this.switches--
      },
      (err) => {
        this.switches--
        this.log.warn('a role change failed; the node keeps its role', { err })
      },
    )
    return run
  }

  private collect(hub: SupernodeHub): void {
    const s = hub.directory.stats()
    this.hubCounts = {
      sent: merged(this.hubCounts.sent, s.sent),
      received: merged(this.hubCounts.received, s.received),
    }
  }
}
