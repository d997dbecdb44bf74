import { x25519 } from '@noble/curves/ed25519.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'
import type { Ephemeral } from './secure-crypto.js'

/** The browser build of `secure-crypto.ts`: @noble/curves and @noble/hashes (audited, pure JS). */

export type { Ephemeral } from './secure-crypto.js'

export function x25519Ephemeral(): Ephemeral {
  const secret = x25519.utils.randomSecretKey()
  return {
    publicKey: x25519.getPublicKey(secret),
    agree: (remote) => {
      if (remote.length !== 32)
        throw new RangeError(`an X25519 public key is 32 bytes (got ${remote.length})`)
      return x25519.getSharedSecret(secret, remote)
    },
  }
}

export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  return hkdf(nobleSha256, ikm, salt, info, length)
}

export function sha256(...parts: readonly Uint8Array[]): Uint8Array {
  const h = nobleSha256.create()
  for (const p of parts) h.update(p)
  return h.digest()
}
