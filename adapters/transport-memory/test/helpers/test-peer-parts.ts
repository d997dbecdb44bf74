import {
  type ContentHash,
  type Download,
  type DownloadStatus,
  type FileRecord,
  type Hit,
  INDEX_FACTORY,
  type Index,
  indexes,
  matches,
  Network,
  NotFoundError,
  OVERLAY,
  type Overlay,
  type OverlayEvents,
  type OverlayStats,
  overlays,
  PEER_CONFIG,
  type PeerConfig,
  type PeerRef,
  type Query,
  TRANSFER,
  type Transfer,
  toHits,
  transfers,
} from '@peerkit/core'
import { EventEmitter } from 'eventemitter3'
import { inject, injectable, Lifecycle } from 'tsyringe'

/**
 * The smallest overlay that uses the network for real: it dials its
 * bootstrap addresses on start and calls every connected peer its neighbor.
 * Enough to test createTestnet without depending on an overlay package
 * (they depend on this one).
 */
@injectable()
export class MeshOverlay extends EventEmitter<OverlayEvents> implements Overlay {
  readonly name = 'test-mesh'

  constructor(
    @inject(Network) private readonly network: Network,
    @inject(PEER_CONFIG) private readonly config: PeerConfig,
  ) {
    super()
    network.on('peer:connect', (p) => this.emit('neighbor:add', p))
    network.on('peer:disconnect', (p) => this.emit('neighbor:remove', p))
  }

  async start(): Promise<void> {
    for (const address of this.config.bootstrap) await this.network.dialAddress(address)
  }

  async stop(): Promise<void> {}
  async publish(): Promise<void> {}
  async unpublish(): Promise<void> {}

  async *search(): AsyncIterable<Hit> {}

  async *providers(): AsyncIterable<PeerRef> {}

  neighbors(): PeerRef[] {
    return this.network.peers()
  }

  role(): string {
    return 'peer'
  }

  stats(): OverlayStats {
    return { sent: {}, received: {} }
  }
}

/** An Index in a Map: just what the peer's container resolves. */
class MapIndex implements Index {
  readonly durable = false
  private readonly byHash = new Map<ContentHash, FileRecord[]>()
  async open(): Promise<void> {}
  async close(): Promise<void> {}
  async put(record: FileRecord): Promise<void> {
    this.byHash.set(record.hash, [...(this.byHash.get(record.hash) ?? []), record])
  }
  async remove(hash: ContentHash): Promise<number> {
    const n = this.byHash.get(hash)?.length ?? 0
    this.byHash.delete(hash)
    return n
  }
  async removeProvider(): Promise<number> {
    return 0
  }
  async get(hash: ContentHash): Promise<FileRecord[]> {
    return this.byHash.get(hash) ?? []
  }
  async search(query: Query): Promise<Hit[]> {
    return toHits([...this.byHash.values()].flat().filter((r) => matches(r, query)))
  }
  async *records(): AsyncIterableIterator<FileRecord> {
    yield* [...this.byHash.values()].flat()
  }
  async count(): Promise<number> {
    return [...this.byHash.values()].flat().length
  }
  async clear(): Promise<void> {
    this.byHash.clear()
  }
  async expire(): Promise<number> {
    return 0
  }
}

/** A Transfer that shares and serves nothing (these tests never move files). */
class NoTransfer implements Transfer {
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async share(): Promise<FileRecord[]> {
    return []
  }
  async unshare(): Promise<void> {}
  download(hash: ContentHash): Download {
    throw new NotFoundError(`this test peer downloads nothing (${hash})`)
  }
  downloads(): DownloadStatus[] {
    return []
  }
}

/** Registers `test-mesh`, `test-map` and `test-none` (idempotent). */
export function registerTestParts(): void {
  overlays.register('test-mesh', () => (c) => {
    c.register(OVERLAY, { useClass: MeshOverlay }, { lifecycle: Lifecycle.ContainerScoped })
  })
  indexes.register('test-map', () => (c) => {
    c.register(INDEX_FACTORY, { useValue: () => new MapIndex() })
  })
  transfers.register('test-none', () => (c) => {
    c.register(TRANSFER, { useValue: new NoTransfer() })
  })
}
