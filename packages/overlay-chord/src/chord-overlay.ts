import {
  boundedStream,
  CLOCK,
  type Clock,
  type ContentHash,
  checkRecord,
  type FileRecord,
  type Hit,
  IDENTITY,
  type Identity,
  INDEX_FACTORY,
  type IndexFactory,
  InvalidOptionsError,
  LOGGER,
  type Logger,
  MessageCounter,
  matches,
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
  ProtocolError,
  type Query,
  queryGrams,
  RANDOM,
  type Random,
  type RequestContext,
  type SearchOptions,
  type SignedFileRecord,
  shuffle,
  signRecord,
  sleep,
  type TimerHandle,
  toHits,
} from '@peerkit/core'
import { EventEmitter } from 'eventemitter3'
import { inject, injectable } from 'tsyringe'
import { solvesPuzzle } from './id-puzzle.js'
import {
  CHORD_PROTOCOL,
  type ChordRequest,
  type ChordResponse,
  RESPONSE_OF,
  type RequestKind,
  type RequestOf,
  type ResponseOf,
  wireRef,
} from './messages.js'
import { CHORD_OPTIONS, type ParsedChordOptions } from './options.js'
import { RecordStore } from './record-store.js'
import { Replication } from './replication.js'
import { answerRequest, type HandlerContext } from './request-handler.js'
import { Ring } from './ring.js'
import { type ChordNode, ChordRouting, type LookupResult, type Rpc } from './routing.js'

/** A node's periodic tasks, in the order they are scheduled (which fixes the order of their random offsets). */
type Task = 'stabilize' | 'fixFingers' | 'checkPredecessor' | 'refresh' | 'expire'
const TASKS: readonly Task[] = ['stabilize', 'fixFingers', 'checkPredecessor', 'refresh', 'expire']
/** Milliseconds before the first bootstrap retry; each next one waits twice as long, up to `bootstrapRetryMax`. */
const FIRST_JOIN_RETRY = 1000
/** A promise's value dropped (`post`). */
const NOTHING = (): void => {}
/**
 * Share of `network.maxConnections` a node protects from pruning with its
 * fingers: its neighbors (successors and predecessor) first, always, then its
 * distinct fingers, farthest first, while the two together stay within it.
 */
export const PROTECTED_SHARE = 0.5

/**
 * The `chord` overlay: a Chord DHT (Stoica et al., SIGCOMM 2001; ToN 2003).
 * Each record is stored at the successor of its content-hash key, of each
 * of its keyword keys and of up to `maxGramKeys` n-gram keys (prefix and
 * substring search), and replicated on the next successors; lookups are
 * iterative and report their hops.
 */
@injectable()
export class ChordOverlay extends EventEmitter<OverlayEvents> implements Overlay {
  readonly name = 'chord'
  readonly [Symbol.toStringTag] = '@peerkit/overlay-chord'
  readonly ring: Ring
  readonly routing: ChordRouting
  private readonly replication: Replication
  private readonly handlerContext: HandlerContext
  private readonly store: RecordStore
  /** This node's own records by hash; made with the first publish. */
  private published: Map<ContentHash, FileRecord> | undefined
  private readonly counter = new MessageCounter()
  /** Successors and predecessor, each once, in the order they became neighbors. */
  private neighborList: readonly PeerRef[] = []
  /** The peers this node protects from pruning (`updateProtection`): neighbors, then fingers. */
  private protectedIds: readonly PeerId[] = []
  private readonly selfId: bigint
  /** The periodic tasks (`TASKS`), made at start. */
  private tasks: readonly PeriodicTask[] = []
  private running = false
  private maintaining = true
  /** The stabilize round in progress, periodic or asked for. */
  private stabilizing: Promise<void> | undefined
  /** Set while the bootstrap addresses did not answer: the retries, the backoff and why. */
  private joining: { retries: number; delay: number; nextAt: number; reason: string } | undefined
  /** Aborts when the overlay stops; made on first use (see `signal`). */
  private lifetime: AbortController | undefined
  /** Records received in answers that did not check (bad signature, expired, not what was asked) and were dropped. */
  private dropped = 0
  private readonly log: Logger

