import {
  every,
  type Hit,
  type Logger,
  type OverlayStats,
  type PeerId,
  type PeerRef,
  type Query,
  shuffle,
  TokenBucket,
} from '@peerkit/core'
import { DirectoryServer, parseDirectoryServerOptions, sourceOf } from '@peerkit/overlay-central'
import { newQueryId, QueryIdCache, SearchSession, sameAddresses } from '@peerkit/overlay-flooding'
import type { NodeContext } from './context.js'
import { creditSettled, electionOrder, type LeafCandidate } from './election.js'
import {
  type AttachMessage,
  type Candidate,
  type HitMessage,
  MAX_HITS_PER_MESSAGE,
  MAX_LIST,
  type PingMessage,
  type QueryMessage,
} from './messages.js'

/** Candidates a supernode names to its leaves for elections. */
const ELECTION_LIST = 8
/**
 * A supernode promotes a leaf beyond this many times `leavesPerSupernode` leaves
 * and hands it half: supernodes then hold 0.75–1.5 × as many, about one per
 * `leavesPerSupernode` leaves on average.
 */
const PROMOTE_AT = 1.5
/** A leaf is dropped by the directory after this many heartbeat intervals of silence. */
const DROP_AFTER_BEATS = 3

interface Leaf {
  ref: PeerRef
  /** As the leaf reports it; credited in elections only as far as `maxCapacity` and its time attached allow. */
  capacity: number
  capable: boolean
  bucket: TokenBucket
  /** When it attached here (kept while it stays attached). */
  since: number
  /** Its address range, from the connection it attached on. */
  prefix: string
  /**
   * The last list of supernodes it got here named no other supernode (this one knew none then):
   * its next refresh gets the list as soon as this one knows another (see `wanted`).
   */
  lonely: boolean
  /** It asked to be sent `alive` (and sends no heartbeats): see `beat`. */
  alive: boolean
  /** When this supernode last said something the leaf counts as a sign of life (an answer to its attach or refresh, an `alive`). */
  said: number
}

/** An election list as computed, for this supernode's own address `own`. */
interface Ranked {
  list: Candidate[]
  own: string | undefined
}

/** Where a query id's hits go: `null` for a search this supernode runs, else the peer it came from. */
type Route = PeerId | null

/**
 * The supernode side of a node: a mini directory server (overlay-central's
 * `DirectoryServer`) for its leaves, links to other supernodes, and the
 * search among supernodes (flooded with a TTL, duplicates suppressed, hits
 * routed back along the reverse path). It also decides when to promote a
 * leaf (too many leaves) and when to step down (too few).
 */
export class SupernodeHub {
  readonly directory: DirectoryServer
  readonly since: number
  private readonly leaves = new Map<PeerId, Leaf>()
  /** Each link's leaf count, as it last said (its link request or answer, or a ping either way). */
  private readonly linkLeaves = new Map<PeerId, number>()
  /** When each link last said its leaf count (see `stalest`), links only, in the order they said it (oldest first). */
  private readonly linkHeard = new Map<PeerId, number>()
  /**
   * No link is due a ping before this time (`stalest` found none due, and the links are the same since):
   * a link's time only moves forward, so the links need not be walked again before it. Cleared
   * (−∞) when a link comes or goes, which changes how many rounds a link may wait.
   */
  private pingDueAt = Number.NEGATIVE_INFINITY
  /** The address range of each linked supernode, from the connection (not from what it announces). */
  private readonly linkPrefixes = new Map<PeerId, string>()
  /** How many linked supernodes each address range holds (`linkPrefixes` counted, kept as it changes). */
  private readonly linkRanges = new Map<string, number>()
  /** This supernode's own address range, for the address it was computed from. */
  private ownRange: { address: string; prefix: string } | undefined
  /**
   * The election list as last computed, while nothing it depends on changed
   * (the leaves, their reports, the links' ranges, the own address) and every
   * listed leaf's credit had settled (so time alone cannot change it either).
   * Cleared by `changed()`.
   */
  private ranked: Ranked | undefined
  /**
   * The election list as last given out in an answer, and its version (see `electionList`); `from`
   * is the `ranked` it was last found equal to (undefined: none, or `ranked` was cleared since).
   */
  private listed: { list: Candidate[]; version: number; from?: Ranked | undefined } | undefined
  private readonly seen: QueryIdCache<Route>
  private readonly sessions = new Map<string, SearchSession>()
  private filling: Promise<void> | undefined
  private promoting = false
  /** Pings sent so far: one in `gossipEvery` (the first among them) asks for the linked supernode's list. */
  private pings = 0
  /** When this supernode last dropped a link to make room for a newcomer (at most one per `maintenanceInterval`). */
  private lastRewire = Number.NEGATIVE_INFINITY
  /** Bounds the `done` + `move` answers to queries from peers that are neither leaves nor links (`queryRate`). */
  private readonly strangers: TokenBucket
  /** Sends `alive` to the leaves that asked for it (see `beat`). */
  private beats: { stop(): void } | undefined
  readonly figures = {
    duplicates: 0,
    throttled: 0,
    forwarded: 0,
    promoted: 0,
    moved: 0,
    rewired: 0,
    strangers: 0,
  }
  private readonly log: Logger

