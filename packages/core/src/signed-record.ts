import { z } from 'zod'
import { fromBase64url, toBase64url } from './bytes.js'
import { type Identity, type PeerId, verifierOf } from './peer-id.js'
import { type FileRecord, keywords } from './records.js'
import { fileRecordSchema } from './wire/schemas.js'

/**
 * A FileRecord signed by its provider: the provider's Ed25519 key vouches for
 * the hash, name, size, chunk size, its own id and addresses, and the time the
 * record stops being valid. Any node that stores, passes on or returns the
 * record checks it with `verifyRecord`, so nobody can attribute a file to a
 * provider, move its addresses, or keep a record alive past `expires`.
 *
 * Keywords are not signed: they are derived from the name (`keywords(name)`),
 * and `verifyRecord` refuses a record whose keywords differ.
 */
export interface SignedFileRecord extends FileRecord {
  /** When the record stops being valid: milliseconds on the provider's `Clock` (wall clock: `Date.now()`). */
  expires: number
  /** Ed25519 signature by `provider.id` over `recordSigningBytes(record, expires)`, base64url (86 characters). */
  signature: string
}

/** The domain of a record signature; a new version of the signed fields gets a new one. */
export const RECORD_SIGNATURE_DOMAIN = 'peerkit/record-signature/1'

const SIGNATURE_RE = /^[A-Za-z0-9_-]{86}$/

/** A SignedFileRecord as it travels (the signature's shape is checked; `verifyRecord` checks the rest). */
export const signedFileRecordSchema: z.ZodType<SignedFileRecord> = (
  fileRecordSchema as unknown as z.ZodObject<z.ZodRawShape>
).extend({
  // extended, not intersected: zod merges an intersection's two results, at a cost per record
  expires: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  signature: z.string().regex(SIGNATURE_RE, 'not an Ed25519 signature'),
}) as unknown as z.ZodType<SignedFileRecord>

/**
 * The bytes a provider signs: a domain tag, then a JSON array of the hash,
 * name, size, chunk size, provider id, provider addresses and expiry time
 * (JSON of strings and integers is canonical, and tells the fields apart).
 */
export function recordSigningBytes(record: FileRecord, expires: number): Uint8Array {
  const { hash, name, size, chunkSize, provider } = record
  return new TextEncoder().encode(
    `${RECORD_SIGNATURE_DOMAIN}\n${JSON.stringify([hash, name, size, chunkSize, provider.id, provider.addresses, expires])}`,
  )
}

/**
 * Signs `record` as its provider, valid until `expires`. The identity must be
 * the record's provider (a record is only ever signed by the peer it names).
 * Keywords are set to `keywords(name)`.
 */
export function signRecord(identity: Identity, record: FileRecord, expires: number): SignedFileRecord {
  if (record.provider.id !== identity.peerId) {
    throw new TypeError(
      `a record of provider ${record.provider.id} cannot be signed by ${identity.peerId}: only its provider signs it`,
    )
  }
  const signature = toBase64url(identity.sign(recordSigningBytes(record, expires)))
  return {
    hash: record.hash,
    name: record.name,
    size: record.size,
    chunkSize: record.chunkSize,
    keywords: keywords(record.name),
    provider: { id: record.provider.id, addresses: [...record.provider.addresses] },
    expires,
    signature,
  }
}

/** Why `checkRecord` refused a record (undefined: it is valid). */
export type RecordFault = 'signature' | 'expired' | 'keywords'

/** Verified (signature, signed bytes) pairs: a record stored under several keys, or passed along, is verified once. */
const verified = new Map<string, string>()
/** Entries the verified-signature cache keeps (when full it is cleared and starts again). */
export const RECORD_VERIFY_CACHE = 4096

/**
 * What is wrong with `record` at time `now`, or undefined when nothing is:
 * its signature does not verify under `provider.id`, it expired
 * (`expires <= now`), or its keywords are not `keywords(name)`. Never throws.
 */
export function checkRecord(record: SignedFileRecord, now: number): RecordFault | undefined {
  if (!(record.expires > now)) return 'expired'
  const expected = keywords(record.name)
  if (expected.length !== record.keywords.length || expected.some((k, i) => record.keywords[i] !== k))
    return 'keywords'
  const bytes = recordSigningBytes(record, record.expires)
  const text = new TextDecoder().decode(bytes)
  if (verified.get(record.signature) === text) return undefined
  if (!verifiesAs(record.provider.id, bytes, record.signature)) return 'signature'
  if (verified.size >= RECORD_VERIFY_CACHE) verified.clear()
  verified.set(record.signature, text)
  return undefined
}

/** Verifiers of the providers seen lately: making one from a PeerId costs more than the check itself. */
const publicKeys = new Map<PeerId, (data: Uint8Array, signature: Uint8Array) => boolean>()
/** Providers whose public key is kept (when full the cache is cleared and starts again). */
export const RECORD_KEY_CACHE = 1024

/** Like core's `verifySignature`, with the provider's public key cached. Never throws. */
function verifiesAs(id: PeerId, data: Uint8Array, signature: string): boolean {
  try {
    let verifier = publicKeys.get(id)
    if (verifier === undefined) {
      verifier = verifierOf(id)
      if (publicKeys.size >= RECORD_KEY_CACHE) publicKeys.clear()
      publicKeys.set(id, verifier)
    }
    return verifier(data, fromBase64url(signature))
  } catch {
    return false // a malformed PeerId or signature: the record does not check
  }
}

/** True when `record` is signed by its provider, not expired at `now`, with keywords derived from its name. */
export function verifyRecord(record: SignedFileRecord, now: number): boolean {
  return checkRecord(record, now) === undefined
}

/** The FileRecord inside a signed one (without `expires` and `signature`). */
export function unsignedRecord(record: SignedFileRecord): FileRecord {
  const { hash, name, size, chunkSize, keywords: kws, provider } = record
  return { hash, name, size, chunkSize, keywords: kws, provider }
}