  constructor(
    @inject(NETWORK) private readonly network: Network,
    @inject(CHORD_OPTIONS) readonly options: ParsedChordOptions,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(RANDOM) private readonly random: Random,
    @inject(INDEX_FACTORY) indexFactory: IndexFactory,
    @inject(PEER_CONFIG) private readonly config: PeerConfig,
    @inject(IDENTITY) private readonly identity: Identity,
    @inject(LOGGER) logger: Logger,
  ) {
    super()
    this.log = logger.forComponent('peerkit:chord')
    if (!solvesPuzzle(identity.peerId, options.idDifficulty)) {
      throw new InvalidOptionsError(
        `chord.idDifficulty is ${options.idDifficulty} but this peer's id ${identity.peerId} does not solve the id puzzle: register chordOverlay() after IDENTITY (it derives an identity that does), or use solvePuzzle(identity, ${options.idDifficulty})`,
      )
    }
    this.ring = Ring.of(options.bits)
    this.selfId = this.ring.nodeId(network.peerId)
    this.store = new RecordStore(indexFactory('chord'), options, (err) =>
      this.log.warn('the record index failed a write', { err }),
    )
    const admits = (ref: PeerRef) => solvesPuzzle(ref.id, options.idDifficulty)
    const call: Rpc = (node, request, signal) => this.call(node, request, signal) // one for routing and replication
    this.routing = new ChordRouting(
      this.ring,
      () => ({ id: this.selfId, ref: this.network.self() }),
      options.successors,
      call,
      {
        predecessorChanged: (previous, next) => this.replication.predecessorChanged(previous, next),
        neighborsChanged: () => this.onNeighborsChanged(),
        admits,
        connected: () => this.network.peers(),
        fingersChanged: () => this.updateProtection(),
      },
    )
    this.handlerContext = {
      ring: this.ring,
      routing: this.routing,
      store: this.store,
      options,
      clock,
      network,
      admits,
      keysOf: (record) => this.replication.keysFor(record),
      stabilizeSoon: () => {
        if (this.running && this.maintaining) void this.stabilizeOnce()
      },
      handOn: (from, batches) => this.replication.handOn(from, batches),
      // Without the lifetime signal (a listener on it per request): a relay pending at stop ends within its timeout.
      relay: (node, request) => this.call(node, request),
    }
    this.replication = new Replication({
      ring: this.ring,
      routing: this.routing,
      store: this.store,
      options,
      clock,
      call,
      post: (node, message, signal) => this.post(node, message, signal),
      running: () => this.running,
      signal: () => this.signal,
    })
  }

  /** Joins through the first reachable `bootstrap` address, or starts a new ring when there is none. */
  async start(): Promise<void> {
    if (this.running) return
    const restored = await this.store.open()
    if (restored > 0) this.log.info('took back the records held before the restart', { records: restored })
    this.running = true
    this.lifetime = undefined // a fresh one on first use
    this.network.handle(CHORD_PROTOCOL, this.answer, this)
    this.joining = undefined
    // A bootstrap that does not answer yet is retried with backoff by the stabilize task (`tryJoin`).
    const joined = this.config.bootstrap.length > 0 && (await this.tryJoin())
    // Alone (a new ring), stabilize does nothing: no lifetime signal is made for it.
    const alone = this.routing.successors.length === 0 && this.routing.predecessor === undefined
    const previous = await this.routing.stabilize(alone ? undefined : this.signal).catch(() => undefined) // a first stabilize that fails is retried every stabilizeInterval
    if (joined) this.announceJoin(previous)
    // Each periodic task first runs a random fraction of its interval from now, so nodes do not tick in step.
    this.tasks = TASKS.map((task) => this.schedule(task))
  }

