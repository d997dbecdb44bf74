import { lstat, readFile } from 'node:fs/promises'
import { basename, dirname, relative, resolve, sep } from 'node:path'
import { isHiddenName } from '@peerkit/content'
import { type ContentHash, type FileRecord, type Logger, type Peer, writeFileAtomic } from '@peerkit/core'
import { type FSWatcher, watch } from 'chokidar'

/** One file a shared folder gives. */
export type SharedFile = Pick<FileRecord, 'hash' | 'name' | 'size'>

/** An entry below a shared folder that is not shared, and why. */
export interface SkippedEntry {
  path: string
  /** `hidden` (a name starting with `.`; see `hidden`), `symlink` (not followed), `special` (socket, FIFO, device), `unreadable`. */
  reason: string
}

/** One shared folder (or file) and the files it gives. */
export interface SharedFolder {
  path: string
  files: SharedFile[]
  /** What below it is not shared, and why (at most MAX_SKIPPED_LISTED; `skippedCount` counts them all). */
  skipped: SkippedEntry[]
  skippedCount: number
  /** A finished download shared back (see `shareDownloads`). */
  download?: boolean
}

export interface ShareRegistryOptions {
  /** Share hidden files and folders (names starting with `.`) below a shared folder too. @default false */
  hidden?: boolean
  /** Follow shared folders on disk (chokidar): new files published, deleted ones withdrawn, changed ones re-hashed. @default true */
  watch?: boolean
  /** Milliseconds a new or changed file must stay the same size before it is hashed (a copy in progress is not shared half-written). @default 2000 */
  settleTime?: number
  /** Where the shared folders are kept across restarts (`DATA/shares.json`); none: not kept. */
  store?: string
  logger?: Logger
}

/**
 * A download in progress, never shared: the transfer's `.part` and its sidecar
 * (`X.part`, `X.part.json`, a `.part` of another file set aside as
 * `X.part.HASHPREFIX`) and the node's staging file `X.peerkit`.
 */
export function isPartialDownload(path: string): boolean {
  return /\.part(\.json|\.[0-9a-f]{4,64}|\.unknown)?$|\.peerkit$/.test(path)
}

/** Skipped entries listed per folder (all are counted and logged at debug). */
export const MAX_SKIPPED_LISTED = 100
/** The default `settleTime`. */
export const DEFAULT_SETTLE_TIME = 2000

interface Folder {
  path: string
  download: boolean
  /** Files by absolute path. */
  files: Map<string, SharedFile>
  skipped: SkippedEntry[]
  skippedCount: number
  watcher?: FSWatcher
}

interface StoreFile {
  version: 1
  shares: Array<{ path: string; download?: boolean }>
}

/**
 * The folders a node shares, kept in step with the disk: `--share` and the
 * config file's `shares` at start, those added and removed through the API
 * (`/shares`), and finished downloads shared back. Each folder is watched
 * (chokidar): a new file is hashed and published once it has settled, a
 * deleted one is unpublished, and a changed one is hashed again and published
 * under its new hash while the old hash is withdrawn (the transfer already
 * refuses to serve bytes that changed). Hidden files and folders are left out
 * unless `hidden`; symbolic links are not followed; what is left out is
 * listed with the reason. Removing a folder unshares its files, except those
 * another shared folder holds too. Paths are kept resolved.
 */
export class ShareRegistry {
  private readonly folders = new Map<string, Folder>()
  /** Changes are applied one at a time, in the order they were seen. */
  private queue: Promise<void> = Promise.resolve()
  private closed = false
  private readonly log: Logger | undefined

  constructor(
    private readonly peer: Peer,
    private readonly options: ShareRegistryOptions = {},
  ) {
    this.log = options.logger?.forComponent('peerkit:cli:shares')
  }