  constructor(private readonly ctx: NodeContext) {
    this.log = ctx.log.forComponent('hub')
    const beat = ctx.options.heartbeatInterval
    this.directory = new DirectoryServer(
      ctx.network,
      ctx.makeIndex,
      ctx.identity,
      ctx.clock,
      ctx.random,
      parseDirectoryServerOptions({
        heartbeatInterval: beat,
        dropAfter: beat * DROP_AFTER_BEATS,
        searchRate: ctx.options.queryRate,
        searchBurst: ctx.options.queryBurst,
        maxRecords: ctx.options.maxRecords,
        maxBytes: ctx.options.maxBytes,
      }),
      ctx.logger,
    )
    this.seen = new QueryIdCache(ctx.clock, ctx.options.seenCacheSize, ctx.options.seenTtl)
    this.since = ctx.clock.now()
    this.strangers = new TokenBucket(ctx.options.queryRate, ctx.options.queryBurst, this.since)
  }

  get leafCount(): number {
    return this.leaves.size
  }

  async start(): Promise<void> {
    await this.directory.start()
    const o = this.ctx.options
    this.beats = every(this.ctx.clock, aliveEvery(o), () => this.beat())
  }

  /**
   * Sends `alive` to each leaf that asked for it (`AttachMessage.alive`) and was told nothing for
   * `heartbeatInterval` + half this timer's period (see `aliveEvery`). A leaf refreshes every
   * `refreshInterval` (10 s), and the answer tells it this supernode is alive as a heartbeat's
   * would: at the defaults one `alive` between two refreshes (5.5–6.5 s after the answer) takes the
   * place of the leaf's heartbeat and its answer, and the leaf hears from its supernode at least every
   * 6.5 s and a little, within the `heartbeatInterval + max(heartbeatInterval, 1000)` (10 s) after
   * which it counts its supernode lost. A leaf without a session in the directory (dropped, or not
   * logged in yet) is sent nothing: it notices, and attaches again.
   */
  private beat(): void {
    const now = this.ctx.clock.now()
    const o = this.ctx.options
    const quiet = now - o.heartbeatInterval - Math.floor(aliveEvery(o) / 2)
    for (const [id, leaf] of this.leaves) {
      if (!leaf.alive || leaf.said > quiet) continue
      const known = this.directory.sessionRecords(id)
      if (known === undefined) continue
      leaf.said = now
      this.ctx.sendAll([id], { kind: 'alive', known })
    }
  }

  /** Tells the leaves where to go (`moveTo`, or the linked supernodes) and the links goodbye; stops the directory. */
  async stop(reason: string, moveTo?: PeerRef[]): Promise<void> {
    const table = this.ctx.supernodes
    const to = (moveTo ?? table.refs()).slice(0, MAX_LIST)
    this.beats?.stop()
    this.beats = undefined
    await Promise.all([
      ...[...this.leaves.keys()].map((id) => this.ctx.send(id, { kind: 'move', to })),
      ...table.ids().map((id) => this.ctx.send(id, { kind: 'bye', reason })),
    ])
    for (const id of table.ids()) this.unlink(id)
    for (const [id, leaf] of this.leaves) {
      this.ctx.network.protect(id, false)
      this.ctx.emitNeighbor('neighbor:remove', leaf.ref)
    }
    this.leaves.clear()
    this.changed()
    this.sessions.clear()
    await this.directory.stop()
  }

  /** No link and no leaf. */
  get alone(): boolean {
    return this.ctx.supernodes.size === 0 && this.leaves.size === 0
  }

