import type { ContentHash } from '@peerkit/core'
import { chunkCount, chunkSizeFor } from './chunk-size.js'
import { contentHash } from './content-hash.js'
import { HASH_SIZE, hashLeaf, merkleRoot } from './merkle.js'

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

/** The last segment of a path (`/` or `\\` separated): a browser has no node:path. */
function baseName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path
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
  return { path, name: baseName(path), size, mtimeMs, chunkSize, hash, root, leaves }
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
    leaves.set(hashLeaf(chunk), i * HASH_SIZE)
  }
  const root = merkleRoot(leaves)
  return { hash: contentHash({ size: bytes.length, chunkSize, root }), chunkSize, root, leaves }
}