  /** The folders kept in `store` by an earlier run (none when there is no store or it is unreadable). */
  async stored(): Promise<Array<{ path: string; download: boolean }>> {
    if (!this.options.store) return []
    let text: string
    try {
      text = await readFile(this.options.store, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        this.log?.warn('cannot read the saved shares; starting with none saved', {
          file: this.options.store,
          err,
        })
      return []
    }
    try {
      const data = JSON.parse(text) as StoreFile
      if (data?.version !== 1 || !Array.isArray(data.shares))
        throw new Error('not a shares file of version 1')
      return data.shares
        .filter((s) => typeof s?.path === 'string' && s.path.length > 0)
        .map((s) => ({ path: resolve(s.path), download: s.download === true }))
    } catch (err) {
      this.log?.warn('the saved shares file is damaged; starting with none saved', {
        file: this.options.store,
        err,
      })
      return []
    }
  }

  /**
   * Shares `path` (a folder or a file) and follows it on disk; a second call
   * rescans it. Returns what it gives. `download`: a finished download shared back.
   */
  add(given: string, opts: { download?: boolean } = {}): Promise<SharedFolder> {
    return this.serial(() => this.addNow(resolve(given), opts.download === true))
  }

  /** Stops sharing `path` (and following it); false when it is not shared. */
  remove(given: string): Promise<boolean> {
    return this.serial(async () => {
      const path = resolve(given)
      const folder = this.folders.get(path)
      if (!folder) return false
      this.folders.delete(path)
      await folder.watcher?.close()
      await this.unshareUnheld([...folder.files.values()].map((f) => f.hash))
      await this.save()
      return true
    })
  }

  /** True when `path` is in a folder shared and followed here (so a new file there is shared anyway). */
  follows(given: string): boolean {
    const path = resolve(given)
    for (const f of this.folders.values()) if (f.watcher && path.startsWith(f.path + sep)) return true
    return false
  }

  list(): SharedFolder[] {
    return [...this.folders.values()].map(view)
  }

  /** Stops every watcher (the shares stay as they are until the peer stops). */
  async close(): Promise<void> {
    this.closed = true
    await Promise.all([...this.folders.values()].map((f) => f.watcher?.close()))
    await this.queue
  }

  /** Resolves once every change seen so far is applied (for tests and an orderly stop). */
  settled(): Promise<void> {
    return this.queue
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn)
    // The queue goes on after a failed step; the caller of that step gets its error.
    this.queue = run.then(
      () => undefined,
      () => undefined,
    )
    return run
  }

  private async addNow(path: string, download: boolean): Promise<SharedFolder> {
    const before = this.folders.get(path)
    const folder: Folder = {
      path,
      download: download || (before?.download ?? false),
      files: new Map(),
      skipped: [],
      skippedCount: 0,
    }
    // Watched from before the scan, so a file added while the folder is hashed is not missed (its event waits in the queue).
    const watcher = this.options.watch !== false && !this.closed ? this.follow(folder) : undefined
    try {
      await this.peer.share(path, {
        hidden: this.options.hidden,
        ignore: isPartialDownload,
        onFile: (record, file) =>
          folder.files.set(file, { hash: record.hash, name: record.name, size: record.size }),
        onSkip: (s) => this.noteSkipped(folder, s),
      })
    } catch (err) {
      await watcher?.close()
      throw err
    }
    folder.watcher = watcher
    if (before) {
      await before.watcher?.close()
      this.folders.delete(path)
      const kept = new Set([...folder.files.values()].map((f) => f.hash))
      await this.unshareUnheld([...before.files.values()].map((f) => f.hash).filter((h) => !kept.has(h)))
    }
    this.folders.set(path, folder)
    if (folder.skippedCount > 0) {
      this.log?.info('not shared', {
        path,
        skipped: folder.skippedCount,
        reasons: countBy(folder.skipped.map((s) => s.reason)),
        hint: this.options.hidden ? undefined : 'hidden files are shared with --share-hidden',
      })
    }
    await this.save()
    return view(folder)
  }

  private noteSkipped(folder: Folder, skipped: SkippedEntry): void {
    if (folder.skipped.some((s) => s.path === skipped.path)) return // seen again by the watcher
    folder.skippedCount++
    if (folder.skipped.length < MAX_SKIPPED_LISTED) folder.skipped.push(skipped)
    this.log?.debug('not shared', { path: skipped.path, reason: skipped.reason })
  }

  /** Watches `folder`: every change is queued and applied in order. */
  private follow(folder: Folder): FSWatcher {
    const root = folder.path
    const settle = this.options.settleTime ?? DEFAULT_SETTLE_TIME
    const watcher = watch(root, {
      ignoreInitial: true,
      followSymlinks: false,
      // Hidden entries below the root, unless asked for; the root itself is the user's choice.
      ignored: (p: string) =>
        p !== root && ((!this.options.hidden && hiddenBelow(root, p)) || isPartialDownload(p)),
      awaitWriteFinish:
        settle > 0 ? { stabilityThreshold: settle, pollInterval: Math.min(100, settle) } : false,
    })
    const queued = (what: string, fn: () => Promise<void>) =>
      void this.serial(async () => {
        if (this.folders.get(root) !== folder) return // removed or rescanned meanwhile
        await fn().catch((err: unknown) => this.log?.warn(`could not apply a ${what}`, { folder: root, err }))
      })
    watcher.on('add', (p) => queued('new file', () => this.fileAdded(folder, p)))
    watcher.on('change', (p) => queued('changed file', () => this.fileChanged(folder, p)))
    watcher.on('unlink', (p) => queued('deleted file', () => this.filesGone(folder, p, false)))
    watcher.on('unlinkDir', (p) => queued('deleted folder', () => this.filesGone(folder, p, true)))
    watcher.on('error', (err) =>
      this.log?.warn(
        'watching a shared folder failed; changes to it may be missed until it is shared again',
        {
          folder: root,
          err,
        },
      ),
    )
    return watcher
  }