  neighbors(): PeerRef[] {
    return [...this.ctx.supernodes.refs(), ...[...this.leaves.values()].map((l) => l.ref)]
  }

  /**
   * The leaves that may become supernodes, best first, with the capacity this
   * supernode credits them (see `electionOrder`): a reported capacity counts
   * only up to `maxCapacity` and 1 + one per `capacityRamp` ms attached here,
   * and ranges that host fewer supernodes (this one and its links) come first.
   */
  candidates(): Candidate[] {
    const own = this.ctx.network.addresses()[0]
    const cached = this.ranked
    if (cached !== undefined && cached.own === own) return cached.list.slice()
    const o = this.ctx.options
    const now = this.ctx.clock.now()
    const capable: LeafCandidate[] = []
    let settled = true
    for (const l of this.leaves.values()) {
      if (!l.capable) continue
      capable.push({ peer: l.ref, reported: l.capacity, since: l.since, prefix: l.prefix })
      if (!creditSettled(l.capacity, now - l.since, o)) settled = false
    }
    const list = electionOrder(capable, now, this.supernodePrefixes(own), o).slice(0, ELECTION_LIST)
    this.ranked = settled ? { list, own } : undefined
    return list.slice()
  }

  /**
   * The election list (`candidates()`) with its version: the same version as long as the list is
   * the same (the same leaves, addresses and credited capacities, in the same order), a new one
   * when it changes. A leaf's refresh names the version it holds and gets the list again only
   * when that is no longer it (the list was 8 peer refs in every refresh answer). The list
   * returned is this hub's: encode it, do not change it.
   */
  electionList(): { list: Candidate[]; version: number } {
    const last = this.listed
    // Nothing changed since the list given out last was found equal to the one computed: it still is
    // (no copy of the list made and compared at every leaf's refresh).
    const ranked = this.ranked
    if (last !== undefined && ranked !== undefined && last.from === ranked) {
      if (ranked.own === this.ctx.network.addresses()[0]) return last
    }
    const list = this.candidates()
    if (last !== undefined && sameCandidates(last.list, list)) {
      last.from = this.ranked
      return last
    }
    this.listed = { list, version: this.ctx.nextListVersion(), from: this.ranked }
    return this.listed
  }

  /** Supernodes per address range: this one (listening on `own`) and its links. */
  private supernodePrefixes(own: string | undefined): Map<string, number> {
    const out = new Map(this.linkRanges)
    if (own === undefined) return out
    if (this.ownRange?.address !== own) this.ownRange = { address: own, prefix: sourceOf(own).prefix }
    const prefix = this.ownRange.prefix
    out.set(prefix, (out.get(prefix) ?? 0) + 1)
    return out
  }

  /** Something the election list depends on changed: it is computed again at the next `candidates()`. */
  private changed(): void {
    this.ranked = undefined
  }

  /** Notes the address range of linked supernode `id` (from its connection or where it was dialed). */
  private setLinkRange(id: PeerId, prefix: string): void {
    const old = this.linkPrefixes.get(id)
    if (old === prefix) return
    if (old !== undefined) this.uncount(old)
    this.linkPrefixes.set(id, prefix)
    this.linkRanges.set(prefix, (this.linkRanges.get(prefix) ?? 0) + 1)
    this.changed()
  }

  private dropLinkRange(id: PeerId): void {
    const old = this.linkPrefixes.get(id)
    if (old === undefined) return
    this.linkPrefixes.delete(id)
    this.uncount(old)
    this.changed()
  }

  private uncount(prefix: string): void {
    const n = (this.linkRanges.get(prefix) ?? 0) - 1
    if (n > 0) this.linkRanges.set(prefix, n)
    else this.linkRanges.delete(prefix)
  }

  stats(): OverlayStats {
    const d = this.directory.stats()
    return {
      sent: d.sent,
      received: d.received,
      leaves: this.leaves.size,
      links: this.ctx.supernodes.size,
      records: this.directory.size,
      ...this.figures,
    }
  }

  // ---- leaves and links ---------------------------------------------------

