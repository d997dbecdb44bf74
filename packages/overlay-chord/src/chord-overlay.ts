import { setMaxListeners } from 'node:events'
import {
  boundedStream,
  CLOCK,
  type Clock,
  type ContentHash,
  every,
  type FileRecord,
  type Hit,
  INDEX_FACTORY,
  type IndexFactory,
  InvalidOptionsError,
  MessageCounter,
  Network,
  NotStartedError,
  type Overlay,
  type OverlayEvents,
  type OverlayStats,
  PEER_CONFIG,
  type PeerConfig,
  type PeerId,
  type PeerRef,
  PeerUnreachableError,
  ProtocolError,
  type Query,
  RANDOM,
  type Random,
  type RequestContext,
  type SearchOptions,
  shuffle,
  toHits,
} from '@peerkit/core'
import { EventEmitter } from 'eventemitter3'
import { inject, injectable } from 'tsyringe'
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
import { type ChordNode, ChordRouting, type LookupResult } from './routing.js'

/**
 * The `chord` overlay: a Chord DHT (Stoica et al., SIGCOMM 2001; ToN 2003).
 * Each record is stored at the successor of its content-hash key and of each
 * of its keyword keys, and replicated on the next successors; lookups are
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
  private readonly published = new Map<ContentHash, FileRecord>()
  private readonly counter = new MessageCounter()
  private readonly neighborSet = new Map<PeerId, PeerRef>()
  private readonly selfId: bigint
  private timers: { stop(): void }[] = []
  private pendingStarts: unknown[] = []
  private running = false
  private maintaining = true
  private lifetime = new AbortController()

  constructor(
    @inject(Network) private readonly network: Network,
    @inject(CHORD_OPTIONS) readonly options: ParsedChordOptions,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(RANDOM) private readonly random: Random,
    @inject(INDEX_FACTORY) indexFactory: IndexFactory,
    @inject(PEER_CONFIG) private readonly config: PeerConfig,
  ) {
    super()
    this.ring = new Ring(options.bits)
    this.selfId = this.ring.nodeId(network.peerId)
    this.store = new RecordStore(indexFactory('chord'))
    this.routing = new ChordRouting(
      this.ring,
      () => ({ id: this.selfId, ref: this.network.self() }),
      options.successors,
      (node, request, signal) => this.call(node, request, signal),
      {
        predecessorChanged: (previous, next) => this.replication.predecessorChanged(previous, next),
        neighborsChanged: () => this.onNeighborsChanged(),
      },
    )
    this.handlerContext = {
      ring: this.ring,
      routing: this.routing,
      store: this.store,
      options,
      clock,
      network,
    }
    this.replication = new Replication({
      ring: this.ring,
      routing: this.routing,
      store: this.store,
      options,
      clock,
      call: (node, request, signal) => this.call(node, request, signal),
      running: () => this.running,
      signal: () => this.lifetime.signal,
    })
  }

  /** Joins through the first reachable `bootstrap` address, or starts a new ring when there is none. */
  async start(): Promise<void> {
    if (this.running) return
    this.running = true
    this.lifetime = new AbortController()
    setMaxListeners(0, this.lifetime.signal) // every request in flight listens to it
    this.network.handle(CHORD_PROTOCOL, (request, context) => this.answer(request, context))
    try {
      if (this.config.bootstrap.length > 0) await this.join()
    } catch (err) {
      this.running = false
      this.network.unhandle(CHORD_PROTOCOL)
      throw err
    }
    await this.routing.stabilize(this.lifetime.signal).catch(() => {})
    const o = this.options
    this.schedule(o.stabilizeInterval, () => this.maintaining && this.stabilizeRound())
    this.schedule(
      o.fixFingersInterval,
      () => this.maintaining && this.routing.fixFingers(this.lifetime.signal),
    )
    this.schedule(
      o.checkPredecessorInterval,
      () => this.maintaining && this.routing.checkPredecessor(this.lifetime.signal),
    )
    this.schedule(o.refreshInterval, () => this.replication.store([...this.published.values()]))
    this.schedule(Math.max(1, Math.floor(o.recordTtl / 4)), () => this.store.expire(this.clock.now()))
  }

  /** Leaves voluntarily: hands the records it holds to its successor and tells both neighbors. */
  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    for (const t of this.timers) t.stop()
    for (const h of this.pendingStarts) this.clock.clearTimeout(h)
    this.timers = []
    this.pendingStarts = []
    this.lifetime.abort()
    const successors = [...this.routing.successors]
    const predecessor = this.routing.predecessor
    if (successors.length > 0 && this.network.isStarted) {
      const held = [...this.store.records()].filter((r) => r.provider.id !== this.network.peerId)
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
    this.store.clear()
    this.replication.reset()
    this.onNeighborsChanged()
  }

  async dispose(): Promise<void> {
    await this.stop()
  }

  async publish(records: FileRecord[]): Promise<void> {
    this.assertRunning()
    for (const r of records) this.published.set(r.hash, r)
    await this.replication.store(records)
  }

  async unpublish(hashes: ContentHash[]): Promise<void> {
    this.assertRunning()
    const records = hashes.map((h) => this.published.get(h)).filter((r): r is FileRecord => r !== undefined)
    for (const h of hashes) this.published.delete(h)
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
        const key =
          query.hash !== undefined
            ? this.ring.contentKey(query.hash)
            : this.ring.keywordKey(pickKeyword(query.keywords ?? []))
        const found = await this.routing.lookup(key, { signal })
        const sent = new Set<ContentHash>()
        await this.askReplicas(found, signal, async (node, hops) => {
          const hits =
            query.hash !== undefined
              ? toHits((await this.call(node, { type: 'get', hash: query.hash }, signal)).records)
              : (await this.call(node, { type: 'search', query }, signal)).hits
          for (const hit of hits) {
            if (sent.size >= limit) break
            if (query.hash !== undefined && hit.hash !== query.hash) continue
            sent.add(hit.hash)
            push({ ...hit, hops })
          }
          return hits.length > 0
        })
      }),
    )
  }

  providers(hash: ContentHash, options: SearchOptions = {}): AsyncIterable<PeerRef> {
    return this.whileRunning(() =>
      boundedStream<PeerRef>(this.clock, options, async (push, signal) => {
        const found = await this.routing.lookup(this.ring.contentKey(hash), { signal })
        const sent = new Set<PeerId>()
        await this.askReplicas(found, signal, async (node) => {
          const { records } = await this.call(node, { type: 'get', hash }, signal)
          for (const r of records) {
            if (r.hash !== hash || sent.has(r.provider.id)) continue
            sent.add(r.provider.id)
            push(r.provider)
          }
          return records.length > 0
        })
      }),
    )
  }

  /**
   * The node responsible for `key` (its successor list, successor first), and
   * the hops it took to find. With `verify`, the successor is pinged first and
   * dead ones skipped, so the answer is live even before stabilisation has
   * caught up with failures.
   */
  lookup(key: bigint, options: { signal?: AbortSignal; verify?: boolean } = {}): Promise<LookupResult> {
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
    return [...this.neighborSet.values()]
  }

  role(): string {
    return 'peer'
  }

  stats(): OverlayStats {
    return this.counter.snapshot({
      id: this.ring.toHex(this.selfId),
      records: this.store.size,
      published: this.published.size,
      successors: this.routing.successors.length,
      predecessor: this.routing.predecessor !== undefined,
      fingers: this.routing.fingers.distinct().length,
    })
  }

  private async join(): Promise<void> {
    const errors: string[] = []
    for (const address of shuffle(this.random, this.config.bootstrap)) {
      try {
        const mux = await this.network.dialAddress(address, { signal: this.lifetime.signal })
        const ref = { id: mux.connection.remotePeer, addresses: [address] }
        this.network.learn(ref)
        await this.routing.join([this.routing.node(ref)], this.lifetime.signal)
        return
      } catch (err) {
        errors.push(`${address}: ${(err as Error).message}`)
      }
    }
    throw new PeerUnreachableError(
      `chord could not join through any bootstrap address (${errors.join('; ')})`,
    )
  }

  private async stabilizeRound(): Promise<void> {
    // Every successor failed: find the way back through fingers, else through the bootstrap addresses.
    if (this.routing.successors.length === 0 && !(await this.routing.recover(this.lifetime.signal))) {
      if (this.config.bootstrap.length > 0 && !this.routing.predecessor) await this.join()
    }
    await this.routing.stabilize(this.lifetime.signal)
    this.replication.maintain()
  }

  /** Runs `task` every `ms` on the Clock, the first time after a random fraction of `ms` so nodes do not tick in step. */
  private schedule(ms: number, task: () => unknown): void {
    const handle = this.clock.setTimeout(() => {
      if (!this.running) return
      this.timers.push(every(this.clock, ms, task))
    }, this.random.int(ms))
    this.pendingStarts.push(handle)
  }

  // --- the wire -----------------------------------------------------------------

  private async call<K extends RequestKind>(
    node: ChordNode,
    request: RequestOf<K>,
    signal?: AbortSignal,
  ): Promise<ResponseOf<K>> {
    if (node.id === this.selfId) return (await this.handle(request, this.network.self())) as ResponseOf<K>
    this.counter.sent(request.type)
    const response = await this.network.request(node.ref, CHORD_PROTOCOL, request, {
      timeout: this.options.rpcTimeout,
      signal,
    })
    this.counter.received(response.type)
    if (response.type !== RESPONSE_OF[request.type]) {
      throw new ProtocolError(`${node.ref.id} answered a chord ${request.type} with ${response.type}`)
    }
    return response as ResponseOf<K>
  }

  /** Requests count under their type (`find_successor` …), responses under theirs (`step`, `hits` …). */
  private async answer(request: ChordRequest, context: RequestContext): Promise<ChordResponse> {
    this.counter.received(request.type)
    const response = await this.handle(request, context.peer)
    this.counter.sent(response.type)
    return response
  }

  private async handle(request: ChordRequest, from: PeerRef): Promise<ChordResponse> {
    if (!this.running) throw new NotStartedError('this chord node is not running')
    const response = answerRequest(this.handlerContext, request, from)
    if (request.type === 'store' && request.primary) this.replication.passOn(request.records)
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
    const now = new Map<PeerId, PeerRef>()
    const p = this.routing.predecessor
    for (const n of [...this.routing.successors, ...(p ? [p] : [])])
      if (!now.has(n.ref.id)) now.set(n.ref.id, n.ref)
    for (const [id, ref] of this.neighborSet) {
      if (!now.has(id)) {
        this.neighborSet.delete(id)
        this.network.protect(id, false)
        this.emit('neighbor:remove', ref)
      }
    }
    for (const [id, ref] of now) {
      if (!this.neighborSet.has(id)) {
        this.neighborSet.set(id, ref)
        this.network.protect(id, true)
        this.emit('neighbor:add', ref)
      }
    }
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
