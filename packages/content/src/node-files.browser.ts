/**
 * The browser build of the modules that hash files by path (`hash-file`,
 * `hash-chunks`, `hash-folder`, `hash-cache`, `hash-pool`; package.json's
 * `browser` field maps each to this one). Paths name files in the
 * origin-private file system (OPFS): `hashFolder` and `walk` read them there,
 * so `peer.share('/shares')` works in a page as on Node. A file whose hash
 * the page computed already (in a Web Worker) and gave `rememberFileHash` is
 * not read again. There is no HashCache and no worker-thread pool here.
 */
import { AbortError, InvalidOptionsError } from '@peerkit/core'
import { chunkCount, chunkSizeFor } from './chunk-size.js'
import { type FileHash, fileHash } from './file-hash.js'
import type { HashFolderOptions, WalkOptions } from './hash-folder.js'
import { knownFileHash } from './known-hashes.js'
import { HASH_SIZE, hashLeafAsync } from './merkle.js'

export { type FileHash, fileHash, hashBytes } from './file-hash.js'
export type { HashRangeOptions } from './hash-chunks.js'
export type { HashFolderOptions, SkippedEntry, WalkOptions } from './hash-folder.js'

const noPaths = (what: string, path: string) =>
  new InvalidOptionsError(
    `${what}(${JSON.stringify(path)}) needs a file system, which a browser page does not have: ` +
      'hash the bytes the user picked (hashBytes, or hashLeaf per chunk in a Worker) and build the record with fileHash',
  )

export const HASH_CACHE_DIR = 'hash-cache'
export const DEFAULT_WORKER_THRESHOLD = 32 * 1024 * 1024

export function isHiddenName(name: string): boolean {
  return name.startsWith('.')
}

export function defaultHashWorkers(): number {
  return 1
}

interface OpfsFile {
  size: number
  lastModified: number
  slice(start: number, end: number): { arrayBuffer(): Promise<ArrayBuffer> }
}
interface OpfsEntry {
  kind: 'file' | 'directory'
  name: string
  getFile?(): Promise<OpfsFile>
  getDirectoryHandle?(name: string): Promise<OpfsEntry>
  getFileHandle?(name: string): Promise<OpfsEntry>
  values?(): AsyncIterable<OpfsEntry>
}

async function opfsEntry(path: string): Promise<OpfsEntry> {
  const storage = (globalThis as { navigator?: { storage?: { getDirectory?: () => Promise<OpfsEntry> } } })
    .navigator?.storage
  if (!storage?.getDirectory) throw noPaths('hashFolder', path)
  let entry = await storage.getDirectory()
  const names = path.split('/').filter((n) => n !== '' && n !== '.')
  for (const [i, name] of names.entries()) {
    const dir = entry
    entry = await (dir.getDirectoryHandle as (n: string) => Promise<OpfsEntry>)(name).catch(async (err) => {
      if (i < names.length - 1) throw err
      return (dir.getFileHandle as (n: string) => Promise<OpfsEntry>)(name)
    })
  }
  return entry
}

/** The leaves of an OPFS file, chunk by chunk (WebCrypto's SHA-256, off the page's thread). */
async function hashOpfsFile(path: string, file: OpfsFile, signal?: AbortSignal): Promise<FileHash> {
  const chunkSize = chunkSizeFor(file.size)
  const count = chunkCount(file.size, chunkSize)
  const leaves = new Uint8Array(count * HASH_SIZE)
  for (let i = 0; i < count; i++) {
    if (signal?.aborted) throw new AbortError('hashing aborted', { cause: signal.reason })
    const chunk = new Uint8Array(
      await file.slice(i * chunkSize, Math.min(file.size, (i + 1) * chunkSize)).arrayBuffer(),
    )
    leaves.set(await hashLeafAsync(chunk), i * HASH_SIZE)
  }
  return fileHash(path, file.size, file.lastModified, chunkSize, leaves)
}

export async function hashFile(path: string, options: { signal?: AbortSignal } = {}): Promise<FileHash> {
  const entry = await opfsEntry(path)
  if (entry.kind !== 'file') throw new RangeError(`${path} is not a regular file`)
  const file = await (entry.getFile as () => Promise<OpfsFile>)()
  return knownFileHash(path, file.size, file.lastModified) ?? hashOpfsFile(path, file, options.signal)
}

export async function hashChunks(path: string): Promise<Uint8Array> {
  throw noPaths('hashChunks', path)
}

/** Every file below an OPFS path (itself, when it names a file), in path order; hidden names left out unless asked. */
export async function walk(root: string, options: WalkOptions | AbortSignal = {}): Promise<string[]> {
  const opts = options instanceof AbortSignal ? { signal: options } : options
  const base = `/${root
    .split('/')
    .filter((n) => n !== '' && n !== '.')
    .join('/')}`
  const entry = await opfsEntry(base)
  if (entry.kind === 'file') return [base]
  const out: string[] = []
  const visit = async (dir: OpfsEntry, at: string) => {
    const children: OpfsEntry[] = []
    for await (const child of (dir.values as () => AsyncIterable<OpfsEntry>)()) children.push(child)
    children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    for (const child of children) {
      const path = `${at === '/' ? '' : at}/${child.name}`
      if (isHiddenName(child.name) && !opts.hidden) {
        opts.onSkip?.({ path, reason: 'hidden' })
        continue
      }
      if (child.kind === 'file') out.push(path)
      else await visit(child, path)
    }
  }
  await visit(entry, base)
  return out
}

export async function hashFolder(path: string, options: HashFolderOptions = {}): Promise<FileHash[]> {
  const out: FileHash[] = []
  for (const file of await walk(path, {
    signal: options.signal,
    hidden: options.hidden,
    onSkip: options.onSkip,
  })) {
    const hashed = await hashFile(file, { signal: options.signal })
    options.onFile?.(hashed)
    out.push(hashed)
  }
  return out
}

export class HashCache {
  constructor(dataDir: string) {
    throw noPaths('new HashCache', dataDir)
  }
}

export class HashPool {
  constructor(_size: number) {
    throw new InvalidOptionsError('HashPool runs Node worker threads: in a browser, hash in a Web Worker')
  }
}