  /** A leaf asks to attach (over a connection from `remoteAddress`): accepted below twice `leavesPerSupernode`. */
  attach(from: PeerRef, msg: AttachMessage, remoteAddress: string): boolean {
    const known = this.leaves.get(from.id)
    if (!known && this.leaves.size >= 2 * this.ctx.options.leavesPerSupernode) return false
    const ref = { id: from.id, addresses: msg.addresses.length > 0 ? msg.addresses : from.addresses }
    const o = this.ctx.options
    const now = this.ctx.clock.now()
    this.leaves.set(from.id, {
      ref,
      capacity: msg.capacity,
      capable: msg.capable,
      bucket: known?.bucket ?? new TokenBucket(o.queryRate, o.queryBurst, now),
      since: known?.since ?? now,
      prefix: sourceOf(remoteAddress).prefix,
      lonely: known?.lonely ?? false,
      alive: msg.alive === true,
      said: now,
    })
    this.changed()
    this.unlink(from.id) // a supernode that stepped down may come back as a leaf
    this.ctx.supernodes.forget(from.id)
    // A leaf's connection is its only way in: never closed to make room (network.maxConnections).
    this.ctx.network.protect(from.id)
    if (!known) this.ctx.emitNeighbor('neighbor:add', ref)
    return true
  }

  /**
   * A leaf's refresh: what it reports now (credited in elections as `candidates` says). It counts as
   * the leaf's heartbeat in the directory too, and the answer says so (`accepted`): the leaf's next
   * heartbeat is then due a whole interval after it (`CentralOverlay.heard`). False: not a leaf here.
   */
  reported(id: PeerId, capacity: number, capable: boolean): boolean {
    const leaf = this.leaves.get(id)
    if (!leaf) return false
    const counted = this.directory.heardFrom(id)
    if (counted) leaf.said = this.ctx.clock.now() // the answer says so: a sign of life for the leaf
    if (leaf.capacity !== capacity || leaf.capable !== capable) {
      leaf.capacity = capacity
      leaf.capable = capable
      this.changed()
    }
    return counted
  }

  /**
   * The supernodes a leaf's refresh gets (`want`, as `hello.want`): what it asks for, or MAX_LIST
   * when the last list it got here named no other supernode and this one knows another now. A leaf
   * that attached while its supernode knew no other (the first in a network, or one whose links had
   * not formed yet) swaps lists only at one refresh in `gossipEvery`; were its supernode to die
   * before, it and its co-leaves would know no other supernode and elect an island that no other
   * supernode knows of (the hosts test's kill, CI35).
   */
  wanted(id: PeerId, want: number | undefined): number | undefined {
    if (want !== 0 || this.leaves.get(id)?.lonely !== true) return want
    return this.knowsOthers() ? MAX_LIST : want
  }

  /** Notes that leaf `id` was just given this supernode's list of supernodes (answering its attach or refresh). */
  listedTo(id: PeerId): void {
    const leaf = this.leaves.get(id)
    if (leaf !== undefined) leaf.lonely = !this.knowsOthers()
  }

  /** Whether this supernode knows another one (a link or a candidate). */
  private knowsOthers(): boolean {
    const table = this.ctx.supernodes
    return table.size > 0 || table.candidateCount() > 0
  }

  isLeaf(id: PeerId): boolean {
    return this.leaves.has(id)
  }

  /**
   * Another supernode asks to link (over a connection from `remoteAddress`).
   * A full link table (`maxSupernodeLinks`) makes room by dropping one link at
   * random, at most once per `maintenanceInterval`: the dropped one keeps this
   * supernode as a candidate and refills below `supernodeLinks`. Without it the
   * oldest supernodes fill up and refuse newcomers, the link graph orders itself
   * by age, and a search's TTL covers a shrinking share of it as the network grows.
   */
  link(from: PeerRef, leaves: number, remoteAddress: string): boolean {
    const table = this.ctx.supernodes
    if (this.leaves.has(from.id)) return false
    if (!table.has(from.id) && table.full) this.rewire()
    if (!table.has(from.id) && !this.addLink(from)) return false
    this.counted(from.id, leaves)
    this.setLinkRange(from.id, sourceOf(remoteAddress).prefix)
    return true
  }

  /** A linked supernode's ping: remember its leaf count. */
  pinged(from: PeerId, leaves: number): boolean {
    if (!this.ctx.supernodes.has(from)) return false
    this.counted(from, leaves)
    return true
  }

  /** Link `id` said its leaf count just now (and is alive). */
  private counted(id: PeerId, leaves: number): void {
    this.linkLeaves.set(id, leaves)
    // A ping answered after its link went keeps no time: `linkHeard` holds links only (see `stalest`).
    if (!this.ctx.supernodes.has(id)) return
    // Deleted first, so that the map's order is the order the links were last heard in, oldest first.
    this.linkHeard.delete(id)
    this.linkHeard.set(id, this.ctx.clock.now())
  }

