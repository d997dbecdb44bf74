import '../register.js'
import { randomBytes } from 'node:crypto'
import {
  type CreatePeerComponents,
  createPeer,
  type Peer,
  type PeerConfigInput,
  type PeerId,
} from '@peerkit/core'
import { createDirectoryServer, type DirectoryServerHandle } from '@peerkit/overlay-central'
import { MemoryNetwork, memoryContainer } from '@peerkit/transport-memory'

export type DemoTransport = 'memory' | 'tcp'

/** Per-overlay options that make a demo-sized network settle quickly (validated by each overlay). */
export const DEMO_OVERLAY_OPTIONS: Record<string, Record<string, unknown>> = {}

export interface DemoNetworkOptions {
  overlay: string
  transport: DemoTransport
  /** Options per component, merged over DEMO_OVERLAY_OPTIONS. */
  options?: Record<string, unknown>
}

/**
 * A small network on this machine: the peers of the demo by name, the
 * directory server when the overlay is `central`, over loopback TCP or one
 * in-process memory hub (with a little latency and a bandwidth cap, so
 * progress can be watched).
 */
export class DemoNetwork {
  readonly peers = new Map<string, Peer>()
  directory: DirectoryServerHandle | undefined
  private readonly components: CreatePeerComponents
  private readonly names = new Map<PeerId, string>()

  constructor(readonly options: DemoNetworkOptions) {
    this.components =
      options.transport === 'memory'
        ? { container: memoryContainer(new MemoryNetwork({ latency: 2, bandwidth: 2_000_000 })) }
        : {}
  }

  /** Starts the directory server (central only): the address every peer bootstraps from. */
  async startDirectory(): Promise<DirectoryServerHandle> {
    const directory = await createDirectoryServer(
      { listen: [this.address('directory')], transport: this.options.transport },
      this.components,
    )
    this.directory = directory
    await directory.start()
    this.names.set(directory.id, 'directory')
    return directory
  }

  /**
   * Creates and starts one peer. It bootstraps from the directory (central)
   * or from the first peer and the latest one; `fresh` gives a memory peer a
   * never-seen address (a TCP peer always gets a new port).
   */
  async addPeer(name: string, fresh = false): Promise<Peer> {
    const known = [...this.peers.values()]
    const bootstrap = this.directory
      ? this.directory.addresses()
      : [known[0], known[known.length - 1]]
          .filter((p): p is Peer => p !== undefined)
          .flatMap((p) => p.addresses())
          .filter((a, i, all) => all.indexOf(a) === i)
    const label = fresh ? `${name}-${randomBytes(3).toString('hex')}` : name
    const config: PeerConfigInput = {
      overlay: this.options.overlay,
      transport: this.options.transport,
      listen: [this.address(label)],
      bootstrap,
      options: {
        ...(DEMO_OVERLAY_OPTIONS[this.options.overlay]
          ? { [this.options.overlay]: DEMO_OVERLAY_OPTIONS[this.options.overlay] }
          : {}),
        ...this.options.options,
      },
    }
    const peer = await createPeer(config, this.components)
    this.peers.set(name, peer)
    this.names.set(peer.id, name)
    await peer.start()
    return peer
  }

  /** The demo name of a peer id (`bob`), or a short id for strangers. */
  nameOf(id: PeerId): string {
    return this.names.get(id) ?? `${id.slice(0, 8)}…`
  }

  /** Stops every peer, then the directory; never throws. */
  async stop(): Promise<void> {
    await Promise.all([...this.peers.values()].map((p) => p.stop().catch(() => {}))) // the demo is over: a peer that fails to stop leaves nothing the demo reports
    await this.directory?.stop().catch(() => {}) // as above
  }

  private address(name: string): string {
    return this.options.transport === 'memory' ? `memory://${name}` : 'tcp://127.0.0.1:0'
  }
}
