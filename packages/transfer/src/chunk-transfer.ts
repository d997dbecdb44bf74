import { chunkingError, HashCache, hashFolder } from '@peerkit/content'
import {
  CLOCK,
  type Clock,
  type ContentHash,
  type Download,
  type DownloadOptions,
  type DownloadStatus,
  type FileRecord,
  IDENTITY,
  type Identity,
  INDEX_FACTORY,
  type Index,
  type IndexFactory,
  InvalidOptionsError,
  keywords,
  LOCAL_INDEX,
  LOGGER,
  type Logger,
  Network,
  PEER_CONFIG,
  type PeerConfig,
  type PeerId,
  RANDOM,
  type Random,
  RateLimitError,
  type ShareOptions,
  type Transfer,
} from '@peerkit/core'
import { inject, injectable } from 'tsyringe'
import { ByteRate } from './byte-rate.js'
import { ChunkDownload } from './chunk-download.js'
import { ChunkServer, type SharedFile } from './chunk-server.js'
import { resolve, stat } from './host-files.js'
import { TRANSFER_PROTOCOL, type TransferRequest, type TransferResponse } from './messages.js'
import type { ParsedTransferOptions } from './options.js'
import { TRANSFER_OPTIONS } from './tokens.js'

/** Finished downloads kept for `downloads()`. */
const MAX_FINISHED = 100

/** The name of the index where a peer with a data folder keeps which file it serves under which hash. */
export const SHARED_FILES_INDEX = 'shared-files'

/** A shared file as the `shared-files` index keeps it: its record, with where it is and when it was hashed. */
type SharedFileRecord = FileRecord & { path: string; mtimeMs: number }

/**
 * The default Transfer: serves the chunks of shared files over
 * `peerkit/transfer/2` and downloads files chunk by chunk from many providers
 * at once, each chunk verified against the content hash before it is written.
 */
@injectable()
export class ChunkTransfer implements Transfer {
  readonly [Symbol.toStringTag] = '@peerkit/transfer'
  private readonly server = new ChunkServer()
  /** Running downloads by target path; made with the first download. */
  private active: Map<string, ChunkDownload> | undefined
  /** Requests being served, by the peer that asked; made with the first one. */
  private serving: Map<PeerId, number> | undefined
  private finished: ChunkDownload[] = []
  private readonly cache: HashCache | undefined
  private started = false
  /** The `downloadRate` and `uploadRate` limits (all downloads, all peers served), when set. */
  private readonly downloadRate: ByteRate | undefined
  private readonly uploadRate: ByteRate | undefined
  private readonly log: Logger
  /**
   * With a data folder: which file is served under which hash (`shared-files`),
   * so a restart serves the shares again from the hash cache, without reading
   * them, and withdraws those that went or changed.
   */
  private readonly files: Index | undefined
  private filesOpen: Promise<void> | undefined

  constructor(
    @inject(Network) private readonly network: Network,
    @inject(LOCAL_INDEX) private readonly index: Index,
    @inject(IDENTITY) private readonly identity: Identity,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(RANDOM) private readonly random: Random,
    @inject(PEER_CONFIG) config: PeerConfig,
    @inject(TRANSFER_OPTIONS) private readonly options: ParsedTransferOptions,
    @inject(LOGGER) logger: Logger,
    @inject(INDEX_FACTORY) makeIndex: IndexFactory,
  ) {
    this.log = logger.forComponent('peerkit:transfer')
    this.cache = config.dataDir ? new HashCache(config.dataDir) : undefined
    this.files = config.dataDir ? makeIndex(SHARED_FILES_INDEX) : undefined
    this.server.onGone = (file, why) => this.withdraw(file, why)
    if (options.downloadRate > 0) this.downloadRate = new ByteRate(options.downloadRate)
    if (options.uploadRate > 0) this.uploadRate = new ByteRate(options.uploadRate)
  }

  async start(): Promise<void> {
    if (this.started) return
    this.started = true
    this.network.handle(TRANSFER_PROTOCOL, (req, ctx) => this.serve(req, ctx.peer.id))
    await this.reconcile()
    // Records made before the network listened carry no addresses: refresh them.
    const refreshed: Promise<void>[] = []
    for (const hash of this.server.hashes()) {
      const file = this.server.get(hash)
      if (file) refreshed.push(this.index.put(this.recordOf(file)))
    }
    await Promise.all(refreshed) // one batch for a persistent index
  }