  /** A peer went away (disconnected, or said bye). */
  gone(id: PeerId): void {
    const leaf = this.leaves.get(id)
    if (leaf) {
      this.leaves.delete(id)
      this.changed()
      this.ctx.network.protect(id, false)
      this.ctx.emitNeighbor('neighbor:remove', leaf.ref)
    }
    this.unlink(id)
  }

  /** Drops one link at random to make room for a new one (bounded to one per `maintenanceInterval`). */
  private rewire(): void {
    const now = this.ctx.clock.now()
    if (now - this.lastRewire < this.ctx.options.maintenanceInterval) return
    const ids = this.ctx.supernodes.ids()
    const victim = ids[this.ctx.random.int(ids.length)]
    if (victim === undefined) return
    this.lastRewire = now
    this.figures.rewired++
    void this.ctx.send(victim, { kind: 'bye', reason: 'rewired' })
    this.unlink(victim)
  }

  /**
   * `ref` with its id as its open connection holds it: the string every message's context from that
   * peer carries and core's connections are keyed by. A candidate's id was decoded from a list, a
   * string of its own: as a link's key, every query from the link (`onQuery`) and to it (`sendAll`)
   * compared two strings of 43 characters apart in memory where one pointer compares (as
   * overlay-flooding's neighbors since 24b780e). Links are few; this walks the connected peers once.
   */
  private asConnected(ref: PeerRef): PeerRef {
    for (const p of this.ctx.network.peers())
      if (p.id === ref.id) return { id: p.id, addresses: ref.addresses }
    return ref
  }

  private addLink(ref: PeerRef): boolean {
    if (!this.ctx.supernodes.add(ref, this.ctx.clock.now())) return false
    this.pingDueAt = Number.NEGATIVE_INFINITY
    this.ctx.network.protect(ref.id)
    if (ref.addresses.length > 0) this.ctx.network.learn(ref)
    this.ctx.emitNeighbor('neighbor:add', ref)
    return true
  }

  private unlink(id: PeerId): void {
    const n = this.ctx.supernodes.remove(id)
    this.linkLeaves.delete(id)
    this.linkHeard.delete(id)
    if (n) this.pingDueAt = Number.NEGATIVE_INFINITY
    this.dropLinkRange(id)
    if (!n) return
    this.ctx.network.protect(id, false)
    this.ctx.emitNeighbor('neighbor:remove', n.ref)
  }

  // ---- maintenance --------------------------------------------------------

  /** One round: fill the links, ping the stalest link when one is due, then promote a leaf or step down when the balance asks for it. */
  async tick(): Promise<'demote' | undefined> {
    await this.fillLinks()
    const one = this.stalest()
    if (one !== undefined) await this.ping(one)
    if (this.leaves.size > PROMOTE_AT * this.ctx.options.leavesPerSupernode) await this.promote()
    return this.shouldDemote() ? 'demote' : undefined
  }

  /** Links to known supernodes until `supernodeLinks`. */
  fillLinks(): Promise<void> {
    this.filling ??= this.fill().finally(() => {
      this.filling = undefined
    })
    return this.filling
  }

  private async fill(): Promise<void> {
    const table = this.ctx.supernodes
    // Every round of a supernode with its links (nearly all of them) asks, and returns here: no shuffle
    // of the candidates (up to 256), not even its draws (kept until c4f601b moved the figures anyway).
    if (!this.ctx.running || !table.wantsMore) return
    for (const c of table.shuffledCandidates(this.ctx.random)) {
      if (!this.ctx.running || !table.wantsMore) return
      if (table.has(c.id) || this.leaves.has(c.id)) continue
      try {
        // Bounded by failoverTimeout, not the network's requestTimeout (10 s): the candidates are tried
        // one after another, and a silent one held up every link after it, and the rounds meanwhile.
        const info = await this.ctx.request(
          c,
          { kind: 'link', addresses: this.ctx.network.addresses(), leaves: this.leaves.size },
          this.ctx.options.failoverTimeout,
        )
        this.ctx.learn(info, c)
        if (info.role !== 'supernode') table.forget(c.id)
        else if (info.accepted && this.ctx.running && this.addLink(this.asConnected(c))) {
          this.counted(c.id, info.leaves)
          // Where it was dialed and answered: its range, as far as this node can tell.
          const dialed = c.addresses[0]
          if (dialed !== undefined) this.setLinkRange(c.id, sourceOf(dialed).prefix)
        }
      } catch (err) {
        this.log.debug('a known supernode did not answer a link; forgotten', { peer: c.id, err })
        table.forget(c.id)
      }
    }
  }

