import {
  type ContentHash,
  type FileRecord,
  type Logger,
  type PeerId,
  type PeerRef,
  type Query,
  shuffle,
  sleep,
  type TimerHandle,
  withTimeout,
} from '@peerkit/core'
import { CentralOverlay, parseCentralOptions } from '@peerkit/overlay-central'
import { newQueryId, type SearchSession, sameAddresses } from '@peerkit/overlay-flooding'
import type { NodeContext } from './context.js'
import { elect } from './election.js'
import {
  type AttachMessage,
  type Candidate,
  type DoneMessage,
  type HelloMessage,
  type HitMessage,
  MAX_HITS_PER_MESSAGE,
  MAX_LIST,
} from './messages.js'

/** Milliseconds of the central client's first reconnection delay (it is stopped before it gets far). */
const RECONNECT_MIN = 50
/** Supernodes a leaf trusts at most for failover (named by its own supernode, a move from it, or a bootstrap peer). */
const MAX_TRUSTED = 2 * MAX_LIST
/**
 * Supernodes a leaf names to its supernode in a refresh that swaps lists (`gossipEvery`), and asks
 * for back (`want`); an attach, and a hello to a bootstrap peer, name and get MAX_LIST. A leaf's
 * supernodes come mostly from its supernode's own answers: at 10^4 peers 97 % of the 32 it named
 * were known to its supernode already, and learning them was the largest share of a supernode's
 * upkeep CPU. Its ~32 leaves still name 8 each per swap, as many as the supernode's table holds
 * (256). The 32 a swap brought back were the upkeep's largest messages, and handling them (the
 * table, `trusted`) about 8 % of a 10^4-peer query window's CPU (42 % known to the leaf already).
 */
const GOSSIP_LIST = 8

/**
 * The central client's logger inside a leaf: its `info` lines (logged in,
 * lost the directory) say what the leaf says itself, so they are `debug` here.
 */
function quieter(log: Logger): Logger {
  return {
    component: log.component,
    debug: (m, f) => log.debug(m, f),
    info: (m, f) => log.debug(m, f),
    warn: (m, f) => log.warn(m, f),
    error: (m, f) => log.error(m, f),
    enabled: (level) => log.enabled(level === 'info' ? 'debug' : level),
    forComponent: (name) => quieter(log.forComponent(name)),
  }
}

interface PendingSearch {
  session: SearchSession
  finish(): void
}

type Counts = Record<string, number>

function add(into: Counts, from: Counts): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v
}

/**
 * The leaf side of a node: attached to one supernode, its files registered
 * there over `peerkit/central/1` (with overlay-central's own client, which
 * also sends the heartbeats), its searches sent to that supernode. When the
 * supernode goes away it attaches to another one it knows, and when none
 * answers, the co-leaves elect one of themselves (highest capacity, then
 * lowest PeerId) to become a supernode.
 */
export class LeafAttachment {
  private attached: PeerRef | undefined
  /** The supernode this leaf was last attached to (its `move` is still followed after the connection is gone). */
  private former: PeerId | undefined
  /**
   * Supernodes this leaf may fail over to: those its own supernode named, and
   * those its bootstrap peers named. What any other peer advertises is not
   * tried while the leaf can elect one of its co-leaves instead (a Sybil's
   * advertisements cannot steer orphans to its supernode past the election).
   */
  private readonly trusted = new Map<PeerId, PeerRef>()
  private client: CentralOverlay | undefined
  /**
   * The supernode this leaf is asking to take it on and logging in to, and
   * whether it sent a `move` meanwhile: it accepted this leaf, then split and
   * moved it away before the login ended. Attaching anyway would leave the leaf
   * registered in a directory whose hub no longer counts it as a leaf.
   */
  private attaching: { id: PeerId; moved: boolean } | undefined
  /** Whether the last attach ended because the supernode moved this leaf on meanwhile. */
  private movedAway = false
  private coLeaves: Candidate[] = []
  /** The supernode `coLeaves` came from and its version there (`InfoMessage.listed`), named in refreshes. */
  private listed: { from: PeerId; version: number } | undefined
  private preferred: PeerRef[] = []
  private loop: Promise<void> | undefined
  private readonly waiters = new Set<() => void>()
  private readonly pending = new Map<string, PendingSearch>()
  private abort = new AbortController()
  private lostAt: number | undefined
  private lastRefresh = 0
  /** Refreshes since this leaf and its supernode last swapped the supernodes they know (attach, or a refresh). */
  private sinceGossip = 0
  /**
   * The supernode counted this leaf's last refresh as its heartbeat (`InfoMessage.accepted`): a
   * refresh under way then stands for the heartbeat too (see `tick`).
   */
  private refreshBeats = false
  /**
   * The supernode sends this leaf `alive` (its attach asked, and the answer said so): the central
   * client sends no heartbeat and counts the supernode lost after a silence instead
   * (`CentralOverlay.expectAlive`).
   */
  private told = false
  private readonly clientCounts = { sent: {} as Counts, received: {} as Counts }
  readonly figures = {
    failovers: 0,
    elections: 0,
    lastRecoveryMs: -1,
    refusedMoves: 0,
    movedWhileAttaching: 0,
  }
  private readonly log: Logger

