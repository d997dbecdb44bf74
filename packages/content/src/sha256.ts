import { createHash } from 'node:crypto'

// No import of @peerkit/core here: the hashing worker threads load this module.

/**
 * SHA-256 of the concatenation of `parts`, with node:crypto (OpenSSL). A
 * browser bundle gets `sha256.browser.ts` (package.json's `browser` field),
 * the same digest with @noble/hashes.
 */
export function sha256(...parts: readonly Uint8Array[]): Uint8Array {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}
