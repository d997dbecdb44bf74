import { createHash } from 'node:crypto'
import { stat } from 'node:fs/promises'
import { basename, resolve } from 'node:path'
import { AbortError, type ContentHash } from '@peerkit/core'
import { chunkCount, chunkSizeFor } from './chunk-size.js'
import { contentHash } from './content-hash.js'
import { type HashRangeOptions, hashChunks } from './hash-chunks.js'
import { HASH_SIZE, merkleRoot } from './merkle.js'

const LEAF_PREFIX = Buffer.from([0x00])

/** A hashed file: its content hash, the chunking, and every leaf (for proofs). */
export interface FileHash {
  /** Absolute path. */
  path: string
  /** The file name (last path segment). */
  name: string
  size: number
  mtimeMs: number
  chunkSize: number
  /** The ContentHash (version 2): see `contentHash`. */
  hash: ContentHash
  /** The Merkle root over the leaves (what `hash` commits to, with the size and chunk size). */
  root: Uint8Array
  /** The 32-byte leaf hashes, concatenated (`chunkCount × 32` bytes). */
  leaves: Uint8Array
}

/** Hashes one file in this thread, streaming it. */
export async function hashFile(path: string, options: HashRangeOptions = {}): Promise<FileHash> {
  const abs = resolve(path)
  const st = await stat(abs)
  if (!st.isFile()) throw new RangeError(`${abs} is not a regular file`)
  const chunkSize = chunkSizeFor(st.size)
  const leaves = await hashChunks(abs, st.size, chunkSize, 0, chunkCount(st.size, chunkSize), options).catch(
    (err) => {
      if (options.signal?.aborted) throw new AbortError('hashing aborted', { cause: options.signal.reason })
      throw err
    },
  )
  return fileHash(abs, st.size, st.mtimeMs, chunkSize, leaves)
}

/** Assembles a FileHash from its leaves (computing the root and the ContentHash). */
export function fileHash(
  path: string,
  size: number,
  mtimeMs: number,
  chunkSize: number,
  leaves: Uint8Array,
): FileHash {
  const root = merkleRoot(leaves)
  const hash = contentHash({ size, chunkSize, root })
  return { path, name: basename(path), size, mtimeMs, chunkSize, hash, root, leaves }
}

/** The content hash of bytes in memory (tests, small payloads). */
export function hashBytes(bytes: Uint8Array): {
  hash: ContentHash
  chunkSize: number
  root: Uint8Array
  leaves: Uint8Array
} {
  const chunkSize = chunkSizeFor(bytes.length)
  const count = chunkCount(bytes.length, chunkSize)
  const leaves = new Uint8Array(count * HASH_SIZE)
  for (let i = 0; i < count; i++) {
    const chunk = bytes.subarray(i * chunkSize, Math.min((i + 1) * chunkSize, bytes.length))
    leaves.set(createHash('sha256').update(LEAF_PREFIX).update(chunk).digest(), i * HASH_SIZE)
  }
  const root = merkleRoot(leaves)
  return { hash: contentHash({ size: bytes.length, chunkSize, root }), chunkSize, root, leaves }
}
