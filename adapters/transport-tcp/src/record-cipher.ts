import { createCipheriv, createDecipheriv } from 'node:crypto'
import type { TcpCipher } from './options.js'
import { importAesKey, OFFLOAD_THRESHOLD, RecordLayer, TAG_SIZE, webOpen, webSeal } from './record-format.js'

export { MAX_RECORDS, OFFLOAD_THRESHOLD, recordNonce, TAG_SIZE } from './record-format.js'

type WebKey = Awaited<ReturnType<typeof importAesKey>>

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
 * The Node build of the record layer (record-format.ts): node:crypto's
 * AES-256-GCM and ChaCha20-Poly1305, synchronous; with `offload`, records of
 * `OFFLOAD_THRESHOLD` bytes or more go through WebCrypto to the thread pool.
 */
export class RecordCipher extends RecordLayer {
  private constructor(
    cipher: TcpCipher,
    private readonly key: Buffer,
    private readonly webKey: WebKey | undefined,
  ) {
    super(cipher)
  }

  /** A cipher for one direction; `offload` (AES-256-GCM only) sends large records to the thread pool. */
  static async create(cipher: TcpCipher, key: Uint8Array, offload: boolean): Promise<RecordCipher> {
    const webKey = offload && cipher === 'aes-256-gcm' ? await importAesKey(key) : undefined
    return new RecordCipher(cipher, Buffer.from(key), webKey)
  }

  /** True when large records go to the thread pool. */
  get offloads(): boolean {
    return this.webKey !== undefined
  }

  protected encrypt(
    pieces: readonly Uint8Array[],
    length: number,
    nonce: Uint8Array,
    header: Uint8Array,
  ): Uint8Array[] | Promise<Uint8Array[]> {
    if (this.webKey && length >= OFFLOAD_THRESHOLD) {
      const plaintext = pieces.length === 1 ? (pieces[0] as Uint8Array) : Buffer.concat(pieces, length)
      return webSeal(this.webKey, nonce, header, plaintext).then((sealed) => [header, sealed])
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

  protected decrypt(
    body: Uint8Array,
    nonce: Uint8Array,
    header: Uint8Array,
  ): Uint8Array | Promise<Uint8Array> {
    if (this.webKey && body.length - TAG_SIZE >= OFFLOAD_THRESHOLD)
      return webOpen(this.webKey, nonce, header, body)
    const d = decipheriv(this.cipher, this.key, nonce)
    d.setAAD(header, { plaintextLength: body.length - TAG_SIZE })
    d.setAuthTag(body.subarray(body.length - TAG_SIZE))
    const plain = d.update(body.subarray(0, body.length - TAG_SIZE))
    d.final()
    return plain
  }
}
