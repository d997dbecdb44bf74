import { EventEmitter } from 'eventemitter3'
import type { DependencyContainer } from 'tsyringe'
import { inject, injectable } from 'tsyringe'
import {
  type BrowseOptions,
  type BrowsePage,
  BrowseServer,
  browsePeer,
  DEFAULT_BROWSE_CONFIG,
} from './browse.js'
import type { PeerConfig } from './config.js'
import type { Index } from './content-index.js'
import { NotStartedError } from './errors.js'
import type { Logger } from './logger.js'
import { type ConnectionInfo, Network } from './network.js'
import { type Overlay, type OverlayConnectivity, overlayConnectivity, type SearchOptions } from './overlay.js'
import type { Identity, PeerId } from './peer-id.js'
import { keepLookingForProviders } from './provider-search.js'
import {
  type ContentHash,
  type FileRecord,
  type Hit,
  type PeerRef,
  parseQuery,
  type Query,
} from './records.js'
import {
  CLOCK,
  IDENTITY,
  LOCAL_INDEX,
  LOGGER,
  OVERLAY,
  PEER_CONFIG,
  PEER_CONTAINER,
  TRANSFER,
} from './tokens.js'
import type { Download, DownloadStatus, ShareOptions, Transfer } from './transfer.js'
import type { AbortOptions } from './transport.js'

export interface PeerDownloadOptions extends AbortOptions {
  to: string
  /** Where to fetch from; by default the providers the overlay finds. */
  providers?: Iterable<PeerRef> | AsyncIterable<PeerRef>
  /**
   * Milliseconds to keep looking for providers: an overlay's search that ends
   * early and empty is made again (after 1 s, doubling up to 8 s) until then. @default 10000
   */
  providerTimeout?: number
  /** The file size from the search hit, when known (see `DownloadOptions.size`). */
  size?: number
  /** The chunk size from the search hit, when known (see `DownloadOptions.chunkSize`). */
  chunkSize?: number
}

export interface PeerStatus {
  id: PeerId
  overlay: string
  role: string
  addresses: string[]
  neighbors: PeerRef[]
  /** The open connections and the path each took (`direct`, `relayed`, `pushed`, `hole-punched`). */
  connections: ConnectionInfo[]
  /** Whether the node is part of its overlay, and why not. */
  connectivity: OverlayConnectivity
  shares: number
  downloads: DownloadStatus[]
}

export interface PeerEvents {
  started: []
  stopped: []
  shared: [records: FileRecord[]]
}

/**
 * One peer: a facade over its Network, Overlay, Transfer and local Index,
 * all resolved from the peer's own child container.
 */
@injectable()
export class Peer extends EventEmitter<PeerEvents> {
  private state: 'new' | 'started' | 'stopped' = 'new'

  constructor(
    @inject(PEER_CONFIG) readonly config: PeerConfig,
    @inject(IDENTITY) private readonly identity: Identity,
    @inject(Network) readonly network: Network,
    @inject(OVERLAY) readonly overlay: Overlay,
    @inject(TRANSFER) readonly transfer: Transfer,
    @inject(LOCAL_INDEX) readonly shares: Index,
    @inject(PEER_CONTAINER) private readonly container: DependencyContainer,
    @inject(LOGGER) logger: Logger,
  ) {
    super()
    this.log = logger.forComponent('peerkit:peer')
  }

  private readonly log: Logger
  /** The local index's `open()`, made once: by `start()`, or by a `share()` before it. */
  private opening: Promise<void> | undefined
  /** Records in the local index, as of the last share, unshare or start (`status()` is synchronous). */
  private shareCount = 0
  private browsing: BrowseServer | undefined

  get id(): PeerId {
    return this.identity.peerId
  }

  get started(): boolean {
    return this.state === 'started'
  }

  addresses(): string[] {
    return this.network.addresses()
  }

