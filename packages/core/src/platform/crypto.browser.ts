import { ed25519 } from '@noble/curves/ed25519.js'
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'
import type { Ed25519Signer } from './crypto.js'

/**
 * The primitives core needs, in a browser: @noble/curves (Ed25519, RFC 8032)
 * and @noble/hashes (SHA-256), audited pure-JS code; WebCrypto's Ed25519 is
 * asynchronous only, and signatures here are synchronous. Same signatures
 * and digests as `crypto.ts` (Node), checked against the same vectors.
 */

export type { Ed25519Signer } from './crypto.js'

/** Which implementation this build uses. */
export const CRYPTO_BACKEND: 'node' | 'noble' = 'noble'

export function ed25519Signer(seed: Uint8Array): Ed25519Signer {
  const secret = seed.slice()
  return {
    publicKey: ed25519.getPublicKey(secret),
    sign: (data) => ed25519.sign(data, secret),
  }
}

export function ed25519Verifier(publicKey: Uint8Array): (data: Uint8Array, signature: Uint8Array) => boolean {
  // Throws for a key that is not a point (Node's key import does not check; its verifier then accepts nothing).
  ed25519.Point.fromBytes(publicKey)
  const key = publicKey.slice()
  return (data, signature) => {
    try {
      return ed25519.verify(signature, data, key, { zip215: false })
    } catch {
      return false // a malformed signature does not verify
    }
  }
}

export function sha256(...parts: readonly Uint8Array[]): Uint8Array {
  const h = nobleSha256.create()
  for (const p of parts) h.update(p)
  return h.digest()
}