  /**
   * Leaves voluntarily: withdraws its own records from their keys (so
   * searches stop listing it at once), hands the records it holds to its
   * successor and tells both neighbors.
   */
  async stop(): Promise<void> {
    if (!this.running) return
    await this.withdrawOwn()
    this.running = false
    for (const t of this.tasks) t.stop()
    this.tasks = []
    this.controller().abort()
    const successors = [...this.routing.successors]
    const predecessor = this.routing.predecessor
    if (successors.length > 0 && this.network.isStarted) {
      const held = this.store.records().filter((r) => r.provider.id !== this.network.peerId)
      for (const s of successors) {
        if (
          await this.replication.push(s, held).then(
            () => true,
            () => false,
          )
        )
          break
      }
      const leave: RequestOf<'leave'> = {
        type: 'leave',
        predecessor: predecessor ? wireRef(predecessor.ref) : null,
        successors: successors.map((n) => wireRef(n.ref)),
      }
      const told = [successors[0] as ChordNode, ...(predecessor ? [predecessor] : [])]
      await Promise.allSettled(told.map((n) => this.call(n, leave)))
    }
    this.network.unhandle(CHORD_PROTOCOL)
    this.routing.reset()
    // A durable store keeps what it held (each record until its expiry) for the node's restart; a memory one empties.
    if (!this.store.index.durable) this.store.clear()
    await this.store.close()
    this.replication.reset()
    this.onNeighborsChanged()
  }

  async dispose(): Promise<void> {
    await this.stop()
  }

  /**
   * Withdraws this node's own records from every key before it leaves, within
   * `rpcTimeout`: a provider that left is not listed until its records expire.
   * (A provider that crashed is listed until `recordTtl` at most.)
   */
  private async withdrawOwn(): Promise<void> {
    const own = [...(this.published?.values() ?? [])]
    if (own.length === 0 || this.neighborList.length === 0 || !this.network.isStarted) return
    const bound = new AbortController()
    const waited = sleep(this.clock, this.options.rpcTimeout, bound.signal).catch(() => {}) // aborted: the withdrawal finished first
    await Promise.race([
      this.replication.remove(own).catch((err) => this.log.debug('withdrawing own records failed', { err })), // they expire after recordTtl
      waited,
    ])
    bound.abort()
  }

  async publish(records: FileRecord[]): Promise<void> {
    this.assertRunning()
    this.published ??= new Map()
    for (const r of records) this.published.set(r.hash, r)
    await this.replication.store(this.signed(records))
  }

  /** The records signed by this node, valid for `recordTtl` from now. */
  private signed(records: FileRecord[]): SignedFileRecord[] {
    const expires = this.clock.now() + this.options.recordTtl
    return records.map((r) => signRecord(this.identity, r, expires))
  }

  async unpublish(hashes: ContentHash[]): Promise<void> {
    this.assertRunning()
    const records = hashes.map((h) => this.published?.get(h)).filter((r): r is FileRecord => r !== undefined)
    for (const h of hashes) this.published?.delete(h)
    await this.replication.remove(records)
  }

  /** The keys a record is stored under: its content hash and each of its keywords. */
  keysOf(record: FileRecord): bigint[] {
    return this.replication.keysOf(record)
  }

  search(query: Query, options: SearchOptions = {}): AsyncIterable<Hit> {
    return this.whileRunning(() =>
      boundedStream<Hit>(this.clock, options, async (push, signal) => {
        const limit = query.limit ?? Number.POSITIVE_INFINITY
        const sent = new Set<ContentHash>()
        for (const key of this.searchKeys(query)) {
          const found = await this.routing.lookup(key, { signal, disjoint: this.options.disjointPaths })
          await this.askReplicas(found, signal, async (node, hops) => {
            const request: RequestOf<'get' | 'search'> =
              query.hash !== undefined ? { type: 'get', hash: query.hash } : { type: 'search', query }
            const { records } = await this.call(node, request, signal)
            const hits = toHits(this.checked(records, query))
            for (const hit of hits) {
              if (sent.size >= limit) break
              sent.add(hit.hash)
              push({ ...hit, hops })
            }
            return hits.length > 0
          })
          if (sent.size > 0) return
        }
      }),
    )
  }

