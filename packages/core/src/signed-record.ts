import { z } from 'zod'
import { fromBase64url, toBase64url } from './bytes.js'
import { GenerationCache } from './generation-cache.js'
import { cachedVerifierOf, type Identity, type PeerId, VERIFIER_CACHE } from './peer-id.js'
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
  return encoder.encode(recordSigningText(record, expires))
}

const encoder = new TextEncoder()

/** The text `recordSigningBytes` encodes (UTF-8). */
function recordSigningText(record: FileRecord, expires: number): string {
  const { hash, name, size, chunkSize, provider } = record
  return `${RECORD_SIGNATURE_DOMAIN}\n${JSON.stringify([hash, name, size, chunkSize, provider.id, provider.addresses, expires])}`
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

/**
 * Most verified records the cache keeps (about 0.5 KB each: at most about 8 MB
 * per process). A simulation checks each of thousands of providers' records
 * at dozens of nodes in one process; the previous 4,096, cleared when full,
 * missed most of them.
 */
export const RECORD_VERIFY_CACHE = 16_384

/**
 * What a verified signature vouched for: the signed fields as they were
 * verified, and the keywords their name gives.
 */
interface Verified {
  hash: string
  name: string
  size: number
  chunkSize: number
  provider: string
  addresses: readonly string[]
  expires: number
  keywords: readonly string[]
}

/**
 * Records verified lately, by signature: a record stored under several keys,
 * replicated, passed along or returned by a search is verified once while it
 * is in the cache. An entry holds the signed fields, compared one by one
 * with the record's (a known signature on other fields is checked again),
 * and the keywords its name gives. Equal fields make the same signed text
 * (`recordSigningText`), so a hit needs no text built: building it was a
 * third of the check's time in a chord simulation, where each record is
 * checked at every holder of each of its keys.
 */
const verified = new GenerationCache<string, Verified>(RECORD_VERIFY_CACHE / 2)

/**
 * What is wrong with `record` at time `now`, or undefined when nothing is:
 * its signature does not verify under `provider.id`, it expired
 * (`expires <= now`), or its keywords are not `keywords(name)`. Never throws.
 */
export function checkRecord(record: SignedFileRecord, now: number): RecordFault | undefined {
  if (!(record.expires > now)) return 'expired'
  const known = verified.get(record.signature)
  if (known !== undefined && sameSigned(known, record))
    return sameWords(known.keywords, record.keywords) ? undefined : 'keywords'
  const expected = keywords(record.name)
  if (!sameWords(expected, record.keywords)) return 'keywords'
  const text = recordSigningText(record, record.expires)
  if (!verifiesAs(record.provider.id, encoder.encode(text), record.signature)) return 'signature'
  const { hash, name, size, chunkSize, provider, expires } = record
  verified.set(record.signature, {
    hash,
    name,
    size,
    chunkSize,
    provider: provider.id,
    addresses: provider.addresses.slice(),
    expires,
    keywords: expected,
  })
  return undefined
}

/** Whether `record` has the signed fields `known` was verified with (then its signed text is the same). */
function sameSigned(known: Verified, record: SignedFileRecord): boolean {
  return (
    known.hash === record.hash &&
    known.name === record.name &&
    known.size === record.size &&
    known.chunkSize === record.chunkSize &&
    known.expires === record.expires &&
    known.provider === record.provider.id &&
    sameWords(known.addresses, record.provider.addresses)
  )
}

function sameWords(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((k, i) => b[i] === k)
}

/** The verifiers of record providers are `verifySignature`'s, at most `VERIFIER_CACHE` (8,192) per process. */
export const RECORD_KEY_CACHE = VERIFIER_CACHE

/** Like core's `verifySignature`, with the signature in base64url. Never throws. */
function verifiesAs(id: PeerId, data: Uint8Array, signature: string): boolean {
  try {
    return cachedVerifierOf(id)(data, fromBase64url(signature))
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
