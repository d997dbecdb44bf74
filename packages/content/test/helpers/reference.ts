// An independent reference Merkle tree (RFC 9162 §2.1.1, recursive split at
// the largest power of two), written from the RFC rather than from src/.
import { createHash } from 'node:crypto'

export function sha256(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return h.digest()
}

export function refLeaf(chunk: Uint8Array): Buffer {
  return sha256(Buffer.from([0]), chunk)
}

export function refRoot(leaves: Buffer[]): Buffer {
  if (leaves.length === 1) return leaves[0] as Buffer
  let k = 1
  while (k * 2 < leaves.length) k *= 2
  return sha256(Buffer.from([1]), refRoot(leaves.slice(0, k)), refRoot(leaves.slice(k)))
}

/**
 * A version-2 ContentHash from the definition (docs/architecture.md):
 * SHA-256("peerkit/content-hash" ‖ 0x02 ‖ size u64 BE ‖ chunkSize u32 BE ‖ root).
 */
export function refContentHash(size: number, chunkSize: number, root: Uint8Array): string {
  const header = Buffer.alloc(13)
  header[0] = 2
  header.writeBigUInt64BE(BigInt(size), 1)
  header.writeUInt32BE(chunkSize, 9)
  return sha256(Buffer.from('peerkit/content-hash', 'ascii'), header, root).toString('hex')
}

/** Chunks of `bytes` at `chunkSize`, with one empty chunk for empty input. */
export function refChunks(bytes: Uint8Array, chunkSize: number): Uint8Array[] {
  if (bytes.length === 0) return [new Uint8Array(0)]
  const out: Uint8Array[] = []
  for (let o = 0; o < bytes.length; o += chunkSize) out.push(bytes.subarray(o, o + chunkSize))
  return out
}

/** Deterministic pseudo-random bytes (no randomness in expected values). */
export function bytesOf(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n)
  let x = seed >>> 0 || 1
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}
