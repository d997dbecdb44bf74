// The record format both builds of the record cipher share (record-cipher.ts on Node,
// record-cipher.browser.ts in a browser): constants, the nonce of each record, and the
// counter, header and checks around one AEAD call, which is all a build supplies.
import { ProtocolError } from '@peerkit/core'
import { frameHeader } from '@peerkit/core/wire'
import type { TcpCipher } from './options.js'

/** Bytes of the AEAD tag at the end of every record. */
export const TAG_SIZE = 16
/** Records of at least this many bytes go to the thread pool when offloading is on. */
export const OFFLOAD_THRESHOLD = 16 * 1024
/** A direction must be re-keyed (a new connection) before this many records. */
export const MAX_RECORDS = 2 ** 48

/** The 96-bit nonce of record `counter`: 4 zero bytes, then the counter as a big-endian 64-bit integer. */
export function recordNonce(counter: number): Uint8Array {
  const nonce = new Uint8Array(12)
  const view = new DataView(nonce.buffer)
  view.setUint32(4, Math.floor(counter / 2 ** 32))
  view.setUint32(8, counter >>> 0)
  return nonce
}

type WebKey = Parameters<typeof globalThis.crypto.subtle.encrypt>[1]

/** An AES-256-GCM key for WebCrypto (`globalThis.crypto`, in Node and in a browser). */
export function importAesKey(key: Uint8Array): Promise<WebKey> {
  return globalThis.crypto.subtle.importKey('raw', key.slice(), 'AES-GCM', false, ['encrypt', 'decrypt'])
}

const gcm = (iv: Uint8Array, additionalData: Uint8Array) =>
  ({ name: 'AES-GCM', iv, additionalData, tagLength: TAG_SIZE * 8 }) as const

/** AES-256-GCM through WebCrypto: ciphertext ‖ tag. */
export async function webSeal(
  key: WebKey,
  nonce: Uint8Array,
  header: Uint8Array,
  plaintext: Uint8Array,
): Promise<Uint8Array> {
  return new Uint8Array(await globalThis.crypto.subtle.encrypt(gcm(nonce, header), key, plaintext))
}

/** Opens what `webSeal` sealed; rejects when the tag fails. */
export async function webOpen(
  key: WebKey,
  nonce: Uint8Array,
  header: Uint8Array,
  body: Uint8Array,
): Promise<Uint8Array> {
  return new Uint8Array(await globalThis.crypto.subtle.decrypt(gcm(nonce, header), key, body))
}

/**
 * One direction of a connection's record layer: an AEAD key and the counter
 * that makes every nonce unique. A record on the wire is
 * `u32 length ‖ ciphertext ‖ 16-byte tag`, the 4-byte length being the
 * additional data; the nonce is never sent, both sides count records, so a
 * replayed, dropped or reordered record fails its tag. Records are numbered
 * when `seal`/`open` is called, so callers keep their order whichever order
 * asynchronous results settle in. A build supplies `encrypt` and `decrypt`.
 */
export abstract class RecordLayer {
  private counter = 0

  protected constructor(readonly cipher: TcpCipher) {}

  /** True when (large) records are sealed and opened asynchronously, off the main thread. */
  abstract get offloads(): boolean

  /** Records sealed or opened so far. */
  get records(): number {
    return this.counter
  }

  /**
   * Encrypts the concatenation of `pieces` (`length` bytes in all) as the
   * next record. Returns the buffers to write, in order: the header first,
   * then ciphertext and tag (a promise when the record is sealed asynchronously).
   */
  seal(pieces: readonly Uint8Array[], length: number): Uint8Array[] | Promise<Uint8Array[]> {
    const nonce = this.nextNonce()
    return this.encrypt(pieces, length, nonce, frameHeader(length + TAG_SIZE))
  }

  /**
   * Decrypts the next record's body (ciphertext ‖ tag, without the length
   * prefix). A record that fails its tag (tampered, replayed, out of order,
   * or under another key) throws or rejects with `ProtocolError`.
   */
  open(body: Uint8Array): Uint8Array | Promise<Uint8Array> {
    if (body.length < TAG_SIZE)
      throw new ProtocolError(`record of ${body.length} bytes is shorter than its tag`)
    const nonce = this.nextNonce()
    const failed = (cause?: unknown) =>
      new ProtocolError('record failed authentication (tampered, replayed or reordered)', { cause })
    let plain: Uint8Array | Promise<Uint8Array>
    try {
      plain = this.decrypt(body, nonce, frameHeader(body.length))
    } catch (err) {
      throw failed(err)
    }
    if (plain instanceof Uint8Array) return plain
    return plain.catch((err: unknown) => {
      throw failed(err)
    })
  }

  /** Ciphertext and tag of `pieces` under `nonce`, with `header` as additional data; returns [header, …]. */
  protected abstract encrypt(
    pieces: readonly Uint8Array[],
    length: number,
    nonce: Uint8Array,
    header: Uint8Array,
  ): Uint8Array[] | Promise<Uint8Array[]>

  /** The plaintext of `body` (ciphertext ‖ tag); throws or rejects when the tag fails. */
  protected abstract decrypt(
    body: Uint8Array,
    nonce: Uint8Array,
    header: Uint8Array,
  ): Uint8Array | Promise<Uint8Array>

  private nextNonce(): Uint8Array {
    if (this.counter >= MAX_RECORDS) throw new ProtocolError('record counter exhausted; reconnect to re-key')
    return recordNonce(this.counter++)
  }
}