  /**
   * The link that said its leaf count longest ago, once that is as many maintenance rounds ago as
   * there are links (or more); undefined while every link said it since. A ping either way is an
   * exchange (the pinged one answers with its count), so the two ends of a link share its pings:
   * a supernode pings at about one round in two, and each link is asked within about `links`
   * rounds (plus `failoverTimeout` for a silent one to be dropped). Before, a supernode pinged a
   * link at random every round: each link twice as often on average, with no bound on the wait.
   */
  private stalest(): PeerId | undefined {
    const now = this.ctx.clock.now()
    // Nearly every round finds no link due: it ends here instead of looking up every link's time.
    if (now < this.pingDueAt) return undefined
    const ids = this.ctx.supernodes.idList()
    const wait = ids.length * this.ctx.options.maintenanceInterval
    const due = now - wait
    let oldest = Number.POSITIVE_INFINITY
    let stalest: PeerId | undefined
    if (this.linkHeard.size === ids.length) {
      // Every link has its time (`counted` follows `addLink` at once, and keeps links only), and the map
      // holds them oldest first: the first is the stalest, without a look-up per link (at every round
      // that finds a link due, about one in two). A tie goes to the first in the links' order, as the
      // walk below finds it.
      for (const [id, at] of this.linkHeard) {
        if (stalest === undefined) {
          oldest = at
          stalest = id
        } else if (at !== oldest) break
        else if (ids.indexOf(id) < ids.indexOf(stalest)) stalest = id
      }
    } else {
      // A link never heard from counts as heard longest ago.
      for (const id of ids) {
        const at = this.linkHeard.get(id) ?? Number.NEGATIVE_INFINITY
        if (at < oldest) {
          oldest = at
          stalest = id
        }
      }
    }
    if (oldest <= due) return stalest
    this.pingDueAt = oldest + wait
    return undefined
  }

  /**
   * Pings link `id`: its leaf count comes back, and at one ping in `gossipEvery` the supernodes it
   * knows (MAX_LIST); the pings between ask none (`want: 0`). At 10^4 peers every supernode knows
   * nearly all the others: of the lists that came back at every round, 96 % of the supernodes named
   * were known already, and their decoding and learning was a tenth of the CPU of the query window.
   */
  private async ping(id: PeerId): Promise<void> {
    const ref = this.ctx.supernodes.get(id)?.ref
    if (!ref) return
    const message: PingMessage = { kind: 'ping', leaves: this.leaves.size }
    if (this.pings++ % this.ctx.options.gossipEvery !== 0) message.want = 0
    try {
      // A silent link is given up within failoverTimeout (its queries go nowhere meanwhile).
      const info = await this.ctx.request(ref, message, this.ctx.options.failoverTimeout)
      this.ctx.learn(info, ref)
      if (info.role !== 'supernode' || !info.accepted) this.unlink(id)
      else this.counted(id, info.leaves)
    } catch (err) {
      this.log.debug('a linked supernode did not answer a ping; unlinked', { peer: id, err })
      this.unlink(id)
    }
  }

  /** Too many leaves (over 1.5 × `leavesPerSupernode`): the best capable leaf becomes a supernode and takes half of the others. */
  private async promote(): Promise<void> {
    if (this.promoting) return
    const best = this.candidates()[0]
    if (!best) return
    this.promoting = true
    try {
      const supernodes = [this.ctx.network.self(), ...this.ctx.supernodes.refs()].slice(0, MAX_LIST)
      const info = await this.ctx.request(best.peer, { kind: 'promote', supernodes })
      if (!info.accepted || info.role !== 'supernode') return
      this.figures.promoted++
      this.gone(best.peer.id)
      this.ctx.supernodes.learn(best.peer)
      const movers = shuffle(this.ctx.random, [...this.leaves.keys()]).slice(
        0,
        Math.floor(this.leaves.size / 2),
      )
      for (const id of movers) {
        this.figures.moved++
        void this.ctx.send(id, { kind: 'move', to: [best.peer] })
        this.gone(id)
      }
      this.log.info('promoted a leaf to supernode and moved half our leaves to it', {
        peer: best.peer.id,
        moved: movers.length,
      })
      void this.fillLinks()
    } catch (err) {
      // Another leaf is asked at the next round.
      this.log.warn('a leaf asked to become a supernode did not answer', { peer: best.peer.id, err })
    } finally {
      this.promoting = false
    }
  }