  /**
   * The keys a search asks, in turn, until one answers with hits: the content
   * hash's; or, for keywords, the key of the first n-gram of the longest term
   * (a prefix or substring of the words it matches: `movi` → `mov`), then the
   * term's whole-word key (always published, even when `maxGramKeys` left
   * that gram out). A term shorter than its n-gram asks the whole-word key.
   */
  private searchKeys(query: Query): bigint[] {
    if (query.hash !== undefined) return [this.ring.contentKey(query.hash)]
    const term = pickKeyword(query.keywords ?? [])
    const gram = this.options.maxGramKeys > 0 ? queryGrams(term)[0] : undefined
    const word = this.ring.keywordKey(term)
    return gram === undefined ? [word] : [this.ring.gramKey(gram), word]
  }

  providers(hash: ContentHash, options: SearchOptions = {}): AsyncIterable<PeerRef> {
    return this.whileRunning(() =>
      boundedStream<PeerRef>(this.clock, options, async (push, signal) => {
        const found = await this.routing.lookup(this.ring.contentKey(hash), {
          signal,
          disjoint: this.options.disjointPaths,
        })
        const sent = new Set<PeerId>()
        await this.askReplicas(found, signal, async (node) => {
          const records = this.checked((await this.call(node, { type: 'get', hash }, signal)).records, {
            hash,
          })
          for (const r of records) {
            if (sent.has(r.provider.id)) continue
            sent.add(r.provider.id)
            push(r.provider)
          }
          return records.length > 0
        })
      }),
    )
  }

  /**
   * The records of an answer that check: signed by their provider, not
   * expired, and answering `query`; the others are dropped and counted
   * (`stats().dropped`).
   */
  private checked(records: readonly SignedFileRecord[], query: Query): SignedFileRecord[] {
    const now = this.clock.now()
    const good = records.filter((r) => matches(r, query) && checkRecord(r, now) === undefined)
    this.dropped += records.length - good.length
    return good
  }

  /**
   * The node responsible for `key` (its successor list, successor first), and
   * the hops it took to find. With `verify`, the successor is pinged first and
   * dead ones skipped, so the answer is live even before stabilisation has
   * caught up with failures.
   */
  lookup(
    key: bigint,
    options: { signal?: AbortSignal; verify?: boolean; disjoint?: number } = {},
  ): Promise<LookupResult> {
    this.assertRunning()
    return this.routing.lookup(key, options)
  }

  /**
   * Pauses (false) or resumes (true) the ring's maintenance: stabilize,
   * fix_fingers and check_predecessor rounds. Lookups, stores and record
   * refreshes go on. Experiments use it to measure routing on tables as they
   * stood when nodes failed (ToN 2003, §V-D); a paused ring does not repair.
   */
  setMaintenance(on: boolean): void {
    this.maintaining = on
  }

  /** Whether maintenance rounds run (see `setMaintenance`). */
  get maintenance(): boolean {
    return this.maintaining
  }

  neighbors(): PeerRef[] {
    return [...this.neighborList]
  }

  role(): string {
    return 'peer'
  }

  stats(): OverlayStats {
    return this.counter.snapshot({
      id: this.ring.toHex(this.selfId),
      records: this.store.size,
      published: this.published?.size ?? 0,
      successors: this.routing.successors.length,
      predecessor: this.routing.predecessor !== undefined,
      fingers: this.routing.fingers.distinct().length,
      dropped: this.dropped,
    })
  }

  /** The lifetime signal: aborts when the overlay stops. Made on first use, as most simulated nodes never need one. */
  private get signal(): AbortSignal {
    return this.controller().signal
  }

  private controller(): AbortController {
    if (this.lifetime === undefined) {
      this.lifetime = new AbortController()
      // Every request in flight listens to it: lift Node's listener warning (a browser has none).
      globalThis.process?.getBuiltinModule?.('node:events')?.setMaxListeners(0, this.lifetime.signal)
    }
    return this.lifetime
  }