  /**
   * Serves one request: at most `maxServingPerPeer` at once for one peer, at
   * most `maxUploadPeers` peers at once, chunk bytes paced to `uploadRate`.
   */
  private async serve(req: TransferRequest, from: PeerId): Promise<TransferResponse> {
    const max = this.options.maxServingPerPeer
    this.serving ??= new Map()
    const serving = this.serving
    const n = serving.get(from) ?? 0
    if (n >= max)
      throw new RateLimitError(
        `${max} requests of this peer are being served already (transfer.maxServingPerPeer)`,
      )
    const slots = this.options.maxUploadPeers
    if (n === 0 && slots > 0 && serving.size >= slots)
      throw new RateLimitError(`${slots} peers are being served already (transfer.maxUploadPeers)`)
    serving.set(from, n + 1)
    try {
      const res = await this.server.handle(req)
      if (res.op === 'chunk' && this.uploadRate) {
        // Paced: the answer leaves once the bytes before it are paid for at uploadRate (the slot is held meanwhile).
        const wait = this.uploadRate.reserve(this.clock.now(), res.data.length)
        if (wait > 0) await new Promise<void>((r) => this.clock.setTimeout(r, wait))
      }
      return res
    } finally {
      const left = (serving.get(from) ?? 1) - 1
      if (left === 0) serving.delete(from)
      else serving.set(from, left)
    }
  }

  async stop(): Promise<void> {
    if (!this.started) return
    this.started = false
    this.network.unhandle(TRANSFER_PROTOCOL)
    const running = [...(this.active?.values() ?? [])]
    for (const d of running) d.stop('the transfer stopped')
    await Promise.allSettled(running.map((d) => d.done))
    await this.server.close()
    await this.closeFiles()
  }

  /** Called by the container on dispose. */
  async dispose(): Promise<void> {
    await this.stop()
    await this.closeFiles()
  }

  /**
   * Serves again the files a data folder's `shared-files` index lists, when
   * each is still on disk as it was hashed (size and mtime) and the hash
   * cache has its leaves: nothing is read or hashed. A file that went or
   * changed leaves the list. Then, in a durable local index, a share record
   * whose file is not served is removed: nothing is advertised that this
   * peer does not serve.
   */
  private async reconcile(): Promise<void> {
    const files = this.files
    if (!files) return
    await this.openFiles()
    let restored = 0
    const gone: SharedFileRecord[] = []
    for await (const r of files.records()) {
      const f = r as SharedFileRecord
      if (this.server.get(f.hash)) continue // shared again in this run before start
      // A file that cannot be stat'ed is gone: it is dropped below like one that changed.
      const st = await stat(f.path).catch(() => undefined)
      const same = st !== undefined && st.size === f.size && st.mtimeMs === f.mtimeMs
      const hashed = same ? await this.cache?.get(f.path, f.size, f.mtimeMs) : undefined
      if (hashed?.hash === f.hash) {
        this.server.add(hashed)
        restored++
      } else gone.push(f)
    }
    for (const f of gone)
      this.log.info('a file shared before the restart is gone or changed: not served any more', {
        path: f.path,
      })
    // Issued together, committed as one batch by a persistent index (an Index applies calls in order).
    await Promise.all(gone.map((f) => files.remove(f.hash, f.provider.id)))
    let stale = 0
    if (this.index.durable) {
      const unserved: FileRecord[] = []
      for await (const r of this.index.records()) if (!this.server.get(r.hash)) unserved.push(r)
      for (const n of await Promise.all(unserved.map((r) => this.index.remove(r.hash, r.provider.id))))
        stale += n
    }
    if (restored + gone.length + stale > 0)
      this.log.info('shares reconciled with the disk', {
        served: restored,
        gone: gone.length,
        unadvertised: stale,
      })
  }

  private openFiles(): Promise<void> {
    this.filesOpen ??= this.files?.open() ?? Promise.resolve()
    return this.filesOpen
  }

  private async closeFiles(): Promise<void> {
    if (this.filesOpen === undefined) return
    this.filesOpen = undefined
    await this.files?.close()
  }