  constructor(
    private readonly ctx: NodeContext,
    private readonly published: () => FileRecord[],
    private readonly promoteSelf: (reason: string) => Promise<void>,
    /** Called when this leaf stops being attached: maintenance rounds have work again (see `quietUntil`). */
    private readonly unattached: () => void = () => {},
  ) {
    this.log = ctx.log.forComponent('leaf')
  }

  /** The supernode this leaf is attached to. */
  get supernode(): PeerRef | undefined {
    return this.attached
  }

  /** Co-leaves that may be elected, best first (as the supernode last told). */
  get candidates(): Candidate[] {
    return this.coLeaves
  }

  start(): void {
    this.abort = new AbortController()
  }

  async stop(): Promise<void> {
    this.abort.abort()
    this.wakeAll()
    await this.detach()
    await this.loop // never rejects: ensure() logs a failed round
  }

  /** Attaches (or gets elected) unless attached already; resolves when that is done or stopped. */
  ensure(): Promise<void> {
    if (this.attached || !this.ctx.running) return Promise.resolve()
    this.loop ??= this.attachLoop()
      .catch((err) => this.log.warn('attaching failed; the next maintenance round tries again', { err }))
      .finally(() => {
        this.loop = undefined
      })
    return this.loop
  }

  /** Supernodes to try first at the next attachment (a move, a demotion). */
  prefer(refs: PeerRef[]): void {
    this.preferred = refs.slice()
  }

  /** Leaves the current supernode (logging out, so it forgets this leaf's records at once). */
  async detach(): Promise<void> {
    const client = this.client
    const old = this.attached
    this.client = undefined
    this.attached = undefined
    if (old) {
      this.former = old.id
      this.unattached()
    }
    this.finishAll()
    if (old) this.ctx.emitNeighbor('neighbor:remove', old)
    if (client) await this.stopClient(client)
  }

  /** Wakes searches waiting for an attachment (the role changed, or the overlay stopped). */
  wakeAll(): void {
    for (const w of [...this.waiters]) w()
  }

  async publish(records: FileRecord[]): Promise<void> {
    await this.client?.publish(records)
  }

  async unpublish(hashes: ContentHash[]): Promise<void> {
    await this.client?.unpublish(hashes)
  }

  /** Messages the central client sent and received (registration, heartbeats). */
  clientStats(): { sent: Counts; received: Counts } {
    const out = { sent: { ...this.clientCounts.sent }, received: { ...this.clientCounts.received } }
    if (this.client) {
      const s = this.client.stats()
      add(out.sent, s.sent)
      add(out.received, s.received)
    }
    return out
  }

  /** Attached, with its next refresh not yet due: a maintenance round would do nothing. */
  idle(): boolean {
    return this.ctx.clock.now() < this.quietUntil()
  }

  /** Until when a maintenance round would do nothing here while this leaf stays attached (0: not attached). */
  quietUntil(): number {
    return this.attached === undefined ? 0 : this.lastRefresh + this.ctx.options.refreshInterval
  }