  private async fileAdded(folder: Folder, path: string): Promise<void> {
    const st = await lstat(path).catch(() => undefined) // gone again before it settled: nothing to share
    if (!st) return
    if (st.isSymbolicLink() || !st.isFile()) {
      this.noteSkipped(folder, { path, reason: st.isSymbolicLink() ? 'symlink' : 'special' })
      this.log?.info('not shared', { path, reason: st.isSymbolicLink() ? 'symlink' : 'special' })
      return
    }
    const old = folder.files.get(path)
    const file = await this.shareFile(folder, path)
    if (!file) return
    if (old && old.hash !== file.hash) await this.unshareUnheld([old.hash])
    this.log?.info(old ? 'file changed: shared again' : 'file shared', {
      path,
      hash: file.hash,
      size: file.size,
      ...(old && old.hash !== file.hash ? { was: old.hash } : {}),
    })
  }

  private async fileChanged(folder: Folder, path: string): Promise<void> {
    await this.fileAdded(folder, path)
  }

  /** A file, or every file below a folder (`dir`), deleted: unshared unless another shared file holds the same bytes. */
  private async filesGone(folder: Folder, path: string, dir: boolean): Promise<void> {
    const gone: ContentHash[] = []
    const prefix = path + sep
    for (const [p, file] of folder.files) {
      if (p !== path && !(dir && p.startsWith(prefix))) continue
      folder.files.delete(p)
      gone.push(file.hash)
      this.log?.info('file deleted: unshared', { path: p, hash: file.hash })
    }
    if (path === folder.path && !dir) {
      // A file shared on its own (a finished download) is gone: it leaves the list. A shared folder that
      // vanished (an unmounted disk) stays listed, empty, and is shared again at the next start.
      this.folders.delete(path)
      await folder.watcher?.close()
      await this.save()
    }
    await this.unshareUnheld(gone)
  }

  private async shareFile(folder: Folder, path: string): Promise<SharedFile | undefined> {
    let file: SharedFile | undefined
    await this.peer.share(path, {
      onFile: (record) => {
        file = { hash: record.hash, name: record.name, size: record.size }
      },
    })
    if (file) folder.files.set(path, file)
    return file
  }

  /** Unshares those of `hashes` no shared file holds now. */
  private async unshareUnheld(hashes: ContentHash[]): Promise<void> {
    if (hashes.length === 0) return
    const held = new Set<ContentHash>()
    for (const f of this.folders.values()) for (const file of f.files.values()) held.add(file.hash)
    const gone = [...new Set(hashes)].filter((h) => !held.has(h))
    if (gone.length > 0) await this.peer.unshare(gone)
  }

  /** Writes the shared folders to `store` (atomically), so a restart shares them again. */
  private async save(): Promise<void> {
    if (!this.options.store) return
    const data: StoreFile = {
      version: 1,
      shares: [...this.folders.values()].map((f) =>
        f.download ? { path: f.path, download: true } : { path: f.path },
      ),
    }
    try {
      await writeFileAtomic(this.options.store, `${JSON.stringify(data, null, 2)}\n`)
    } catch (err) {
      this.log?.warn('could not save the shared folders; they are shared now but not after a restart', {
        file: this.options.store,
        err,
      })
    }
  }
}

/** True when a path below `root` has a hidden name in it (`root/a/.git/x`). */
function hiddenBelow(root: string, path: string): boolean {
  const rel = relative(root, path)
  if (!rel || rel.startsWith('..')) return false
  return rel.split(sep).some(isHiddenName)
}

function view(folder: Folder): SharedFolder {
  const out: SharedFolder = {
    path: folder.path,
    files: [...folder.files.values()],
    skipped: [...folder.skipped],
    skippedCount: folder.skippedCount,
  }
  if (folder.download) out.download = true
  return out
}

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const v of values) out[v] = (out[v] ?? 0) + 1
  return out
}

/** The folder a path's name is in, and its name: for messages. */
export function describePath(path: string): string {
  return `${basename(path)} in ${dirname(path)}`
}
