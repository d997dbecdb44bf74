import { createHash, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync } from 'node:crypto'

/**
 * The key agreement of the `peerkit-tcp/1` handshake on Node (node:crypto,
 * OpenSSL). A browser bundle gets `secure-crypto.browser.ts` (package.json's
 * `browser` field): X25519, HKDF and SHA-256 from @noble/curves and
 * @noble/hashes, the same bytes (checked against each other in the tests).
 */

const X25519_SPKI_PREFIX = new Uint8Array([
  0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00,
])

/** An ephemeral X25519 key pair: its 32-byte public key, and the shared secret with a remote public key. */
export interface Ephemeral {
  readonly publicKey: Uint8Array
  /** Throws for a key that is not 32 bytes. */
  agree(remotePublicKey: Uint8Array): Uint8Array
}

export function x25519Ephemeral(): Ephemeral {
  const pair = generateKeyPairSync('x25519')
  const der = pair.publicKey.export({ format: 'der', type: 'spki' })
  return {
    publicKey: new Uint8Array(der.subarray(X25519_SPKI_PREFIX.length)),
    agree: (remote) => {
      if (remote.length !== 32)
        throw new RangeError(`an X25519 public key is 32 bytes (got ${remote.length})`)
      const key = createPublicKey({
        key: Buffer.concat([X25519_SPKI_PREFIX, remote]),
        format: 'der',
        type: 'spki',
      })
      return new Uint8Array(diffieHellman({ privateKey: pair.privateKey, publicKey: key }))
    },
  }
}

/** HKDF-SHA-256 (RFC 5869). */
export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', ikm, salt, info, length))
}

/** SHA-256 of the concatenation of `parts`. */
export function sha256(...parts: readonly Uint8Array[]): Uint8Array {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}
