/**
 * The browser build's stand-in for the modules that hash files by path
 * (`hash-file`, `hash-chunks`, `hash-folder`, `hash-cache`, `hash-pool`;
 * package.json's `browser` field maps each to this one): a page has no paths.
 * It hashes what the user picks with `hashBytes`, or chunk by chunk with
 * `hashLeaf` in a Web Worker, and builds the record with `fileHash`.
 * Everything here throws `InvalidOptionsError` saying so, except the pure
 * helpers, which work as on Node.
 */
import { InvalidOptionsError } from '@peerkit/core'
import type { FileHash } from './file-hash.js'
import type { HashFolderOptions, WalkOptions } from './hash-folder.js'

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

export async function hashFile(path: string): Promise<FileHash> {
  throw noPaths('hashFile', path)
}

export async function hashChunks(path: string): Promise<Uint8Array> {
  throw noPaths('hashChunks', path)
}

export async function hashFolder(path: string, _options: HashFolderOptions = {}): Promise<FileHash[]> {
  throw noPaths('hashFolder', path)
}

export async function walk(root: string, _options: WalkOptions | AbortSignal = {}): Promise<string[]> {
  throw noPaths('walk', root)
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