  /**
   * Joins through a bootstrap address unless the last failure's backoff has
   * not passed; true when it joined. A failure is logged (a warning the first
   * time, then at debug), and the next attempt waits twice as long, from 1 s
   * up to `bootstrapRetryMax`. Meanwhile the node answers as a ring of one.
   */
  private async tryJoin(): Promise<boolean> {
    const now = this.clock.now()
    const pending = this.joining
    if (pending && now < pending.nextAt) return false
    try {
      await this.join()
    } catch (err) {
      if (!this.running) return false
      const delay = pending ? Math.min(pending.delay * 2, this.options.bootstrapRetryMax) : FIRST_JOIN_RETRY
      const reason = (err as Error).message
      this.joining = { retries: (pending?.retries ?? 0) + 1, delay, nextAt: this.clock.now() + delay, reason }
      const fields = { retries: this.joining.retries, retryInMs: delay, reason }
      if (pending) this.log.debug('chord bootstrap still unreachable', fields)
      else this.log.warn('no chord bootstrap peer answered; retrying with backoff', fields)
      this.emit('connectivity', this.connectivity())
      return false
    }
    if (pending) this.log.info('joined the ring', { retries: pending.retries })
    this.joining = undefined
    this.emit('connectivity', this.connectivity())
    return true
  }

  /** Whether this node is on a ring with others, still trying its bootstrap addresses, or alone. */
  connectivity(): OverlayConnectivity {
    const neighbors = this.neighborList.length
    if (neighbors > 0) return { state: 'connected', neighbors }
    const j = this.joining
    if (this.config.bootstrap.length === 0)
      return {
        state: 'isolated',
        neighbors,
        reason: 'no bootstrap address: a ring of one until a node joins it',
      }
    return j
      ? { state: 'bootstrapping', neighbors, reason: j.reason, retries: j.retries }
      : { state: 'bootstrapping', neighbors }
  }

  private async join(): Promise<void> {
    const errors: string[] = []
    for (const address of shuffle(this.random, this.config.bootstrap)) {
      try {
        const { id } = await this.network.dialAddress(address, { signal: this.signal })
        const ref = { id, addresses: [address] }
        if (!this.routing.admits(ref))
          throw new ProtocolError(
            `${ref.id} does not solve the id puzzle (chord.idDifficulty ${this.options.idDifficulty})`,
          )
        this.network.learn(ref)
        await this.routing.join([this.routing.node(ref)], this.signal)
        return
      } catch (err) {
        errors.push(`${address}: ${(err as Error).message}`)
      }
    }
    throw new PeerUnreachableError(
      `chord could not join through any bootstrap address (${errors.join('; ')})`,
    )
  }

  /**
   * Right after a join: the successor's old predecessor is told to stabilize
   * (it then takes this node as its successor), and the finger table is
   * filled in one pass, so the ring takes a newcomer in within a few round
   * trips whatever the maintenance intervals.
   */
  private announceJoin(previous: ChordNode | undefined): void {
    const signal = this.signal
    if (previous && previous.id !== this.selfId) {
      void this.call(previous, { type: 'stabilize' }, signal).catch(() => {}) // a hint: its own stabilize finds us anyway
    }
    if (this.maintaining) void this.routing.fixAllFingers(signal).catch(() => {}) // fix_fingers rounds fill what this missed
  }

  /** A stabilize round, unless one is already running (then that one). */
  private stabilizeOnce(): Promise<void> {
    if (!this.stabilizing) {
      this.stabilizing = this.stabilizeRound()
        .catch(() => {}) // a failed round is the next round's to repair
        .finally(() => {
          this.stabilizing = undefined
        })
    }
    return this.stabilizing
  }

