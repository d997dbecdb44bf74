import { type FileHandle, open as openFile } from 'node:fs/promises'
import { chunkCount, chunkRange, type FileHash, HASH_SIZE, MerkleTree } from '@peerkit/content'
import { type ContentHash, InvalidOptionsError, NotFoundError } from '@peerkit/core'
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
  // Both made on first use: a simulated peer usually shares nothing.
  private files: Map<ContentHash, SharedFile> | undefined
  /** Open files, least recently used first; a handle evicted while reads use it closes after the last one. */
  private handles: Map<ContentHash, OpenFile> | undefined

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
    await Promise.allSettled([...(this.handles?.keys() ?? [])].map((h) => this.closeHandle(h)))
  }

  async handle(req: TransferRequest): Promise<TransferResponse> {
    const file = this.files?.get(req.hash)
    if (!file) throw new NotFoundError(`content ${req.hash} is not shared here`)
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

  private checkIndex(file: SharedFile, index: number): void {
    if (index >= file.count)
      throw new InvalidOptionsError(`chunk ${index} is past the last chunk (${file.count - 1})`)
  }

  private async read(file: SharedFile, position: number, length: number): Promise<Uint8Array> {
    const data = Buffer.allocUnsafe(length)
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
      open.evicted = true
      if (this.handles?.get(file.hash) === open) this.handles.delete(file.hash)
      throw new NotFoundError(`content ${file.hash} is no longer available here`)
    } finally {
      this.release(open)
    }
    if (got !== length) throw new NotFoundError(`content ${file.hash} is no longer available here`)
    return data
  }

  private acquire(file: SharedFile): OpenFile {
    this.handles ??= new Map()
    let open = this.handles.get(file.hash)
    if (open) {
      // Most recently used goes last.
      this.handles.delete(file.hash)
    } else {
      open = { handle: openFile(file.path, 'r'), users: 0, evicted: false }
      open.handle.catch(() => {})
    }
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

function closeQuietly(open: OpenFile): Promise<void> {
  return open.handle.then((fh) => fh.close()).catch(() => {})
}