  /** Listens, starts serving and joins the overlay; publishes whatever was shared before. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new NotStartedError(`peer ${this.id} cannot start twice`)
    this.state = 'started'
    await this.openShares()
    await this.network.start()
    // The transfer reconciles the shares it finds in a persistent index (files gone or changed go) before anything is published.
    await this.transfer.start()
    await this.overlay.start()
    this.browseServer().start()
    const shared: FileRecord[] = []
    for await (const r of this.shares.records()) shared.push(r)
    this.shareCount = shared.length
    if (shared.length > 0) await this.overlay.publish(shared)
    this.emit('started')
  }

  /** Leaves the overlay, closes every connection and disposes the peer's container. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return
    const wasStarted = this.state === 'started'
    this.state = 'stopped'
    if (wasStarted) {
      this.browsing?.stop()
      // Each part stops even when one before it failed; a failure is logged, and the container is disposed anyway.
      const parts = [
        ['overlay', this.overlay],
        ['transfer', this.transfer],
        ['network', this.network],
      ] as const
      for (const [part, service] of parts) {
        await service
          .stop()
          .catch((err) => this.log.warn(`${part} failed to stop cleanly`, { peer: this.id, err }))
      }
    }
    if (this.opening !== undefined) {
      // Closed after the parts that use it stopped; a failure is logged (a persistent index documents what it may lose).
      await this.shares
        .close()
        .catch((err) => this.log.warn('the local index failed to close cleanly', { peer: this.id, err }))
    }
    await this.container.dispose()
    this.emit('stopped')
  }

  /** Hashes a file or a folder, serves it, and publishes it on the overlay (now, or at start). */
  async share(path: string, options?: ShareOptions): Promise<FileRecord[]> {
    await this.openShares()
    const records = await this.transfer.share(path, options)
    this.shareCount = await this.shares.count()
    if (this.state === 'started' && records.length > 0) await this.overlay.publish(records)
    this.emit('shared', records)
    return records
  }

  async unshare(hashes: ContentHash[]): Promise<void> {
    await this.openShares()
    await this.transfer.unshare(hashes)
    this.shareCount = await this.shares.count()
    if (this.state === 'started') await this.overlay.unpublish(hashes)
  }

  /** Hits as they arrive; `query` is keywords (`'harry potter'`), a content hash, or a Query. */
  search(query: string | Query, options?: SearchOptions & { limit?: number }): AsyncIterable<Hit> {
    this.assertStarted()
    return this.overlay.search(parseQuery(query, options?.limit), options)
  }

  /** Peers that hold `hash`, as the overlay finds them. */
  providers(hash: ContentHash, options?: SearchOptions): AsyncIterable<PeerRef> {
    this.assertStarted()
    return this.overlay.providers(hash, options)
  }

  /** Downloads `hash` to `options.to` from every provider found (or given), verified chunk by chunk. */
  download(hash: ContentHash, options: PeerDownloadOptions): Download {
    this.assertStarted()
    const { to, signal, size, chunkSize } = options
    const timeout = options.providerTimeout ?? 10_000
    // A search that ends early and empty is made again until the timeout (a provider missed for a moment).
    const providers =
      options.providers ??
      keepLookingForProviders(
        this.container.resolve(CLOCK),
        (left, s) => this.overlay.providers(hash, { signal: s, timeout: left }),
        timeout,
        signal,
      )
    // While every provider is gone, the transfer asks the overlay again (with backoff).
    const findProviders = options.providers
      ? undefined
      : (again: AbortSignal) => this.overlay.providers(hash, { signal: again, timeout })
    return this.transfer.download(hash, { to, signal, providers, size, chunkSize, findProviders })
  }

  /**
   * A page of the files another peer shares, by name (`peerkit/browse/1`).
   * `target` is a PeerRef, a PeerId whose address is known (from a search),
   * or an address URL. Pass the page's `next` as `after` for the next page.
   * Throws `UnsupportedProtocolError` when the peer does not allow browsing.
   */
  browse(target: PeerRef | PeerId | string, options: BrowseOptions = {}): Promise<BrowsePage> {
    this.assertStarted()
    return browsePeer(this.network, target, options)
  }

  /** Answers other peers' browse requests from the shares (made on first use). */
  private browseServer(): BrowseServer {
    this.browsing ??= new BrowseServer(
      this.network,
      this.shares,
      this.container.resolve(CLOCK),
      this.config.browse ?? DEFAULT_BROWSE_CONFIG,
      this.log,
    )
    return this.browsing
  }

  status(): PeerStatus {
    return {
      id: this.id,
      overlay: this.overlay.name,
      role: this.overlay.role(),
      addresses: this.addresses(),
      neighbors: this.overlay.neighbors(),
      connections: this.network.connections(),
      connectivity: overlayConnectivity(this.overlay),
      shares: this.shareCount,
      downloads: this.transfer.downloads(),
    }
  }

  /** Opens the local index once (`start()` or the first `share()`). */
  private openShares(): Promise<void> {
    this.opening ??= this.shares.open()
    return this.opening
  }

  private assertStarted(): void {
    if (this.state !== 'started')
      throw new NotStartedError(`peer ${this.id} is not started; call start() first`)
  }
}