  private async stabilizeRound(): Promise<void> {
    // Every successor failed: find the way back through fingers, else through the bootstrap addresses.
    if (this.routing.successors.length === 0 && !(await this.routing.recover(this.signal))) {
      if (this.config.bootstrap.length > 0 && !this.routing.predecessor && (await this.tryJoin())) {
        // Joined late: announce it, and publish what was published while alone at its keys' owners.
        this.announceJoin(undefined)
        if (this.published?.size) void this.replication.store(this.signed([...this.published.values()]))
      }
    }
    await this.routing.stabilize(this.signal)
    this.replication.maintain()
  }

  /**
   * Runs `task` every interval on the Clock, the first time after a random
   * fraction of its interval, so nodes do not tick in step.
   */
  private schedule(task: Task): PeriodicTask {
    const ms = this.intervalOf(task)
    return new PeriodicTask(this, task, this.clock, ms, this.random.int(ms))
  }

  /** Whether the node is running (for its periodic tasks). @internal */
  isRunning(): boolean {
    return this.running
  }

  /** A periodic task threw or rejected: said at warn (it runs again at its next interval). @internal */
  taskFailed(task: Task, err: unknown): void {
    // A task cut short by stop() (its calls aborted) is the stop, not a failure.
    if (!this.running && err instanceof Error && err.name === 'AbortError') return
    this.log.warn('a periodic task failed; it runs again at its next interval', { task, err })
  }

  private intervalOf(task: Task): number {
    const o = this.options
    switch (task) {
      case 'stabilize':
        return o.stabilizeInterval
      case 'fixFingers':
        return o.fixFingersInterval
      case 'checkPredecessor':
        return o.checkPredecessorInterval
      case 'refresh':
        return o.refreshInterval
      case 'expire':
        return Math.max(1, Math.floor(o.recordTtl / 4))
    }
  }

  /** One round of a periodic task. @internal */
  runTask(task: Task): unknown {
    switch (task) {
      case 'stabilize':
        return this.maintaining && this.stabilizeOnce()
      case 'fixFingers':
        if (!this.maintaining) return false
        this.routing.placeFingerCycle((n) => this.random.int(n)) // once a life: nodes started together do not refresh in step
        return this.routing.fixFingers(this.signal)
      case 'checkPredecessor':
        return this.maintaining && this.routing.checkPredecessor(this.signal)
      case 'refresh':
        return this.replication.store(this.signed([...(this.published?.values() ?? [])]))
      case 'expire':
        return this.store.expire(this.clock.now())
    }
  }

  // --- the wire -----------------------------------------------------------------

  /**
   * One request, answered within `timeout` (`rpcTimeout`; a relayed find_successor waits longer: see
   * `LookupOptions.relay`). Not an async function: a relayed find_successor keeps this call pending at every
   * node it passes through, and an async function's suspended frame (one per call in flight) was young garbage
   * that lived for the rest of the relay; the `then` below runs at the tick the `await` resumed at.
   */
  private call<K extends RequestKind>(
    node: ChordNode,
    request: RequestOf<K>,
    signal?: AbortSignal,
    timeout = this.relayTimeout(request),
  ): Promise<ResponseOf<K>> {
    if (node.id === this.selfId) return this.callSelf(request)
    this.counter.sent(request.type)
    return this.network
      .request(node.ref, CHORD_PROTOCOL, request, { timeout, signal })
      .then((response) => this.answerTo(node, request, response))
  }

  /** A response that answers `request` (counted), else `ProtocolError`. */
  private answerTo<K extends RequestKind>(
    node: ChordNode,
    request: RequestOf<K>,
    response: ChordResponse,
  ): ResponseOf<K> {
    this.counter.received(response.type)
    if (response.type !== RESPONSE_OF[request.type]) {
      throw new ProtocolError(`${node.ref.id} answered a chord ${request.type} with ${response.type}`)
    }
    return response as ResponseOf<K>
  }

  /** A request to this node itself, answered locally. */
  private async callSelf<K extends RequestKind>(request: RequestOf<K>): Promise<ResponseOf<K>> {
    return (await this.handle(request, this.network.self())) as ResponseOf<K>
  }