  /**
   * Few leaves, served long enough, a linked supernode with room for them, and
   * the weakest of the under-loaded supernodes it links to (so two never step down together).
   */
  private shouldDemote(): boolean {
    const o = this.ctx.options
    if (o.demoteAfter === 0 || this.ctx.clock.now() - this.since < o.demoteAfter) return false
    const low = Math.floor(o.leavesPerSupernode / 4)
    if (this.leaves.size >= low) return false
    let room = false
    const me = this.ctx.self()
    for (const [id, leaves] of this.linkLeaves) {
      if (leaves + this.leaves.size + 1 <= o.leavesPerSupernode) room = true
      if (leaves < low && id > me.peer.id) return false // this one has the lower PeerId: it stays, the other goes
    }
    return room
  }

  /** Linked supernodes with room for more leaves, least loaded first. */
  roomyLinks(): PeerRef[] {
    const out: { ref: PeerRef; leaves: number }[] = []
    for (const ref of this.ctx.supernodes.refs()) {
      const leaves = this.linkLeaves.get(ref.id) ?? 0
      if (leaves < this.ctx.options.leavesPerSupernode) out.push({ ref, leaves })
    }
    return out.sort((a, b) => a.leaves - b.leaves).map((x) => x.ref)
  }

  // ---- search ---------------------------------------------------------------

  /** Hits from this supernode's directory (its online leaves) and its own records. */
  async local(query: Query): Promise<Hit[]> {
    const [hits, own] = await Promise.all([this.directory.search(query), this.ctx.own.search(query)])
    if (own.length === 0) return hits // the directory's answer is a fresh array: no copy
    const self = this.ctx.network.self()
    for (const h of own) hits.push({ ...h, providers: [self] })
    return hits
  }

  /**
   * Runs a search from here: the own index first, then the linked supernodes,
   * as an expanding ring (TTL 1, 2 …) when the query has a limit, or one flood at `ttl`.
   */
  async search(query: Query, session: SearchSession, signal: AbortSignal): Promise<void> {
    session.add(await this.local(query), 0)
    if (session.atLimit) return
    const o = this.ctx.options
    // Linked to every supernode it knows of: a TTL beyond 1 would only bring duplicates back.
    const reach = this.ctx.supernodes.candidateCount() === 0 ? 1 : o.ttl
    const steps = o.expandingRing && query.limit !== undefined ? reach : 1
    const wire: Query = query.hash !== undefined ? { hash: query.hash } : { keywords: query.keywords ?? [] }
    if (query.limit !== undefined) wire.limit = Math.min(query.limit, MAX_HITS_PER_MESSAGE)
    try {
      for (let step = 1; step <= steps; step++) {
        const ttl = steps === 1 ? reach : step
        const targets = this.ctx.supernodes.idList()
        if (targets.length === 0 || signal.aborted || !this.ctx.running) return
        const id = newQueryId(this.ctx.random)
        this.seen.set(id, null)
        this.sessions.set(id, session)
        session.ids.push(id)
        const message: QueryMessage = { kind: 'query', id, ttl, hops: 0, query: wire }
        this.ctx.sendAll(targets, message)
        await session.wait(this.ctx.clock, Number.POSITIVE_INFINITY, ttl * o.hopTimeout, signal)
        if (session.atLimit) return
      }
    } finally {
      for (const id of session.ids) this.sessions.delete(id)
    }
  }