  /** One maintenance round: attach when not attached, refresh the lists now and then. */
  async tick(): Promise<void> {
    const sn = this.attached
    if (!sn) {
      void this.ensure()
      return
    }
    if (this.ctx.clock.now() - this.lastRefresh < this.ctx.options.refreshInterval) return
    const now = this.ctx.clock.now()
    this.lastRefresh = now
    // Only now and then with the supernodes both know: the other refreshes keep the capacity and the co-leaves current.
    const gossip = ++this.sinceGossip >= this.ctx.options.gossipEvery
    if (gossip) this.sinceGossip = 0
    try {
      const have = this.listed?.from === sn.id ? this.listed.version : undefined
      const hello: HelloMessage = gossip
        ? { kind: 'hello', ...this.about(GOSSIP_LIST), want: GOSSIP_LIST }
        : { kind: 'hello', ...this.about(0), want: 0 }
      if (have !== undefined) hello.listed = have
      // The refresh is this leaf's heartbeat when its supernode counts it (SupernodeHub.reported): the
      // next heartbeat is due a whole interval after it is sent, and again after its answer. A
      // heartbeat while it is under way would tell nothing its answer (or its timeout) will not.
      // Told by the supernode instead (`alive`), the client waits for what it hears: a refresh sent tells it nothing.
      if (this.refreshBeats && !this.told) this.client?.heard()
      this.refreshBeats = false
      const info = await this.ctx.request(sn, hello)
      this.ctx.learn(info, sn)
      if (info.role === 'supernode' && this.attached?.id === sn.id) {
        this.refreshBeats = info.accepted
        if (info.accepted) this.client?.heard()
        // The same version: the list this leaf holds (the answer left it out).
        if (info.listed === undefined || info.listed !== have) this.coLeaves = info.candidates
        this.listed = info.listed === undefined ? undefined : { from: sn.id, version: info.listed }
        this.trust(info.supernodes)
      }
    } catch (err) {
      this.log.debug('refresh unanswered (a dead supernode is noticed by the heartbeat)', {
        supernode: sn.id,
        err,
      })
    }
  }

  // ---- messages from the supernode ------------------------------------------

  /** The supernode asks this leaf to become a supernode. */
  async onPromote(from: PeerId): Promise<boolean> {
    if (!this.ctx.capable() || this.attached?.id !== from) return false
    await this.promoteSelf('promoted')
    return true
  }

  /**
   * Attach elsewhere: from this leaf's supernode (it split, steps down or
   * leaves; also just after its connection closed), or, while this leaf has
   * no supernode, from a co-leaf announcing itself elected that this leaf's
   * credited list ranks above itself. A move from anyone else is ignored.
   */
  onMove(from: PeerId, to: PeerRef[]): void {
    const targets = to.filter((r) => r.id !== this.ctx.network.peerId)
    if (this.attached === undefined && this.attaching?.id === from) {
      this.attaching.moved = true
      this.trust(targets)
      for (const r of targets) this.ctx.supernodes.learn(r)
      this.prefer(targets)
      return
    }
    if (this.attached === undefined) {
      if (!this.mayMoveOrphan(from, targets)) {
        this.figures.refusedMoves++
        this.log.debug('ignored a move from a peer that is not our supernode', { from })
        return
      }
      this.trust(targets)
      for (const r of targets) this.ctx.supernodes.learn(r)
      this.prefer(targets)
      void this.ensure()
      return
    }
    if (this.attached.id !== from) {
      this.figures.refusedMoves++
      this.log.debug('ignored a move from a peer that is not our supernode', { from })
      return
    }
    this.trust(targets)
    this.prefer(targets)
    void this.detach().then(() => this.ensure())
  }

  /** An orphan follows its former supernode, or a co-leaf that names itself and outranks this leaf in the credited list. */
  private mayMoveOrphan(from: PeerId, targets: PeerRef[]): boolean {
    if (from === this.former) return true
    if (targets.length !== 1 || targets[0]?.id !== from) return false
    const rank = (id: PeerId) => this.coLeaves.findIndex((c) => c.peer.id === id)
    const theirs = rank(from)
    if (theirs < 0) return false
    const mine = rank(this.ctx.network.peerId)
    return mine < 0 || theirs < mine
  }

