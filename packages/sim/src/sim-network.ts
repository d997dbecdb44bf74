import '@peerkit/index-memory'
import '@peerkit/transfer'
import '@peerkit/transport-memory'
import {
  CLOCK,
  createPeer,
  type FileRecord,
  LOGGER,
  type OverlayStats,
  overlays,
  type Peer,
  RANDOM,
  type Random,
  SeededRandom,
  silentLogger,
  transports,
} from '@peerkit/core'
import { MEMORY_NETWORK, MemoryNetwork, memoryTransport } from '@peerkit/transport-memory'
import { type DependencyContainer, container as rootContainer } from 'tsyringe'
import { seededIdentity } from './identities.js'
import { VirtualClock } from './virtual-clock.js'

/** Where each overlay strategy's package lives: imported on first use, which registers it. */
export const OVERLAY_PACKAGES: Readonly<Record<string, string>> = Object.freeze({
  central: '@peerkit/overlay-central',
  flooding: '@peerkit/overlay-flooding',
  supernode: '@peerkit/overlay-supernode',
  chord: '@peerkit/overlay-chord',
})

/**
 * Whether `overlay` is one of `OVERLAY_PACKAGES` (its own key: a name such as `constructor` is not,
 * though `in` and an index would find it on `Object.prototype`).
 */
export function isBuiltInOverlay(overlay: string): boolean {
  return Object.hasOwn(OVERLAY_PACKAGES, overlay)
}

/**
 * The memory transport without the Ed25519 handshake, under its own registry
 * name: `options.memory` of a peer configuration also reaches the `memory`
 * index (both are named `memory`), which takes no options, so the simulator
 * cannot pass `{ authenticate: false }` there.
 */
export const SIM_TRANSPORT = 'sim-memory'

if (!transports.has(SIM_TRANSPORT))
  transports.register(SIM_TRANSPORT, (options) =>
    memoryTransport({ ...(options as Record<string, unknown> | undefined), authenticate: false }),
  )

/** Name under which the `central` strategy's directory server listens. */
export const DIRECTORY_NAME = 'directory'

/** Imports the package of `overlay` (unless already registered) and checks that the name is known. */
export async function loadOverlay(overlay: string): Promise<void> {
  if (!overlays.has(overlay) && isBuiltInOverlay(overlay)) await import(OVERLAY_PACKAGES[overlay] as string)
  if (!overlays.has(overlay)) overlays.get(overlay) // throws InvalidOptionsError with the known names
}

/** One simulated peer. */
export interface SimPeer {
  readonly index: number
  /** Its memory address is `memory://NAME`. */
  readonly name: string
  readonly peer: Peer
  alive: boolean
  /** Ranks of the catalog files it shares. */
  files: number[]
  joinedAt: number
}

interface DirectoryHandle {
  start(): Promise<void>
  stop(): Promise<void>
  addresses(): string[]
  server: { stats(): OverlayStats }
}

export interface SimNetworkOptions {
  overlay: string
  seed: number
  /** Mean one-way latency (exponential), ms. */
  latency: number
  overlayOptions: Record<string, unknown>
  /** `config.network.maxConnections` of every peer. @default 512 */
  maxConnections?: number
  /** Called with each peer as soon as it is built, before it starts (to listen to its overlay's events). */
  onPeer?: (peer: SimPeer, net: SimNetwork) => void
}

/**
 * The simulated world: one virtual clock, one seeded random source, one
 * memory hub, and peers built with core's `createPeer` in child containers of
 * a parent that registers all three.
 */
export class SimNetwork {
  readonly clock = new VirtualClock()
  readonly hub: MemoryNetwork
  readonly container: DependencyContainer
  /** The workload's own stream (files, queries, churn), independent of the peers'. */
  readonly random: Random
  readonly peers: SimPeer[] = []
  private readonly live: SimPeer[] = []
  private readonly livePos = new Map<SimPeer, number>()
  private readonly identities: Random
  private directory: DirectoryHandle | undefined
  joinFailures = 0
  private created = 0
  /** Goes up whenever a peer joins or leaves. */
  version = 0

  constructor(readonly options: SimNetworkOptions) {
    const master = new SeededRandom(options.seed)
    this.random = master.fork()
    this.identities = master.fork()
    this.hub = new MemoryNetwork({ latency: { mean: options.latency } })
    this.container = rootContainer.createChildContainer()
    this.container.register(CLOCK, { useValue: this.clock })
    this.container.register(RANDOM, { useValue: master.fork() })
    this.container.register(MEMORY_NETWORK, { useValue: this.hub })
    // Thousands of simulated peers would each log what an operator of one node needs (a peer left alone,
    // a neighbor dropped): the simulation's report is what tells the outcome, so its peers log nothing.
    this.container.register(LOGGER, { useValue: silentLogger() })
  }

