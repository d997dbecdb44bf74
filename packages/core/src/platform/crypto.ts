import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto'

/**
 * The primitives core needs, on Node: node:crypto (OpenSSL). A browser bundle
 * gets `crypto.browser.ts` instead (package.json's `browser` field), which
 * gives the same results with @noble/curves and @noble/hashes; both are
 * checked against the same vectors. node:crypto is kept on Node for speed:
 * measured here, Ed25519 signs 19x and verifies 18x faster, and SHA-256 runs
 * at 14x the rate of the pure-JS code (docs/browser.md).
 */

const ED25519_PKCS8_PREFIX = new Uint8Array([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
])

/** Which implementation this build uses. */
export const CRYPTO_BACKEND: 'node' | 'noble' = 'node'

/** An Ed25519 key pair made from a 32-byte seed. */
export interface Ed25519Signer {
  readonly publicKey: Uint8Array
  sign(data: Uint8Array): Uint8Array
}

export function ed25519Signer(seed: Uint8Array): Ed25519Signer {
  return new NodeSigner(seed)
}

/** The x of a JWK whose public key is not known yet: Node's import reads only `d` (see `privateKeyOf`). */
const UNKNOWN_X = 'A'.repeat(43)

const base64url = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64url')

/**
 * The private KeyObject of a seed, imported as a JWK: about a tenth of the
 * CPU of the PKCS#8 DER form (48 against 557 us measured here: OpenSSL's DER
 * decoder, as for the verifier below). Node makes the key from `d` alone and
 * derives the public key from it (the signer's public key is read back from
 * the KeyObject, never from `x`); `x` is the public key when known. A Node
 * that refused an `x` not matching `d` gets the DER form instead.
 */
function privateKeyOf(seed: Uint8Array, publicKey?: Uint8Array): KeyObject {
  const x = publicKey === undefined ? UNKNOWN_X : base64url(publicKey)
  try {
    return createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: base64url(seed), x }, format: 'jwk' })
  } catch {
    // Only a Node that checks x against d ends here: the DER form makes the same key.
    return createPrivateKey({
      key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]),
      format: 'der',
      type: 'pkcs8',
    })
  }
}

/**
 * The private KeyObject is made again at the first signature and kept from
 * then on: a KeyObject holds about 1.3 KB of native memory, and an identity
 * that never signs (most of a simulator's 10^6 peers) need not keep one.
 */
class NodeSigner implements Ed25519Signer {
  readonly publicKey: Uint8Array
  private key: KeyObject | undefined

  constructor(private readonly seed: Uint8Array) {
    // The private key's JWK carries the public key Node derived from `d` (`x`): 44 us, against 140 us for
    // a public KeyObject exported as DER (measured here; every peer of a simulation makes an identity).
    // (An OKP private JWK always has x: RFC 8037.)
    const { x } = privateKeyOf(seed).export({ format: 'jwk' })
    this.publicKey = new Uint8Array(Buffer.from(x as string, 'base64url'))
  }

  sign(data: Uint8Array): Uint8Array {
    this.key ??= privateKeyOf(this.seed, this.publicKey)
    return new Uint8Array(sign(null, data, this.key))
  }
}

/**
 * A verifier for one 32-byte public key; throws for a key that is not 32
 * bytes. Never throws when verifying. The key is imported as a JWK: the same
 * KeyObject as from its SPKI DER form (neither checks that it is a curve
 * point; a bad one verifies nothing), made in about a tenth of the CPU time
 * (12-20 us against 150-190 us measured here: OpenSSL's DER decoder).
 */
export function ed25519Verifier(publicKey: Uint8Array): (data: Uint8Array, signature: Uint8Array) => boolean {
  if (publicKey.length !== 32)
    throw new TypeError(`an Ed25519 public key has 32 bytes, not ${publicKey.length}`)
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: base64url(publicKey) }, format: 'jwk' })
  return (data, signature) => {
    try {
      return verify(null, data, key, signature)
    } catch {
      return false // a malformed signature does not verify
    }
  }
}

/** SHA-256 of the concatenation of `parts`. */
export function sha256(...parts: readonly Uint8Array[]): Uint8Array {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}
