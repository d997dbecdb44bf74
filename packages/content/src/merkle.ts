import { sha256 } from './sha256.js'

// No import of @peerkit/core here: the hashing worker threads load this module.

/** Bytes of one SHA-256 digest: every leaf and node. */
export const HASH_SIZE = 32

// Domain separation (as RFC 6962 / RFC 9162): a leaf can never be taken for an
// inner node, so no chunk can be passed off as a subtree.
const LEAF_PREFIX = new Uint8Array([0x00])
const NODE_PREFIX = new Uint8Array([0x01])

/** SHA-256(0x00 ‖ chunk): the leaf hash of one chunk. */
export function hashLeaf(chunk: Uint8Array): Uint8Array {
  return sha256(LEAF_PREFIX, chunk)
}

/**
 * `hashLeaf` off the main thread: WebCrypto's digest runs on libuv's thread
 * pool, so a downloader verifying chunks keeps its event loop for the network.
 * Costs one copy of the chunk (to prepend the 0x00 prefix).
 */
export async function hashLeafAsync(chunk: Uint8Array): Promise<Uint8Array> {
  const prefixed = new Uint8Array(chunk.length + 1)
  prefixed.set(chunk, 1)
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', prefixed))
}

/** SHA-256(0x01 ‖ left ‖ right): an inner node. */
export function hashNode(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(NODE_PREFIX, left, right)
}

/** The `i`-th 32-byte leaf of a concatenated leaf list. */
export function leafAt(leaves: Uint8Array, i: number): Uint8Array {
  return leaves.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE)
}

/**
 * One level up: nodes are paired left to right; a last node without a
 * partner is promoted unchanged (not hashed with itself, not duplicated).
 * This gives the same root as RFC 9162's split at the largest power of two.
 */
export function parentLevel(level: Uint8Array): Uint8Array {
  const n = level.length / HASH_SIZE
  const out = new Uint8Array(Math.ceil(n / 2) * HASH_SIZE)
  for (let i = 0; i + 1 < n; i += 2)
    out.set(hashNode(leafAt(level, i), leafAt(level, i + 1)), (i / 2) * HASH_SIZE)
  if (n % 2 === 1) out.set(leafAt(level, n - 1), ((n - 1) / 2) * HASH_SIZE)
  return out
}

/**
 * The Merkle root of a concatenated leaf list (at least one leaf). Not a
 * ContentHash by itself: `contentHash` binds it to the size and chunking.
 */
export function merkleRoot(leaves: Uint8Array): Uint8Array {
  if (leaves.length === 0 || leaves.length % HASH_SIZE !== 0) {
    throw new RangeError(`a leaf list is a non-empty multiple of ${HASH_SIZE} bytes (got ${leaves.length})`)
  }
  let level = leaves
  while (level.length > HASH_SIZE) level = parentLevel(level)
  return level.slice()
}

/**
 * Checks an inclusion proof (sibling hashes from the leaf up, RFC 9162
 * §2.1.3.2): true when `leaf` is leaf `index` of a `count`-leaf tree with
 * Merkle root `root`. The root is not a ContentHash (which also commits to the
 * size and chunking): to check a chunk against a ContentHash, use
 * `verifyChunk`. Never throws for bad input.
 */
export function verifyProof(
  root: Uint8Array,
  index: number,
  count: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(count) || index < 0 || index >= count)
    return false
  if (!(root instanceof Uint8Array) || root.length !== HASH_SIZE) return false
  if (leaf.length !== HASH_SIZE || proof.some((p) => p.length !== HASH_SIZE)) return false
  let fn = index
  let sn = count - 1
  let r = leaf
  for (const p of proof) {
    if (sn === 0) return false
    if (fn % 2 === 1 || fn === sn) {
      r = hashNode(p, r)
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2)
        sn = Math.floor(sn / 2)
      }
    } else {
      r = hashNode(r, p)
    }
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  return sn === 0 && equalBytes(r, root)
}

/** Constant-shape byte comparison. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number)
  return diff === 0
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

export function toHex(bytes: Uint8Array): string {
  let out = ''
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i] as number]
  return out
}

/** The bytes of a hex string; an odd length or a non-hex digit throws `RangeError`. */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex))
    throw new RangeError(`not a hex string: ${hex.slice(0, 80)}`)
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16)
  return out
}
