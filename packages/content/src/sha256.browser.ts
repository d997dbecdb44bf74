import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'

/** SHA-256 of the concatenation of `parts`, with @noble/hashes (audited, pure JS): the browser build of `sha256.ts`. */
export function sha256(...parts: readonly Uint8Array[]): Uint8Array {
  const h = nobleSha256.create()
  for (const p of parts) h.update(p)
  return h.digest()
}
