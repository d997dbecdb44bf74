import { chunkCount, chunkRange, type FileHash, HASH_SIZE, MerkleTree } from '@peerkit/content'
import { type ContentHash, InvalidOptionsError, NotFoundError } from '@peerkit/core'
import { type FileHandle, open as openFile } from './host-files.js'
import { MAX_LEAVES_PER_MESSAGE, type TransferRequest, type TransferResponse } from './messages.js'

/** Open file handles kept for serving; the least recently used is closed beyond this. */
const MAX_OPEN_FILES = 64

interface OpenFile {
  handle: Promise<FileHandle>
  users: number
  evicted: boolean
}

export interface SharedFile {
  hash: ContentHash
  path: string
  size: number
  /** The file's mtime when it was hashed: a file whose size or mtime differs is no longer served. */
  mtimeMs: number
  chunkSize: number
  count: number
  tree: MerkleTree
}

/**
 * Answers `peerkit/transfer/2` requests for the files this peer shares, and
 * for nothing else: files are found by content hash in the share table only,
 * never by a path from the wire. Unknown hashes and out-of-range requests get
 * typed errors that reveal nothing about the local file system.
 */
export class ChunkServer {
  readonly [Symbol.toStringTag] = '@peerkit/transfer:ChunkServer'
  /**
   * Told when a shared file is found changed (size or mtime) or gone from
   * disk while serving it: it is no longer served, and the caller withdraws
   * its record.
   */
  onGone: ((file: SharedFile, why: 'changed' | 'gone') => void) | undefined

  // Both made on first use: a simulated peer usually shares nothing.
  private files: Map<ContentHash, SharedFile> | undefined
  /** Open files, least recently used first; a handle evicted while reads use it closes after the last one. */
  private handles: Map<ContentHash, OpenFile> | undefined
  /** Set by `close`: a request still in flight then reads through a handle of its own, closed after it. */
  private closed = false

  get size(): number {
    return this.files?.size ?? 0
  }

  has(hash: ContentHash): boolean {
    return this.files?.has(hash) ?? false
  }

  get(hash: ContentHash): SharedFile | undefined {
    return this.files?.get(hash)
  }

  hashes(): ContentHash[] {
    return [...(this.files?.keys() ?? [])]
  }

  add(file: FileHash): SharedFile {
    const shared: SharedFile = {
      hash: file.hash,
      path: file.path,
      size: file.size,
      mtimeMs: file.mtimeMs,
      chunkSize: file.chunkSize,
      count: chunkCount(file.size, file.chunkSize),
      tree: new MerkleTree(file.leaves),
    }
    this.files ??= new Map()
    const old = this.files.get(file.hash)
    if (old && old.path !== file.path) void this.closeHandle(file.hash)
    this.files.set(file.hash, shared)
    return shared
  }

  async remove(hash: ContentHash): Promise<boolean> {
    const had = this.files?.delete(hash) ?? false
    await this.closeHandle(hash)
    return had
  }

  async close(): Promise<void> {
    this.closed = true
    await Promise.allSettled([...(this.handles?.keys() ?? [])].map((h) => this.closeHandle(h)))
  }

  async handle(req: TransferRequest): Promise<TransferResponse> {
    const file = this.files?.get(req.hash)
    if (!file) throw new NotFoundError(`content ${req.hash} is not shared here`)
    // Every answer is for the bytes that were hashed: a file changed since is withdrawn, never served stale.
    await this.checkUnchanged(file)
    switch (req.op) {
      case 'manifest': {
        if (req.from >= file.count) {
          throw new InvalidOptionsError(
            `manifest from ${req.from} is past the last chunk (${file.count - 1})`,
          )
        }
        const end = Math.min(file.count, req.from + Math.min(req.count, MAX_LEAVES_PER_MESSAGE))
        const leaves = file.tree.leaves.subarray(req.from * HASH_SIZE, end * HASH_SIZE)
        return {
          op: 'manifest',
          size: file.size,
          chunkSize: file.chunkSize,
          count: file.count,
          root: file.tree.root,
          from: req.from,
          leaves,
        }
      }
      case 'proof': {
        this.checkIndex(file, req.index)
        return {
          op: 'proof',
          size: file.size,
          chunkSize: file.chunkSize,
          count: file.count,
          root: file.tree.root,
          leaf: file.tree.leaf(req.index),
          proof: file.tree.proof(req.index),
        }
      }
      case 'chunk': {
        this.checkIndex(file, req.index)
        const range = chunkRange(req.index, file.size, file.chunkSize)
        if (req.offset + req.length > range.length) {
          throw new InvalidOptionsError(
            `bytes ${req.offset}..${req.offset + req.length} are past the end of chunk ${req.index} (${range.length} bytes)`,
          )
        }
        return { op: 'chunk', data: await this.read(file, range.offset + req.offset, req.length) }
      }
    }
  }