  async share(path: string, options: ShareOptions = {}): Promise<FileRecord[]> {
    const records: FileRecord[] = []
    if (this.files) await this.openFiles()
    // Index writes apply in order; they are awaited once the folder is hashed.
    const writes: Promise<void>[] = []
    await hashFolder(path, {
      signal: options.signal,
      cache: this.cache,
      workers: this.options.hashWorkers,
      hidden: options.hidden,
      onSkip: options.onSkip,
      ignore: options.ignore,
      onFile: (file) => {
        const shared = this.server.add(file)
        const record = this.recordOf(shared)
        // Where the file is first, then its record: a crash between the two never leaves a record without its file.
        const entry: SharedFileRecord = { ...record, path: shared.path, mtimeMs: shared.mtimeMs }
        if (this.files) writes.push(this.files.put(entry))
        writes.push(this.index.put(record))
        records.push(record)
        options.onFile?.(record, file.path)
      },
    }).finally(() => Promise.allSettled(writes))
    await Promise.all(writes)
    return records
  }

  async unshare(hashes: ContentHash[]): Promise<void> {
    for (const hash of hashes) {
      await this.index.remove(hash, this.identity.peerId)
      if (this.files) {
        await this.openFiles()
        await this.files.remove(hash, this.identity.peerId)
      }
      await this.server.remove(hash)
    }
  }

  download(hash: ContentHash, options: DownloadOptions): Download {
    const to = resolve(options.to)
    this.active ??= new Map()
    const active = this.active
    const running = active.get(to)
    if (running) {
      throw new InvalidOptionsError(`${to} is already the target of a running download (of ${running.hash})`)
    }
    if (options.size !== undefined || options.chunkSize !== undefined) {
      // The expected size and chunk size (from a search hit) must be a chunking a version-2 hash can have.
      const bad =
        options.size === undefined
          ? 'chunkSize is given without size'
          : chunkingError(options.size, options.chunkSize)
      if (bad) throw new InvalidOptionsError(`download of ${hash}: ${bad}`)
    }
    const download = new ChunkDownload(hash, options, {
      network: this.network,
      clock: this.clock,
      random: this.random,
      self: this.identity.peerId,
      options: this.options,
      queued: true,
      onChange: () => this.schedule(),
      rate: this.downloadRate,
    })
    active.set(to, download)
    const settle = () => {
      active.delete(to)
      this.finished = [...this.finished, download].slice(-MAX_FINISHED)
      this.schedule()
    }
    download.done.then(settle, settle)
    this.schedule()
    return download
  }

  /** Lets queued downloads run, oldest first, while fewer than `maxActiveDownloads` run (paused ones do not count). */
  private schedule(): void {
    const all = [...(this.active?.values() ?? [])]
    const max = this.options.maxActiveDownloads || Number.POSITIVE_INFINITY
    let running = all.filter((d) => d.active).length
    for (const d of all) {
      if (running >= max) return
      if (d.status().state !== 'queued') continue
      d.admit()
      running++
    }
  }

  /** Forgets finished downloads (`downloads()` lists the running ones only until the next ends). */
  clearFinished(): void {
    this.finished = []
  }

  downloads(): DownloadStatus[] {
    return [...this.finished, ...(this.active?.values() ?? [])].map((d) => d.status())
  }

  /** Hashes of the files served. */
  shared(): ContentHash[] {
    return this.server.hashes()
  }

  /**
   * A shared file found changed or gone while serving it: its record leaves
   * the local Index (the caller re-shares a changed file under its new hash;
   * the overlay's copy goes with the next unshare or lapses).
   */
  private withdraw(file: SharedFile, why: 'changed' | 'gone'): void {
    this.log.warn(
      why === 'changed'
        ? 'a shared file changed on disk: no longer served under its old hash (share it again for the new one)'
        : 'a shared file is gone from disk: no longer served',
      { path: file.path, hash: file.hash },
    )
    Promise.resolve(this.index.remove(file.hash, this.identity.peerId)).catch((err: unknown) =>
      this.log.warn('could not remove the record of a withdrawn file from the local index', {
        hash: file.hash,
        err,
      }),
    )
    this.files?.remove(file.hash, this.identity.peerId).catch((err: unknown) =>
      this.log.warn('could not remove a withdrawn file from the shared-files index', {
        hash: file.hash,
        err,
      }),
    )
  }

  private recordOf(file: SharedFile): FileRecord {
    const name = file.path.split(/[\\/]/).pop() as string
    return {
      hash: file.hash,
      name,
      size: file.size,
      chunkSize: file.chunkSize,
      keywords: keywords(name),
      provider: this.network.self(),
    }
  }
}