  /** Remembers supernodes named by a source this leaf trusts (bounded: the oldest go first). */
  private trust(refs: readonly PeerRef[]): void {
    for (const r of refs) {
      if (r.id === this.ctx.network.peerId || r.addresses.length === 0) continue
      const known = this.trusted.get(r.id)
      this.trusted.delete(r.id)
      // The ref held stays when the addresses are the same: the one just decoded dies young.
      this.trusted.set(r.id, known !== undefined && sameAddresses(known.addresses, r.addresses) ? known : r)
      if (this.trusted.size > MAX_TRUSTED) this.trusted.delete(this.trusted.keys().next().value as PeerId)
    }
  }

  /** The supernode says it is alive and holds `known` of this leaf's records (as a heartbeat's answer would). */
  onAlive(known: number, from: PeerId): void {
    if (this.attached?.id === from) this.client?.alive(known)
  }

  onBye(from: PeerId): void {
    if (this.attached?.id === from) this.onMove(from, [])
  }

  onHit(msg: HitMessage, from: PeerId): void {
    if (this.attached?.id !== from) return
    const p = this.pending.get(msg.id)
    if (!p) return
    p.session.add(msg.hits, msg.hops)
    if (p.session.atLimit) p.finish()
  }

  onDone(msg: DoneMessage, from: PeerId): void {
    if (this.attached?.id === from) this.pending.get(msg.id)?.finish()
  }

  // ---- search -------------------------------------------------------------

  /** The supernode once attached; undefined when woken otherwise (role change, stop, abort). */
  whenAttached(signal: AbortSignal): Promise<PeerRef | undefined> {
    if (this.attached || signal.aborted) return Promise.resolve(this.attached)
    void this.ensure()
    return new Promise((resolve) => {
      const wake = () => {
        this.waiters.delete(wake)
        signal.removeEventListener('abort', wake)
        resolve(this.attached)
      }
      this.waiters.add(wake)
      signal.addEventListener('abort', wake, { once: true })
    })
  }

  /** Sends the search to the supernode and collects its hits until it says `done` (or a bounded wait ends). */
  async search(sn: PeerRef, query: Query, session: SearchSession, signal: AbortSignal): Promise<void> {
    const o = this.ctx.options
    const id = newQueryId(this.ctx.random)
    const wire: Query = query.hash !== undefined ? { hash: query.hash } : { keywords: query.keywords ?? [] }
    if (query.limit !== undefined) wire.limit = Math.min(query.limit, MAX_HITS_PER_MESSAGE)
    const steps = o.expandingRing && query.limit !== undefined ? (o.ttl * (o.ttl + 1)) / 2 : o.ttl
    let timer: TimerHandle | undefined
    let onAbort: (() => void) | undefined
    await new Promise<void>((resolve) => {
      const finish = () => {
        if (!this.pending.delete(id)) return
        if (timer !== undefined) this.ctx.clock.clearTimeout(timer)
        if (onAbort) signal.removeEventListener('abort', onAbort)
        resolve()
      }
      this.pending.set(id, { session, finish })
      onAbort = finish
      signal.addEventListener('abort', finish, { once: true })
      timer = this.ctx.clock.setTimeout(finish, (steps + 2) * o.hopTimeout)
      void this.ctx.send(sn.id, { kind: 'query', id, ttl: o.ttl, hops: 0, query: wire })
    })
  }

  // ---- attaching ----------------------------------------------------------

  /** Who this leaf is, and up to `named` supernodes it knows. */
  private about(named = MAX_LIST) {
    const self = this.ctx.self()
    return {
      addresses: this.ctx.network.addresses(),
      capacity: self.capacity,
      capable: this.ctx.capable(),
      supernodes: named > 0 ? this.ctx.supernodes.sample(this.ctx.random, named) : [],
    }
  }

