import { lstat, readdir, stat } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { join, resolve } from 'node:path'
import { AbortError, throwIfAborted } from '@peerkit/core'
import { chunkCount, chunkSizeFor } from './chunk-size.js'
import type { HashCache } from './hash-cache.js'
import { hashChunks } from './hash-chunks.js'
import { type FileHash, fileHash } from './hash-file.js'
import { HashPool } from './hash-pool.js'
import { HASH_SIZE } from './merkle.js'

/** Below this many bytes to hash, starting worker threads costs more than it saves. */
export const DEFAULT_WORKER_THRESHOLD = 32 * 1024 * 1024
/** One big file is cut into ranges of about this many bytes, hashed in parallel. */
const SEGMENT_BYTES = 16 * 1024 * 1024

export interface HashFolderOptions {
  signal?: AbortSignal
  /** Reuses hashes of files whose path, size and mtime are unchanged. */
  cache?: HashCache
  /**
   * Worker threads to hash with; 0 or 1 hashes in this thread. @default defaultHashWorkers():
   * min(4, cores - 1) from 4 cores on, else 1 (measured: on 2 cores the workers only competed with
   * the main thread, which reads ahead while it hashes, for the same cores)
   */
  workers?: number
  /** Bytes to hash (after cache hits) from which workers are used. @default 32 MiB */
  workerThreshold?: number
  /** Called once per file, in path order, as its hash is known. */
  onFile?: (file: FileHash) => void
  /**
   * Also hash hidden files and folders (names starting with `.`, such as
   * `.ssh` or `.git`) below the folder; a path named itself is never skipped. @default false
   */
  hidden?: boolean
  /** Called for each entry below the folder that is not hashed, with the reason. */
  onSkip?: (skipped: SkippedEntry) => void
  /** Entries below the folder to leave out (reason `ignored`), e.g. partial downloads. */
  ignore?: (path: string) => boolean
}

/** An entry `walk` (and so `hashFolder`) left out, and why. */
export interface SkippedEntry {
  path: string
  /**
   * `hidden`: its name starts with `.`; `symlink`: links are not followed;
   * `special`: a socket, FIFO or device; `unreadable`: a folder below the root this process may not read;
   * `ignored`: the caller's `ignore` said so.
   */
  reason: 'hidden' | 'symlink' | 'special' | 'unreadable' | 'ignored'
}

/** Options of `walk`. */
export interface WalkOptions {
  signal?: AbortSignal
  /** @see HashFolderOptions.hidden */
  hidden?: boolean
  /** @see HashFolderOptions.onSkip */
  onSkip?: (skipped: SkippedEntry) => void
  /** @see HashFolderOptions.ignore */
  ignore?: (path: string) => boolean
}

/** True for a hidden name (`.ssh`, `.DS_Store`): a name starting with a dot. */
export function isHiddenName(name: string): boolean {
  return name.startsWith('.')
}

/** Worker threads used when `workers` is not given: min(4, cores - 1) with 4 cores or more, else 1. */
export function defaultHashWorkers(): number {
  const cores = availableParallelism()
  return cores >= 4 ? Math.min(4, cores - 1) : 1
}

interface Pending {
  path: string
  size: number
  mtimeMs: number
}

/**
 * Hashes a file, or every regular file below a folder (symbolic links are
 * not followed), in path order. Each file is streamed; hashes of unchanged
 * files come from the cache; the rest are cut into chunk ranges and hashed on
 * worker threads when there is enough to hash.
 */
