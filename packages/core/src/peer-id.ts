import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { removeStaleTemps, writeFileAtomic } from './atomic-write.js'
import { AuthenticationError, DamagedFileError, InvalidOptionsError } from './errors.js'

/** A peer's identity: its Ed25519 public key, base64url (43 characters). */
export type PeerId = string

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')
/** PKCS#8 DER header of an Ed25519 private key; the 32-byte seed follows. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
const PEER_ID_RE = /^[A-Za-z0-9_-]{43}$/

export function isPeerId(value: unknown): value is PeerId {
  return typeof value === 'string' && PEER_ID_RE.test(value)
}

/** The public key object behind a PeerId; throws `InvalidOptionsError` for a malformed id. */
export function publicKeyOf(id: PeerId): KeyObject {
  if (!isPeerId(id)) throw new InvalidOptionsError(`not a PeerId: ${JSON.stringify(id)}`)
  const raw = Buffer.from(id, 'base64url')
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' })
}

/** Verifies an Ed25519 signature made by `id`. Never throws for bad input: returns false. */
export function verifySignature(id: PeerId, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    return verify(null, data, publicKeyOf(id), signature)
  } catch {
    return false
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

  private constructor(private readonly privateKey: KeyObject) {
    const der = createPublicKey(privateKey).export({ format: 'der', type: 'spki' })
    this.publicKey = new Uint8Array(der.subarray(ED25519_SPKI_PREFIX.length))
    this.peerId = Buffer.from(this.publicKey).toString('base64url')
  }

  static generate(): Identity {
    return new Identity(generateKeyPairSync('ed25519').privateKey)
  }

  /**
   * From the 32-byte Ed25519 seed (the private key's RFC 8032 form): the same
   * seed gives the same identity. For deterministic peers in tests and
   * simulations, and for keys kept in another store.
   */
  static fromSeed(seed: Uint8Array): Identity {
    if (seed.byteLength !== 32)
      throw new InvalidOptionsError(`an Ed25519 seed is 32 bytes (got ${seed.byteLength})`)
    const der = Buffer.concat([ED25519_PKCS8_PREFIX, seed])
    return new Identity(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }))
  }

  /** From a PKCS#8 PEM private key. */
  static fromPem(pem: string): Identity {
    const key = createPrivateKey(pem)
    if (key.asymmetricKeyType !== 'ed25519') throw new InvalidOptionsError('identity key must be Ed25519')
    return new Identity(key)
  }

  toPem(): string {
    return this.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
  }

  sign(data: Uint8Array): Uint8Array {
    return new Uint8Array(sign(null, data, this.privateKey))
  }
}

export const IDENTITY_FILE = 'identity.key'

/**
 * Loads the identity kept in `dataDir`, creating and saving a new one (mode
 * 0600, written atomically: a crash leaves no file or a whole one) the first
 * time. A file that is there but cannot be read as a key throws
 * `DamagedFileError` naming it and saying what to do; it is never replaced.
 */
export async function loadOrCreateIdentity(dataDir: string): Promise<Identity> {
  const file = join(dataDir, IDENTITY_FILE)
  const existing = await readIdentity(dataDir)
  if (existing) return existing
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  await removeStaleTemps(file)
  // Another process may create it first (two starts at once): then its identity is used.
  await writeFileAtomic(file, Identity.generate().toPem(), { mode: 0o600, replace: false })
  const saved = await readIdentity(dataDir)
  if (!saved) throw new DamagedFileError(`${IDENTITY_FILE} in ${dataDir} vanished right after it was written`)
  return saved
}

/** The identity in `dataDir`, or undefined when there is no identity file. */
async function readIdentity(dataDir: string): Promise<Identity | undefined> {
  let pem: string
  try {
    pem = await readFile(join(dataDir, IDENTITY_FILE), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  try {
    return Identity.fromPem(pem)
  } catch (err) {
    const what = pem.trim() === '' ? 'empty' : `not an Ed25519 private key: ${(err as Error).message}`
    throw new DamagedFileError(
      `${IDENTITY_FILE} in ${dataDir} is damaged (${what}): move it away to create a new identity, ` +
        'or restore it from a backup',
      { cause: err },
    )
  }
}