  private async attachLoop(): Promise<void> {
    const failed = new Set<PeerId>()
    while (this.ctx.running && !this.attached && !this.abort.signal.aborted) {
      const tried = new Set<PeerId>([this.ctx.network.peerId])
      // What other peers advertise only when there is no election to hold instead.
      const anyone = this.coLeaves.length === 0 || !this.ctx.capable()
      const order = [
        ...this.preferred,
        ...shuffle(this.ctx.random, [...this.trusted.values()]),
        ...(anyone ? this.ctx.supernodes.shuffledCandidates(this.ctx.random) : []),
      ]
      let moved = false
      for (const ref of order) {
        if (tried.has(ref.id)) continue
        tried.add(ref.id)
        if ((await this.attachTo(ref, failed)) || !this.ctx.running || this.abort.signal.aborted) return
        moved = this.movedAway
        if (moved) break // the supernode moved this leaf on while it logged in: the next round starts with where to
      }
      if (moved) continue
      this.preferred = []
      if (await this.bootstrap(tried)) continue
      if (this.ctx.capable()) {
        const elected = elect([this.asListed(), ...this.coLeaves], failed)
        if (!elected || elected.peer.id === this.ctx.network.peerId) {
          this.figures.elections++
          await this.promoteSelf('elected')
          this.recovered()
          // Tell the co-leaves (and any of them elected on an older list, so the supernodes meet).
          const self = [this.ctx.network.self()]
          for (const c of this.coLeaves) {
            if (c.peer.id !== self[0]?.id) void this.ctx.notify(c.peer, { kind: 'move', to: self })
          }
          return
        }
        // Someone else is elected: give it a moment to become a supernode, then attach to it.
        if (!(await this.pause(this.ctx.options.electionDelay))) return
        if (await this.attachTo(elected.peer, failed)) return
      } else if (!(await this.pause(this.ctx.options.failoverTimeout))) return
    }
  }

  /**
   * This leaf in an election, as its co-leaves see it: with the capacity its
   * supernode credited it (not the one it reports), or, when the list does not
   * name it, below everyone listed, so it elects itself only when they failed.
   */
  private asListed(): Candidate {
    const self = this.ctx.self()
    const listed = this.coLeaves.find((c) => c.peer.id === self.peer.id)
    if (listed) return { peer: self.peer, capacity: listed.capacity }
    return this.coLeaves.length > 0 ? { peer: self.peer, capacity: 0 } : self
  }

  /** Sleeps a random time in [ms/2, ms] on the clock; false when stopped meanwhile. */
  private async pause(ms: number): Promise<boolean> {
    const d = Math.round(ms / 2 + this.ctx.random.next() * (ms / 2))
    try {
      await sleep(this.ctx.clock, d, this.abort.signal)
      return this.ctx.running
    } catch {
      return false // aborted by stop(): nothing to report
    }
  }

  /** Asks the bootstrap peers which supernodes they know; true when that named one not tried yet. */
  private async bootstrap(tried: ReadonlySet<PeerId>): Promise<boolean> {
    let fresh = false
    await Promise.all(
      this.ctx.config.bootstrap.map(async (address) => {
        try {
          const giveUp = new AbortController()
          const signal = AbortSignal.any([this.abort.signal, giveUp.signal])
          const ref = await withTimeout(
            this.ctx.clock,
            this.ctx.network.dialAddress(address, { signal }),
            this.ctx.options.failoverTimeout,
            { onCancel: (err) => giveUp.abort(err) },
          )
          const id = ref.id
          const info = await this.ctx.request(
            ref,
            { kind: 'hello', ...this.about() },
            this.ctx.options.failoverTimeout,
          )
          this.ctx.learn(info, ref)
          this.trust(info.role === 'supernode' ? [ref, ...info.supernodes] : info.supernodes)
          for (const s of info.supernodes) if (!tried.has(s.id)) fresh = true
          if (info.role === 'supernode' && !tried.has(id)) fresh = true
        } catch (err) {
          // Unreachable now: the next round tries again.
          this.log.debug('bootstrap peer unreachable', { address, err })
        }
      }),
    )
    return fresh
  }

  /** Asks `ref` to take this leaf on, then logs in and registers there; false when it did not work. */
  private async attachTo(ref: PeerRef, failed: Set<PeerId>): Promise<boolean> {
    const attaching = { id: ref.id, moved: false }
    this.attaching = attaching
    try {
      return await this.attachOnce(ref, failed, attaching)
    } finally {
      if (this.attaching === attaching) this.attaching = undefined
      this.movedAway = attaching.moved
    }
  }