export async function hashFolder(path: string, options: HashFolderOptions = {}): Promise<FileHash[]> {
  const root = resolve(path)
  const files: Pending[] = []
  const { signal, hidden, onSkip, ignore } = options
  for (const file of await walk(root, { signal, hidden, onSkip, ignore })) {
    const st = await stat(file)
    files.push({ path: file, size: st.size, mtimeMs: st.mtimeMs })
  }
  const results = new Array<FileHash | undefined>(files.length)
  const misses: number[] = []
  for (const [i, f] of files.entries()) {
    const hit = await options.cache?.get(f.path, f.size, f.mtimeMs)
    if (hit) results[i] = hit
    else misses.push(i)
  }
  const missBytes = misses.reduce((sum, i) => sum + (files[i] as Pending).size, 0)
  const workers = options.workers ?? defaultHashWorkers()
  const usePool = workers > 1 && missBytes >= (options.workerThreshold ?? DEFAULT_WORKER_THRESHOLD)
  const pool = usePool
    ? new HashPool(Math.min(workers, Math.max(1, Math.ceil(missBytes / SEGMENT_BYTES))))
    : undefined
  let emitted = 0
  const emit = () => {
    for (; emitted < results.length; emitted++) {
      const file = results[emitted]
      if (file === undefined) break
      options.onFile?.(file)
    }
  }
  emit()
  try {
    const hashOne = async (i: number) => {
      const f = files[i] as Pending
      const file = pool ? await hashWithPool(pool, f) : await hashHere(f, options.signal)
      throwIfAborted(options.signal)
      results[i] = file
      await options.cache?.set(file)
      emit()
    }
    if (pool) await Promise.all(misses.map(hashOne))
    else for (const i of misses) await hashOne(i)
  } catch (err) {
    if (options.signal?.aborted) throw new AbortError('hashing aborted', { cause: options.signal.reason })
    throw err
  } finally {
    await pool?.close()
  }
  return results as FileHash[]
}

async function hashHere(f: Pending, signal?: AbortSignal): Promise<FileHash> {
  const chunkSize = chunkSizeFor(f.size)
  const leaves = await hashChunks(f.path, f.size, chunkSize, 0, chunkCount(f.size, chunkSize), { signal })
  return fileHash(f.path, f.size, f.mtimeMs, chunkSize, leaves)
}

async function hashWithPool(pool: HashPool, f: Pending): Promise<FileHash> {
  const chunkSize = chunkSizeFor(f.size)
  const count = chunkCount(f.size, chunkSize)
  const perSegment = Math.max(1, Math.floor(SEGMENT_BYTES / chunkSize))
  const leaves = new Uint8Array(count * HASH_SIZE)
  const jobs: Promise<void>[] = []
  for (let first = 0; first < count; first += perSegment) {
    const end = Math.min(count, first + perSegment)
    jobs.push(
      pool.hash(f.path, f.size, chunkSize, first, end).then((part) => leaves.set(part, first * HASH_SIZE)),
    )
  }
  await Promise.all(jobs)
  return fileHash(f.path, f.size, f.mtimeMs, chunkSize, leaves)
}

/**
 * Regular files at or below `root`, sorted. Below `root`, symbolic links,
 * special files and (unless `hidden`) hidden files and folders are skipped,
 * each told to `onSkip`. A `signal` (or an `AbortSignal` as the second
 * argument, the older form) stops the walk.
 */
export async function walk(root: string, options: WalkOptions | AbortSignal = {}): Promise<string[]> {
  const opts: WalkOptions = options instanceof AbortSignal ? { signal: options } : options
  throwIfAborted(opts.signal)
  const st = await lstat(root)
  if (st.isFile()) return [root]
  if (!st.isDirectory()) return []
  const out: string[] = []
  const entries = await readdir(root, { withFileTypes: true })
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  for (const e of entries) {
    const full = join(root, e.name)
    if (!opts.hidden && isHiddenName(e.name)) opts.onSkip?.({ path: full, reason: 'hidden' })
    else if (opts.ignore?.(full)) opts.onSkip?.({ path: full, reason: 'ignored' })
    else if (e.isFile()) out.push(full)
    else if (e.isDirectory()) out.push(...(await walkBelow(full, opts)))
    else opts.onSkip?.({ path: full, reason: e.isSymbolicLink() ? 'symlink' : 'special' })
  }
  return out
}

/** A folder below the root: one this process may not read is skipped (and told), not the end of the walk. */
async function walkBelow(folder: string, opts: WalkOptions): Promise<string[]> {
  try {
    return await walk(folder, opts)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code !== 'EACCES' && code !== 'EPERM') throw err
    opts.onSkip?.({ path: folder, reason: 'unreadable' })
    return []
  }
}