  /**
   * Throws `NotFoundError` (and withdraws the file) when the file on disk is
   * gone or its size or mtime differ from what was hashed. Checked on the open
   * handle: a file replaced by a rename is still read from the handle that
   * holds the hashed bytes, until that handle closes.
   */
  private async checkUnchanged(file: SharedFile): Promise<void> {
    const open = this.acquire(file)
    let why: 'changed' | 'gone' | undefined
    try {
      const st = await (await open.handle).stat()
      if (st.size !== file.size || st.mtimeMs !== file.mtimeMs) why = 'changed'
    } catch {
      why = 'gone' // the file cannot be opened or read any more: the same answer as a file deleted
    } finally {
      this.release(open)
    }
    if (why === undefined) return
    await this.withdraw(file, why)
    throw new NotFoundError(
      why === 'changed'
        ? `content ${file.hash} changed on the provider's disk after it was shared, so it is no longer served under this hash; search again for the new version`
        : `content ${file.hash} is no longer available here`,
    )
  }

  /** Stops serving a file found changed or gone, and tells `onGone` (once). */
  private async withdraw(file: SharedFile, why: 'changed' | 'gone'): Promise<void> {
    if (this.files?.get(file.hash) !== file) return
    this.files.delete(file.hash)
    await this.closeHandle(file.hash)
    this.onGone?.(file, why)
  }

  private checkIndex(file: SharedFile, index: number): void {
    if (index >= file.count)
      throw new InvalidOptionsError(`chunk ${index} is past the last chunk (${file.count - 1})`)
  }

  private async read(file: SharedFile, position: number, length: number): Promise<Uint8Array> {
    const data = new Uint8Array(length)
    let got = 0
    const open = this.acquire(file)
    try {
      const fh = await open.handle
      while (got < length) {
        const { bytesRead } = await fh.read(data, got, length - got, position + got)
        if (bytesRead === 0) break
        got += bytesRead
      }
    } catch {
      // The file can no longer be read: withdrawn like a deleted one (the requester is told below).
      open.evicted = true
      if (this.handles?.get(file.hash) === open) this.handles.delete(file.hash)
      this.release(open)
      await this.withdraw(file, 'gone')
      throw new NotFoundError(`content ${file.hash} is no longer available here`)
    }
    this.release(open)
    if (got !== length) {
      await this.withdraw(file, 'changed')
      throw new NotFoundError(
        `content ${file.hash} changed on the provider's disk after it was shared, so it is no longer served under this hash; search again for the new version`,
      )
    }
    return data
  }

  private acquire(file: SharedFile): OpenFile {
    if (this.closed || this.files?.get(file.hash) !== file) {
      // A request that began before the file was unshared or the server closed: its handle is kept by
      // nobody else, so it closes when this request releases it (kept in the table, it would stay open).
      const own = opened(file)
      own.users = 1
      own.evicted = true
      return own
    }
    this.handles ??= new Map()
    let open = this.handles.get(file.hash)
    if (open) {
      // Most recently used goes last.
      this.handles.delete(file.hash)
    } else open = opened(file)
    this.handles.set(file.hash, open)
    open.users++
    for (const [hash, oldest] of this.handles) {
      if (this.handles.size <= MAX_OPEN_FILES) break
      this.handles.delete(hash)
      oldest.evicted = true
      if (oldest.users === 0) closeQuietly(oldest)
    }
    return open
  }

  private release(open: OpenFile): void {
    open.users--
    if (open.evicted && open.users === 0) closeQuietly(open)
  }

  private async closeHandle(hash: ContentHash): Promise<void> {
    const open = this.handles?.get(hash)
    this.handles?.delete(hash)
    if (!open) return
    open.evicted = true
    if (open.users === 0) await closeQuietly(open)
  }
}

/** A handle opening `file` for reading, used by nobody yet. */
function opened(file: SharedFile): OpenFile {
  const open: OpenFile = { handle: openFile(file.path, 'r'), users: 0, evicted: false }
  open.handle.catch(() => {}) // a failed open is handled where the handle is awaited (checkUnchanged, read)
  return open
}

function closeQuietly(open: OpenFile): Promise<void> {
  return open.handle.then((fh) => fh.close()).catch(() => {}) // never opened, or failed to close: nothing more to release
}