  /**
   * How long a request may take: `rpcTimeout`, and for a find_successor with
   * `relay` (`LookupOptions.relay`) `rpcTimeout × (relay + 1)`, since each node
   * it is passed on through waits `rpcTimeout ×` the relay it got.
   */
  private relayTimeout(request: ChordRequest): number {
    const { rpcTimeout } = this.options
    return request.type === 'find_successor' && request.relay !== undefined
      ? rpcTimeout * (request.relay + 1)
      : rpcTimeout
  }

  /** A one-way message to this node itself, handled locally. */
  private async postSelf(message: RequestOf<'hand_on'>): Promise<void> {
    await this.handle(message, this.network.self())
  }

  /** Sends a one-way message (`hand_on`); to this node itself it is handled locally. */
  private post(node: ChordNode, message: RequestOf<'hand_on'>, signal?: AbortSignal): Promise<void> {
    if (node.id === this.selfId) return this.postSelf(message)
    this.counter.sent(message.type)
    // Settled a tick after the send, as when this was an async function that awaited it.
    return this.network.send(node.ref, CHORD_PROTOCOL, message, { signal }).then(NOTHING)
  }

  /**
   * Requests count under their type (`find_successor` …), responses under theirs (`step`, `hits` …);
   * a one-way `hand_on` has no response. `handle` inlined: one async frame per request instead of two,
   * each await where one was (the second, where `handle`'s promise was awaited), so every answer leaves
   * at the tick it did.
   */
  private async answer(request: ChordRequest, context: RequestContext): Promise<ChordResponse> {
    this.counter.received(request.type)
    const strays =
      (request.type === 'store' || request.type === 'hand_on') && request.primary ? [] : undefined
    let response: ChordResponse
    try {
      if (!this.running) throw new NotStartedError('this chord node is not running')
      response = await answerRequest(this.handlerContext, request, context.peer, strays)
    } catch (err) {
      await undefined // a refusal leaves when it did too
      throw err
    }
    if (strays !== undefined && strays.length > 0) this.replication.passOn(strays)
    await undefined // where `handle`'s promise was awaited
    if (request.type !== 'hand_on') this.counter.sent(response.type)
    return response
  }

  private async handle(request: ChordRequest, from: PeerRef): Promise<ChordResponse> {
    if (!this.running) throw new NotStartedError('this chord node is not running')
    // A store or hand-on to the key's successor: the records none of whose keys this node owns (found as they are kept).
    const strays =
      (request.type === 'store' || request.type === 'hand_on') && request.primary ? [] : undefined
    const response = await answerRequest(this.handlerContext, request, from, strays)
    if (strays !== undefined && strays.length > 0) this.replication.passOn(strays)
    return response
  }

  /** Asks the key's holders in turn until one has an answer (`ask` returns true). */
  private async askReplicas(
    found: LookupResult,
    signal: AbortSignal,
    ask: (node: ChordNode, hops: number) => Promise<boolean>,
  ): Promise<void> {
    let lastError: Error | undefined
    for (const node of this.replication.holders(found.nodes)) {
      if (signal.aborted) return
      try {
        if (await ask(node, found.hops + (node.id === this.selfId ? 0 : 1))) return
        lastError = undefined
      } catch (err) {
        if ((err as Error).name === 'AbortError') throw err
        lastError = err as Error
        this.routing.forget(node)
      }
    }
    if (lastError) throw lastError
  }

  private onNeighborsChanged(): void {
    const before = this.neighborList.length > 0
    this.updateNeighbors()
    this.updateProtection()
    const after = this.neighborList.length > 0
    if (before !== after) {
      if (after) this.joining = undefined
      this.log.info(after ? 'on the ring with neighbours' : 'lost every neighbour', {
        neighbors: this.neighborList.length,
      })
      this.emit('connectivity', this.connectivity())
    }
  }

