import { createCipheriv, createDecipheriv, webcrypto } from 'node:crypto'
import { ProtocolError } from '@peerkit/core'
import { frameHeader } from '@peerkit/core/wire'
import type { TcpCipher } from './options.js'

import { MAX_RECORDS, OFFLOAD_THRESHOLD, recordNonce, TAG_SIZE } from './record-format.js'

export { MAX_RECORDS, OFFLOAD_THRESHOLD, recordNonce, TAG_SIZE } from './record-format.js'

function cipheriv(cipher: TcpCipher, key: Buffer, nonce: Uint8Array) {
  return cipher === 'aes-256-gcm'
    ? createCipheriv(cipher, key, nonce, { authTagLength: TAG_SIZE })
    : createCipheriv(cipher, key, nonce, { authTagLength: TAG_SIZE })
}

function decipheriv(cipher: TcpCipher, key: Buffer, nonce: Uint8Array) {
  return cipher === 'aes-256-gcm'
    ? createDecipheriv(cipher, key, nonce, { authTagLength: TAG_SIZE })
    : createDecipheriv(cipher, key, nonce, { authTagLength: TAG_SIZE })
}

/**
 * One direction of a connection's record layer: an AEAD key and the counter
 * that makes every nonce unique. A record on the wire is
 * `u32 length ‖ ciphertext ‖ 16-byte tag`, the 4-byte length being the
 * additional data; the nonce is never sent, both sides count records, so a
 * replayed, dropped or reordered record fails its tag.
 */
export class RecordCipher {
  private counter = 0

  private constructor(
    readonly cipher: TcpCipher,
    private readonly key: Buffer,
    private readonly webKey: webcrypto.CryptoKey | undefined,
  ) {}

  /** A cipher for one direction; `offload` (AES-256-GCM only) sends large records to the thread pool. */
  static async create(cipher: TcpCipher, key: Uint8Array, offload: boolean): Promise<RecordCipher> {
    const webKey =
      offload && cipher === 'aes-256-gcm'
        ? await webcrypto.subtle.importKey('raw', key, 'AES-GCM', false, ['encrypt', 'decrypt'])
        : undefined
    return new RecordCipher(cipher, Buffer.from(key), webKey)
  }

  /** True when large records go to the thread pool. */
  get offloads(): boolean {
    return this.webKey !== undefined
  }

  /** Records sealed or opened so far. */
  get records(): number {
    return this.counter
  }

  private nextNonce(): Uint8Array {
    if (this.counter >= MAX_RECORDS) throw new ProtocolError('record counter exhausted; reconnect to re-key')
    return recordNonce(this.counter++)
  }

  /**
   * Encrypts the concatenation of `pieces` (`length` bytes in all) as the
   * next record. Returns the buffers to write, in order: header, ciphertext, tag
   * (a promise when the record went to the thread pool).
   */
  seal(pieces: readonly Uint8Array[], length: number): Uint8Array[] | Promise<Uint8Array[]> {
    const nonce = this.nextNonce()
    const header = frameHeader(length + TAG_SIZE)
    if (this.webKey && length >= OFFLOAD_THRESHOLD) {
      const plaintext = pieces.length === 1 ? (pieces[0] as Uint8Array) : Buffer.concat(pieces, length)
      return webcrypto.subtle
        .encrypt(
          { name: 'AES-GCM', iv: nonce, additionalData: header, tagLength: 128 },
          this.webKey,
          plaintext,
        )
        .then((sealed) => [header, new Uint8Array(sealed)])
    }
    if (pieces.length > 1 && length < pieces.length * 4096) {
      // Many small pieces: one copy is cheaper than one cipher call (and one output buffer) each.
      pieces = [Buffer.concat(pieces, length)]
    }
    const c = cipheriv(this.cipher, this.key, nonce)
    c.setAAD(header, { plaintextLength: length })
    const out: Uint8Array[] = [header]
    for (const piece of pieces) {
      const part = c.update(piece)
      if (part.length > 0) out.push(part)
    }
    const last = c.final()
    if (last.length > 0) out.push(last)
    out.push(c.getAuthTag())
    return out
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
    const header = frameHeader(body.length)
    const failed = (cause?: unknown) =>
      new ProtocolError('record failed authentication (tampered, replayed or reordered)', { cause })
    if (this.webKey && body.length - TAG_SIZE >= OFFLOAD_THRESHOLD) {
      return webcrypto.subtle
        .decrypt({ name: 'AES-GCM', iv: nonce, additionalData: header, tagLength: 128 }, this.webKey, body)
        .then(
          (plain) => new Uint8Array(plain),
          (err) => {
            throw failed(err)
          },
        )
    }
    const d = decipheriv(this.cipher, this.key, nonce)
    d.setAAD(header, { plaintextLength: body.length - TAG_SIZE })
    d.setAuthTag(body.subarray(body.length - TAG_SIZE))
    const plain = d.update(body.subarray(0, body.length - TAG_SIZE))
    try {
      d.final()
    } catch (err) {
      throw failed(err)
    }
    return plain
  }
}
