import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { AuthenticationError, InvalidOptionsError } from './errors.js'

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

/** Loads the identity kept in `dataDir`, creating and saving a new one (mode 0600) the first time. */
export async function loadOrCreateIdentity(dataDir: string): Promise<Identity> {
  const file = join(dataDir, IDENTITY_FILE)
  try {
    return Identity.fromPem(await readFile(file, 'utf8'))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  await mkdir(dataDir, { recursive: true })
  const identity = Identity.generate()
  await writeFile(file, identity.toPem(), { mode: 0o600, flag: 'wx' }).catch(async (err) => {
    // Another process created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return
    throw err
  })
  return Identity.fromPem(await readFile(file, 'utf8'))
}