  private updateNeighbors(): void {
    const p = this.routing.predecessor
    const now: PeerRef[] = []
    for (const n of [...this.routing.successors, ...(p ? [p] : [])])
      if (!now.some((r) => r.id === n.ref.id)) now.push(n.ref)
    // A neighbor that stays keeps its entry and its place; new ones go last.
    for (const ref of this.neighborList) {
      if (!now.some((n) => n.id === ref.id)) {
        this.neighborList = this.neighborList.filter((r) => r !== ref)
        this.emit('neighbor:remove', ref)
      }
    }
    for (const ref of now) {
      if (!this.neighborList.some((r) => r.id === ref.id)) {
        this.neighborList = this.neighborList.concat(ref)
        this.emit('neighbor:add', ref)
      }
    }
  }

  /**
   * Keeps the connections to this node's neighbors and to its fingers from
   * being pruned (`Network.protect`): the neighbors always, then the distinct
   * fingers, farthest first, while the two together are at most
   * `PROTECTED_SHARE` of `network.maxConnections`. A lookup's first hop is a
   * finger, and a fix_fingers round asks the finger itself (`ChordRouting.fixFingers`):
   * without it, the connections a node's lookups open one after another push
   * its fingers' out, and upkeep opens them again.
   */
  private updateProtection(): void {
    const want: PeerId[] = []
    for (const ref of this.neighborList) want.push(ref.id)
    let room = Math.floor(this.config.network.maxConnections * PROTECTED_SHARE) - want.length
    const fingers = this.routing.fingers
    let above: ChordNode | undefined
    for (let i = fingers.length - 1; i >= 0 && room > 0; i--) {
      const f = fingers.get(i)
      if (f === undefined || f === above) continue
      above = f
      if (want.includes(f.ref.id)) continue
      want.push(f.ref.id)
      room--
    }
    const before = this.protectedIds
    for (const id of before) if (!want.includes(id)) this.network.protect(id, false)
    for (const id of want) if (!before.includes(id)) this.network.protect(id, true)
    this.protectedIds = want
  }

  /** A stream that fails with `NotStartedError` on first use when the overlay is not running. */
  private async *whileRunning<T>(make: () => AsyncIterable<T>): AsyncGenerator<T, void, undefined> {
    this.assertRunning()
    yield* make()
  }

  private assertRunning(): void {
    if (!this.running) throw new NotStartedError('the chord overlay is not started; call start() first')
  }
}

/**
 * Which keyword's node to ask. We cannot tell the rarest without asking, so
 * we take the longest word (short words, `the`, `mkv`, `2002`, are the common
 * ones), the first of equals.
 */
export function pickKeyword(words: readonly string[]): string {
  let best = words[0]
  if (best === undefined) throw new InvalidOptionsError('a keyword query needs at least one keyword')
  for (const w of words) if (w.length > best.length) best = w
  return best
}

/**
 * One periodic task of a node: its first round a random fraction of its
 * interval after start, then a round `ms` after the end of the one before (as
 * core's `every`). One object and one bound method per task: a simulator
 * keeps 10^6 nodes' five tasks (core's `every`, with the overlay's task and
 * error handler bound for it, took three bound methods and two objects).
 */
class PeriodicTask {
  private timer: TimerHandle | undefined
  private began = false
  private stopped = false
  private readonly tick: () => void

  constructor(
    private readonly owner: ChordOverlay,
    private readonly task: Task,
    private readonly clock: Clock,
    private readonly ms: number,
    first: number,
  ) {
    this.tick = this.fire.bind(this)
    this.timer = clock.setTimeout(this.tick, first)
  }

  stop(): void {
    this.stopped = true
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    this.timer = undefined
  }

  private fire(): void {
    if (this.began) {
      void this.run()
      return
    }
    // The first timer: from now on a round every interval.
    this.began = true
    this.timer = undefined
    if (!this.owner.isRunning()) return
    this.timer = this.clock.setTimeout(this.tick, this.ms)
  }

  private async run(): Promise<void> {
    if (this.stopped) return
    try {
      await this.owner.runTask(this.task)
    } catch (err) {
      this.owner.taskFailed(this.task, err) // logged there; the schedule goes on
    }
    if (!this.stopped) this.timer = this.clock.setTimeout(this.tick, this.ms)
  }
}
