import { fromBase64, fromBase64url, randomBytes, toBase64, toBase64url } from './bytes.js'
import { AuthenticationError, InvalidOptionsError } from './errors.js'
import { GenerationCache } from './generation-cache.js'
import { type Ed25519Signer, ed25519Signer, ed25519Verifier } from './platform/crypto.js'

/** A peer's identity: its Ed25519 public key, base64url (43 characters). */
export type PeerId = string

/** PKCS#8 DER header of an Ed25519 private key; the 32-byte seed follows. */
const ED25519_PKCS8_PREFIX = new Uint8Array([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
])
const PEM_RE = /^-----BEGIN PRIVATE KEY-----\r?\n([A-Za-z0-9+/=\r\n]+?)\r?\n?-----END PRIVATE KEY-----\s*$/
const PEER_ID_RE = /^[A-Za-z0-9_-]{43}$/

export function isPeerId(value: unknown): value is PeerId {
  return typeof value === 'string' && PEER_ID_RE.test(value)
}

/** The raw 32-byte Ed25519 public key behind a PeerId; throws `InvalidOptionsError` for a malformed id. */
export function publicKeyOf(id: PeerId): Uint8Array {
  if (!isPeerId(id)) throw new InvalidOptionsError(`not a PeerId: ${JSON.stringify(id)}`)
  return fromBase64url(id)
}

/**
 * A verifier of `id`'s signatures (worth keeping when one id signs many
 * things; making one costs about as much as a check). Throws
 * `InvalidOptionsError` for a malformed id; an id of 32 bytes that is not an
 * Ed25519 point is refused here in the browser and, in Node, gives a
 * verifier that accepts nothing.
 */
export function verifierOf(id: PeerId): (data: Uint8Array, signature: Uint8Array) => boolean {
  const raw = publicKeyOf(id)
  try {
    return ed25519Verifier(raw)
  } catch (err) {
    throw new InvalidOptionsError(`PeerId ${id} is not an Ed25519 public key`, { cause: err })
  }
}

/**
 * Most PeerIds whose verifier (a public `KeyObject`, about 1.2 KB of native
 * memory) is kept by `verifySignature` and the record checks: at most about
 * 10 MB per process. Verifiers used during the last 4,096 insertions survive
 * a turnover (a `GenerationCache`), so thousands of peers checked in turn
 * mostly hit.
 */
export const VERIFIER_CACHE = 8192

/** Verifiers of the PeerIds checked lately: making one costs about a tenth of a check, each time (login proofs come again). */
const verifiers = new GenerationCache<PeerId, (data: Uint8Array, signature: Uint8Array) => boolean>(
  VERIFIER_CACHE / 2,
)

/**
 * @internal `verifierOf`, through the process-wide cache of `VERIFIER_CACHE`
 * verifiers. Throws as `verifierOf` does (a malformed id is not cached).
 */
export function cachedVerifierOf(id: PeerId): (data: Uint8Array, signature: Uint8Array) => boolean {
  let verifier = verifiers.get(id)
  if (verifier === undefined) {
    verifier = verifierOf(id)
    verifiers.set(id, verifier)
  }
  return verifier
}

/** @internal Verifiers held by the cache (at most `VERIFIER_CACHE`), for tests. */
export function cachedVerifiers(): number {
  return verifiers.size
}

/** Verifies an Ed25519 signature made by `id` (its verifier cached, `VERIFIER_CACHE`). Never throws for bad input: returns false. */
export function verifySignature(id: PeerId, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    return cachedVerifierOf(id)(data, signature)
  } catch {
    return false // a malformed PeerId: nothing it signed verifies
  }
}

/** Like `verifySignature`, but throws `AuthenticationError`. */
export function assertSignature(
  id: PeerId,
  data: Uint8Array,
  signature: Uint8Array,
  what = 'signature',
): void {
  if (!verifySignature(id, data, signature))
    throw new AuthenticationError(`${what} from ${id} did not verify`)
}

/** An Ed25519 key pair: who a peer is, across reconnections and new IP addresses. */
export class Identity {
  readonly peerId: PeerId
  readonly publicKey: Uint8Array

  private readonly signer: Ed25519Signer

  private constructor(private readonly seed: Uint8Array) {
    this.signer = ed25519Signer(seed)
    this.publicKey = this.signer.publicKey
    this.peerId = toBase64url(this.publicKey)
  }

  static generate(): Identity {
    return new Identity(randomBytes(32))
  }

  /**
   * From the 32-byte Ed25519 seed (the private key's RFC 8032 form): the same
   * seed gives the same identity. For deterministic peers in tests and
   * simulations, and for keys kept in another store.
   */
  static fromSeed(seed: Uint8Array): Identity {
    if (seed.byteLength !== 32)
      throw new InvalidOptionsError(`an Ed25519 seed is 32 bytes (got ${seed.byteLength})`)
    return new Identity(seed.slice())
  }

  /** From a PKCS#8 PEM Ed25519 private key (the form `toPem` writes, as OpenSSL and Node do). */
  static fromPem(pem: string): Identity {
    const body = PEM_RE.exec(pem)?.[1]
    if (body === undefined) throw new InvalidOptionsError('identity key is not a PEM "PRIVATE KEY" block')
    let der: Uint8Array
    try {
      der = fromBase64(body.replace(/\s+/g, ''))
    } catch (err) {
      throw new InvalidOptionsError('identity key PEM is not base64', { cause: err })
    }
    const prefix = ED25519_PKCS8_PREFIX
    if (der.length !== prefix.length + 32 || prefix.some((b, i) => der[i] !== b)) {
      throw new InvalidOptionsError('identity key must be Ed25519 (PKCS#8, 48 bytes)')
    }
    return new Identity(der.slice(prefix.length))
  }

  toPem(): string {
    const der = new Uint8Array(ED25519_PKCS8_PREFIX.length + 32)
    der.set(ED25519_PKCS8_PREFIX)
    der.set(this.seed, ED25519_PKCS8_PREFIX.length)
    const lines = toBase64(der).match(/.{1,64}/g) ?? []
    return `-----BEGIN PRIVATE KEY-----\n${lines.join('\n')}\n-----END PRIVATE KEY-----\n`
  }

  sign(data: Uint8Array): Uint8Array {
    return this.signer.sign(data)
  }
}

export { IDENTITY_FILE, loadOrCreateIdentity } from './identity-file.js'