  private async attachOnce(
    ref: PeerRef,
    failed: Set<PeerId>,
    attaching: { readonly moved: boolean },
  ): Promise<boolean> {
    const ctx = this.ctx
    let info: Awaited<ReturnType<NodeContext['request']>>
    try {
      const attach: AttachMessage = { kind: 'attach', ...this.about() }
      // Told it is alive, a leaf sends no heartbeats: its refreshes alone must then reach the directory
      // before it drops the leaf (3 × heartbeatInterval), with a refresh's round and latency to spare.
      if (ctx.options.refreshInterval <= 2 * ctx.options.heartbeatInterval) attach.alive = true
      info = await ctx.request(ref, attach, ctx.options.failoverTimeout)
    } catch (err) {
      this.log.debug('supernode did not answer; trying the next', { supernode: ref.id, err })
      failed.add(ref.id)
      ctx.supernodes.forget(ref.id)
      this.trusted.delete(ref.id)
      return false
    }
    ctx.learn(info, ref)
    if (info.role !== 'supernode') {
      ctx.supernodes.forget(ref.id)
      this.trusted.delete(ref.id)
    }
    if (!info.accepted || info.role !== 'supernode' || !ctx.running || this.attached || attaching.moved) {
      return false
    }
    const addresses = ref.addresses.length > 0 ? ref.addresses : ctx.network.addressesOf(ref.id)
    if (addresses.length === 0) return false
    const client = new CentralOverlay(
      ctx.network,
      ctx.identity,
      ctx.clock,
      ctx.random,
      ctx.config,
      parseCentralOptions({
        directories: addresses,
        heartbeatInterval: ctx.options.heartbeatInterval,
        reconnectMin: RECONNECT_MIN,
        reconnectMax: Math.max(RECONNECT_MIN, ctx.options.failoverTimeout),
      }),
      quieter(this.log.forComponent('central')),
    )
    this.client = client
    // The supernode tells this leaf it is alive: no heartbeats (SupernodeHub.beat).
    if (info.alive === true) client.expectAlive()
    client.on('neighbor:remove', () => this.lost(client))
    await client.publish(this.published()) // not started: it only keeps them, to register at login
    await client.start()
    if (this.client !== client || !client.connected || !ctx.running || attaching.moved) {
      // Moved away while logging in: log out again and try the supernodes the move named.
      if (attaching.moved) this.figures.movedWhileAttaching++
      if (this.client === client) this.client = undefined
      await this.stopClient(client)
      return false
    }
    const sn = { id: ref.id, addresses }
    this.attached = sn
    this.former = sn.id
    this.coLeaves = info.candidates
    this.listed = info.listed === undefined ? undefined : { from: ref.id, version: info.listed }
    this.trust(info.supernodes)
    this.lastRefresh = ctx.clock.now()
    this.sinceGossip = 0
    this.refreshBeats = false // until this supernode's first answer says it counts refreshes
    this.told = info.alive === true
    ctx.emitNeighbor('neighbor:add', sn)
    const after = this.recovered()
    this.log.info(after === undefined ? 'attached to a supernode' : 're-attached to a supernode', {
      supernode: sn.id,
      ...(after === undefined ? {} : { afterMs: after }),
    })
    this.wakeAll()
    return true
  }

  /** The supernode went away (connection closed or heartbeat unanswered): find another. */
  private lost(client: CentralOverlay): void {
    if (this.client !== client) return
    const old = this.attached
    this.client = undefined
    this.attached = undefined
    if (old) this.unattached()
    this.finishAll()
    void this.stopClient(client)
    if (!old || !this.ctx.running) return
    this.former = old.id
    this.figures.failovers++
    this.lostAt = this.ctx.clock.now()
    this.ctx.supernodes.forget(old.id)
    this.trusted.delete(old.id)
    this.log.info('lost our supernode; failing over', { supernode: old.id })
    this.ctx.emitNeighbor('neighbor:remove', old)
    void this.ensure()
  }

  /** Milliseconds since the supernode was lost, when it was (and records them). */
  private recovered(): number | undefined {
    if (this.lostAt === undefined) return undefined
    this.figures.lastRecoveryMs = this.ctx.clock.now() - this.lostAt
    this.lostAt = undefined
    return this.figures.lastRecoveryMs
  }

  private async stopClient(client: CentralOverlay): Promise<void> {
    await client.stop().catch((err) => this.log.warn('the central client did not stop cleanly', { err }))
    this.collect(client)
  }

  private finishAll(): void {
    for (const p of [...this.pending.values()]) p.finish()
  }

  private collect(client: CentralOverlay): void {
    const s = client.stats()
    add(this.clientCounts.sent, s.sent)
    add(this.clientCounts.received, s.received)
  }
}