  /** Peers alive now. */
  get liveCount(): number {
    return this.live.length
  }

  livePeers(): readonly SimPeer[] {
    return this.live
  }

  /** A live peer chosen with the workload's random source. */
  randomLive(): SimPeer | undefined {
    return this.live.length === 0 ? undefined : this.live[this.random.int(this.live.length)]
  }

  /** The `central` strategy's directory server statistics, when there is one. */
  directoryStats(): OverlayStats | undefined {
    return this.directory?.server.stats()
  }

  /** Starts the directory server the `central` strategy needs (listening at `memory://directory`). */
  async startDirectory(): Promise<void> {
    const mod = (await import(OVERLAY_PACKAGES.central as string)) as {
      createDirectoryServer(
        config: Record<string, unknown>,
        components: { container: DependencyContainer; identity: ReturnType<typeof seededIdentity> },
      ): Promise<DirectoryHandle>
    }
    const server = await mod.createDirectoryServer(
      {
        listen: [`memory://${DIRECTORY_NAME}`],
        transport: SIM_TRANSPORT,
        index: 'memory',
      },
      { container: this.container, identity: seededIdentity(this.identities) },
    )
    await this.clock.settle(server.start())
    this.directory = server
  }

  /** Where a new peer joins: the directory for `central`, else up to two live peers. */
  private bootstrapFor(): string[] {
    if (this.options.overlay === 'central') return [`memory://${DIRECTORY_NAME}`]
    const out = new Set<string>()
    for (let i = 0; i < 2 && out.size < this.live.length; i++) {
      const p = this.randomLive()
      if (p) out.add(`memory://${p.name}`)
    }
    return [...out]
  }

  /**
   * Builds and starts a peer sharing `files`; resolves once it has joined (in
   * virtual time: the caller drives the clock). A peer that fails to join is
   * counted in `joinFailures` and stopped.
   */
  async addPeer(
    files: number[] = [],
    bootstrap: string[] = this.bootstrapFor(),
    /** This peer's overlay options (a static topology gives each peer its own neighbour list). */
    overlayOptions: Record<string, unknown> = this.options.overlayOptions,
  ): Promise<SimPeer | undefined> {
    const index = this.created++
    const name = `p${index}`
    const { overlay } = this.options
    const peer = await createPeer(
      {
        overlay,
        transport: SIM_TRANSPORT,
        index: 'memory',
        transfer: 'default',
        listen: [`memory://${name}`],
        bootstrap,
        options: { [overlay]: overlayOptions },
        ...(this.options.maxConnections !== undefined
          ? { network: { maxConnections: this.options.maxConnections } }
          : {}),
      },
      { container: this.container, identity: seededIdentity(this.identities) },
    )
    const sim: SimPeer = { index, name, peer, alive: false, files, joinedAt: this.clock.now() }
    this.peers.push(sim)
    this.options.onPeer?.(sim, this)
    try {
      await peer.start()
    } catch {
      this.joinFailures++
      void peer.stop().catch(() => {}) // a peer that never started: its failure is counted in joinFailures
      return undefined
    }
    sim.alive = true
    this.version++
    this.livePos.set(sim, this.live.length)
    this.live.push(sim)
    return sim
  }

  /** Puts the records in the peer's shares and publishes them on the overlay. */
  async publish(sim: SimPeer, records: FileRecord[]): Promise<void> {
    for (const r of records) await sim.peer.shares.put(r)
    if (records.length > 0) await sim.peer.overlay.publish(records)
  }

  /** The peer vanishes without a goodbye (the hub drops it), then its components stop. */
  kill(sim: SimPeer): void {
    if (!sim.alive) return
    sim.alive = false
    this.version++
    const pos = this.livePos.get(sim)
    if (pos !== undefined) {
      const last = this.live.pop() as SimPeer
      if (last !== sim) {
        this.live[pos] = last
        this.livePos.set(last, pos)
      }
      this.livePos.delete(sim)
    }
    this.hub.kill(sim.name)
    void sim.peer.stop().catch(() => {}) // it crashed on purpose: a stop that fails changes nothing measured
  }

  /**
   * Ends the world after the figures are taken: the peers are left as they
   * are, frozen, and the container is released. Nothing of a peer can run
   * any more: its timers are on the virtual clock, which nothing drives
   * after this, and its connections on the hub; both go with the SimNetwork
   * once the caller lets go of it. Killing them all first (as `kill` does)
   * only made every survivor of each kill redial the dead, one failure and
   * its stack trace at a time, after the run (2.1 s of CPU after a
   * 1,000-peer flood's 9.5); stopping them made each say goodbye to peers
   * already gone (Chord's hand-over looked up every record's new owner).
   */
  async dispose(): Promise<void> {
    this.live.length = 0
    this.livePos.clear()
    await this.container.dispose()
  }
}
