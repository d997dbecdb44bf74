import { resolve } from 'node:path'
import type { ContentHash, FileRecord, Peer } from '@peerkit/core'

/** One shared folder (or file) and the files it gave. */
export interface SharedFolder {
  path: string
  files: Array<Pick<FileRecord, 'hash' | 'name' | 'size'>>
}

/**
 * The folders a node shares, by the path they were shared from: `--share` at
 * start, and those added and removed through the API (`/shares`). Removing a
 * folder unshares its files, except those another shared folder holds too.
 * Paths are kept resolved (`/a/b/` and `/a/./b` are `/a/b`).
 */
export class ShareRegistry {
  private readonly folders = new Map<string, SharedFolder>()

  constructor(private readonly peer: Peer) {}

  /** Records what `peer.share(path)` gave, for a folder shared before the registry existed. */
  record(given: string, records: FileRecord[]): SharedFolder {
    const path = resolve(given)
    const folder: SharedFolder = {
      path,
      files: records.map((r) => ({ hash: r.hash, name: r.name, size: r.size })),
    }
    this.folders.set(path, folder)
    return folder
  }

  /** Shares `path` (again: a second call rescans it) and returns its files. */
  async add(given: string): Promise<SharedFolder> {
    const path = resolve(given)
    const records = await this.peer.share(path)
    const before = this.folders.get(path)
    const folder = this.record(path, records)
    if (before) await this.unshareOrphans(before)
    return folder
  }

  /** Stops sharing `path`; false when it is not shared. */
  async remove(given: string): Promise<boolean> {
    const path = resolve(given)
    const folder = this.folders.get(path)
    if (!folder) return false
    this.folders.delete(path)
    await this.unshareOrphans(folder)
    return true
  }

  list(): SharedFolder[] {
    return [...this.folders.values()]
  }

  /** Unshares the files of `folder` that no shared folder holds now. */
  private async unshareOrphans(folder: SharedFolder): Promise<void> {
    const held = new Set<ContentHash>()
    for (const f of this.folders.values()) for (const file of f.files) held.add(file.hash)
    const gone = folder.files.map((f) => f.hash).filter((h) => !held.has(h))
    if (gone.length > 0) await this.peer.unshare(gone)
  }
}
