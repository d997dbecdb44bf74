import type { ContentHash } from '@peerkit/core'
import { chunkCount, chunkSizeFor, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE } from './chunk-size.js'
import { HASH_SIZE, hashLeaf, toHex, verifyProof } from './merkle.js'
import { sha256 } from './sha256.js'

/**
 * The version of the ContentHash definition. 1 was the bare Merkle root,
 * which let a one-leaf manifest pass for any hash; 2 commits to the size and
 * the chunking too. Hashes of different versions never equal one another.
 */
export const CONTENT_HASH_VERSION = 2

/** The domain tag that opens every ContentHash preimage (ASCII, 20 bytes). */
export const CONTENT_HASH_TAG = 'peerkit/content-hash'

const TAG = new TextEncoder().encode(CONTENT_HASH_TAG)

/** What a ContentHash commits to: the file size, its chunk size (so the leaf count), and the Merkle root. */
export interface ContentCommitment {
  size: number
  chunkSize: number
  /** The Merkle root over the chunks' leaf hashes (32 bytes). */
  root: Uint8Array
}

/**
 * Why `(size, chunkSize)` is not a version-2 chunking, or `undefined` when it
 * is: the size is a safe non-negative integer, and the chunk size is in
 * [MIN_CHUNK_SIZE, MAX_CHUNK_SIZE] and the one `chunkSizeFor(size)` gives.
 * Without a chunk size, only the size is checked.
 */
export function chunkingError(size: unknown, chunkSize?: unknown): string | undefined {
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
    return `size must be a non-negative safe integer (got ${String(size)})`
  if (chunkSize === undefined) return undefined
  if (
    typeof chunkSize !== 'number' ||
    !Number.isInteger(chunkSize) ||
    chunkSize < MIN_CHUNK_SIZE ||
    chunkSize > MAX_CHUNK_SIZE
  )
    return `chunk size must be an integer in [${MIN_CHUNK_SIZE}, ${MAX_CHUNK_SIZE}] (got ${String(chunkSize)})`
  const expected = chunkSizeFor(size)
  if (chunkSize !== expected) return `chunk size of a ${size}-byte file is ${expected} (got ${chunkSize})`
  return undefined
}

/**
 * A file's ContentHash (version 2), as 64 lowercase hex digits:
 *
 *     SHA-256( "peerkit/content-hash" ‖ 0x02 ‖ size (u64 BE) ‖ chunkSize (u32 BE) ‖ root )
 *
 * where `root` is the Merkle root over the leaf hashes (leaf =
 * SHA-256(0x00 ‖ chunk), node = SHA-256(0x01 ‖ left ‖ right)). So the hash
 * fixes the size, the chunking and the leaf count as well as the bytes: a
 * manifest that claims another size, or fewer or more leaves, cannot match it.
 * Throws `RangeError` for a chunking `chunkingError` refuses or a root that
 * is not 32 bytes.
 */
export function contentHash({ size, chunkSize, root }: ContentCommitment): ContentHash {
  const bad = chunkingError(size, chunkSize)
  if (bad) throw new RangeError(bad)
  if (!(root instanceof Uint8Array) || root.length !== HASH_SIZE)
    throw new RangeError(`a Merkle root is ${HASH_SIZE} bytes (got ${root?.length})`)
  const header = new Uint8Array(1 + 8 + 4)
  const view = new DataView(header.buffer)
  view.setUint8(0, CONTENT_HASH_VERSION)
  view.setBigUint64(1, BigInt(size))
  view.setUint32(9, chunkSize)
  return toHex(sha256(TAG, header, root))
}

/** True when `commitment` gives `hash`; never throws. */
export function commitsTo(hash: ContentHash, commitment: ContentCommitment): boolean {
  try {
    return contentHash(commitment) === hash
  } catch {
    return false // a malformed commitment gives no hash, so it matches none
  }
}

/**
 * Checks one chunk against a ContentHash: `file` (size, chunk size, root, as
 * a provider's proof answer carries them) must give `hash`, and `proof` must
 * lead from the chunk's leaf to `file.root` in a tree of
 * `chunkCount(size, chunkSize)` leaves. Never throws for bad input.
 */
export function verifyChunk(
  hash: ContentHash,
  file: ContentCommitment,
  index: number,
  chunk: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!commitsTo(hash, file)) return false
  return verifyProof(file.root, index, chunkCount(file.size, file.chunkSize), hashLeaf(chunk), proof)
}