  /** A query from a leaf (this supernode runs it for the leaf) or from a link (answer, then pass it on). */
  onQuery(msg: QueryMessage, from: PeerId): void {
    // A duplicate (about two copies in three of a flooded query reach a supernode that has it) is
    // dropped first, whoever sent it: no look-up of its sender and no token taken (it costs this
    // supernode nothing more, and starts no search and no forward).
    if (this.seen.has(msg.id)) {
      this.figures.duplicates++
      return
    }
    // Nearly every query comes from a link, and a peer is never a link and a leaf at once (attach
    // unlinks, link and fillLinks refuse leaves): the leaves are looked up only when it is no link.
    const link = this.ctx.supernodes.get(from)
    const leaf = link === undefined ? this.leaves.get(from) : undefined
    const bucket = leaf?.bucket ?? link?.bucket
    if (!bucket) {
      this.stranger(msg, from)
      return
    }
    if (!bucket.take(this.ctx.clock.now())) {
      this.figures.throttled++
      if (leaf) void this.ctx.send(from, { kind: 'done', id: msg.id })
      return
    }
    this.seen.set(msg.id, from)
    if (leaf) {
      this.forLeaf(msg, from)
      return
    }
    const hops = msg.hops + 1
    this.local(msg.query).then(
      (hits) => this.reply(from, msg.id, hops, hits),
      (err: unknown) =>
        this.log.warn('a search of the local catalogue failed; the query goes on without its hits', { err }),
    )
    const ttl = Math.min(msg.ttl, this.ctx.options.ttl) - 1
    if (ttl < 1) return
    const next: QueryMessage = { kind: 'query', id: msg.id, ttl, hops, query: msg.query }
    const links = this.ctx.supernodes.idList()
    this.figures.forwarded += link !== undefined ? links.length - 1 : links.length
    this.ctx.sendAll(links, next, from)
  }

  /**
   * A query from a peer that is neither a leaf nor a link: not ours to run. A
   * first-hop query comes from a leaf that believes it is attached here (this
   * supernode moved it away while it was still logging in, or dropped it), so
   * it gets `done` (no waiting for hits that never come) and a `move` to the
   * links, and attaches again. Bounded by one bucket for all strangers
   * (`queryRate`, `queryBurst`), so answering cannot be used to amplify.
   */
  private stranger(msg: QueryMessage, from: PeerId): void {
    if (msg.hops !== 0 || !this.strangers.take(this.ctx.clock.now())) return
    this.figures.strangers++
    void this.ctx.send(from, { kind: 'done', id: msg.id })
    void this.ctx.send(from, { kind: 'move', to: this.ctx.supernodes.refs().slice(0, MAX_LIST) })
  }

  /** Hits on their way back: to the search run here, or one step further along the reverse path. */
  onHit(msg: HitMessage, from: PeerId): void {
    if (!this.ctx.supernodes.has(from)) return
    const route = this.seen.get(msg.id)
    if (route === undefined) return
    if (route === null) this.sessions.get(msg.id)?.add(msg.hits, msg.hops)
    else void this.ctx.send(route, msg)
  }

  private forLeaf(msg: QueryMessage, leaf: PeerId): void {
    const session = new SearchSession('hits', msg.query.limit, (hit, added) => {
      this.reply(leaf, msg.id, hit.hops ?? 0, [{ ...hit, providers: added }])
    })
    const signal = new AbortController().signal
    void this.search(msg.query, session, signal)
      .catch((err) =>
        this.log.debug("a leaf's search failed; it gets done with what was found", { leaf, err }),
      )
      .then(() => this.ctx.send(leaf, { kind: 'done', id: msg.id }))
  }

  private reply(to: PeerId, id: string, hops: number, hits: Hit[]): void {
    if (hits.length === 0) return
    if (hits.length <= MAX_HITS_PER_MESSAGE) {
      void this.ctx.send(to, { kind: 'hit', id, hops, hits })
      return
    }
    for (let i = 0; i < hits.length; i += MAX_HITS_PER_MESSAGE) {
      void this.ctx.send(to, { kind: 'hit', id, hops, hits: hits.slice(i, i + MAX_HITS_PER_MESSAGE) })
    }
  }
}

/**
 * The period of a supernode's `alive` timer: its maintenance interval, or half the heartbeat interval
 * when that is shorter, so that a leaf is told at least every `heartbeatInterval` + 1.5 periods, at
 * most 1.75 × `heartbeatInterval`, within the 2 × `heartbeatInterval` (or `heartbeatInterval` + 1 s)
 * after which it counts its supernode lost.
 */
export function aliveEvery(o: { maintenanceInterval: number; heartbeatInterval: number }): number {
  return Math.max(1, Math.min(o.maintenanceInterval, Math.floor(o.heartbeatInterval / 2)))
}

/** Whether two election lists name the same peers (with the same addresses) at the same capacities, in the same order. */
export function sameCandidates(a: readonly Candidate[], b: readonly Candidate[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as Candidate
    const y = b[i] as Candidate
    if (x.capacity !== y.capacity || x.peer.id !== y.peer.id) return false
    if (!sameAddresses(x.peer.addresses, y.peer.addresses)) return false
  }
  return true
}
