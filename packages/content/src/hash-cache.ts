import { createHash } from 'node:crypto'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { chunkCount } from './chunk-size.js'
import { type FileHash, fileHash } from './hash-file.js'
import { HASH_SIZE } from './merkle.js'

/** Sub-folder of the peer's data folder that holds the cache. */
export const HASH_CACHE_DIR = 'hash-cache'

/**
 * The entry format. 2: `hash` is a version-2 ContentHash (see `contentHash`);
 * entries of version 1 (bare Merkle roots) are misses, and are rewritten.
 */
const ENTRY_VERSION = 2

interface Entry {
  v: typeof ENTRY_VERSION
  path: string
  size: number
  mtimeMs: number
  chunkSize: number
  hash: string
  leaves: string
}

/**
 * Remembers file hashes across runs, one small JSON file per path under
 * `<dataDir>/hash-cache/`, keyed by absolute path, size and mtime: a file
 * whose size or mtime changed is hashed again. An entry that does not parse,
 * is of another format version (an older ContentHash definition), or whose
 * leaves do not give its hash, is a miss.
 */
export class HashCache {
  readonly [Symbol.toStringTag] = '@peerkit/content:HashCache'
  readonly dir: string
  hits = 0
  misses = 0

  constructor(dataDir: string) {
    this.dir = join(dataDir, HASH_CACHE_DIR)
  }

  async get(path: string, size: number, mtimeMs: number): Promise<FileHash | undefined> {
    let entry: Entry
    try {
      entry = JSON.parse(await readFile(this.fileOf(path), 'utf8')) as Entry
    } catch {
      // No entry, or one that does not parse: a miss, and the file is hashed again (nothing served from it).
      this.misses++
      return undefined
    }
    if (
      entry?.v !== ENTRY_VERSION ||
      entry.path !== path ||
      entry.size !== size ||
      entry.mtimeMs !== mtimeMs
    ) {
      this.misses++
      return undefined
    }
    const leaves = new Uint8Array(Buffer.from(String(entry.leaves), 'base64'))
    if (
      typeof entry.chunkSize !== 'number' ||
      leaves.length !== chunkCount(size, entry.chunkSize) * HASH_SIZE ||
      fileHashOrUndefined(entry, leaves)?.hash !== entry.hash
    ) {
      this.misses++
      return undefined
    }
    this.hits++
    return fileHash(path, size, mtimeMs, entry.chunkSize, leaves)
  }

  async set(file: FileHash): Promise<void> {
    const entry: Entry = {
      v: ENTRY_VERSION,
      path: file.path,
      size: file.size,
      mtimeMs: file.mtimeMs,
      chunkSize: file.chunkSize,
      hash: file.hash,
      leaves: Buffer.from(file.leaves.buffer, file.leaves.byteOffset, file.leaves.length).toString('base64'),
    }
    await mkdir(this.dir, { recursive: true })
    const target = this.fileOf(file.path)
    const tmp = `${target}.${process.pid}.tmp`
    await writeFile(tmp, JSON.stringify(entry))
    await rename(tmp, target)
  }

  private fileOf(path: string): string {
    return join(this.dir, `${createHash('sha256').update(path).digest('hex')}.json`)
  }
}

function fileHashOrUndefined(entry: Entry, leaves: Uint8Array): FileHash | undefined {
  try {
    return fileHash(entry.path, entry.size, entry.mtimeMs, entry.chunkSize, leaves)
  } catch {
    return undefined // an entry whose fields give no hash is a miss (see get)
  }
}
