import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import { concatBytes, ProtocolError } from '@peerkit/core'
import { frameHeader } from '@peerkit/core/wire'
import type { TcpCipher } from './options.js'
import { MAX_RECORDS, recordNonce, TAG_SIZE } from './record-format.js'

/**
 * The browser build of `record-cipher.ts`: the same records (`u32 length ‖
 * ciphertext ‖ 16-byte tag`, the length as additional data, the nonce a
 * record counter) with AES-256-GCM from WebCrypto (native, asynchronous) and
 * ChaCha20-Poly1305 from @noble/ciphers (audited, synchronous). Records are
 * numbered when `seal`/`open` is called, so callers keep their order
 * whichever order the promises settle in.
 */

export { MAX_RECORDS, OFFLOAD_THRESHOLD, recordNonce, TAG_SIZE } from './record-format.js'

interface WebCryptoKey {
  readonly type: string
}

export class RecordCipher {
  private counter = 0

  private constructor(
    readonly cipher: TcpCipher,
    private readonly key: Uint8Array,
    private readonly webKey: WebCryptoKey | undefined,
  ) {}

  static async create(cipher: TcpCipher, key: Uint8Array, _offload: boolean): Promise<RecordCipher> {
    const webKey =
      cipher === 'aes-256-gcm'
        ? ((await globalThis.crypto.subtle.importKey('raw', key.slice(), 'AES-GCM', false, [
            'encrypt',
            'decrypt',
          ])) as WebCryptoKey)
        : undefined
    return new RecordCipher(cipher, key.slice(), webKey)
  }

  /** AES-256-GCM records are always encrypted by WebCrypto here (asynchronously). */
  get offloads(): boolean {
    return this.webKey !== undefined
  }

  get records(): number {
    return this.counter
  }

  private nextNonce(): Uint8Array {
    if (this.counter >= MAX_RECORDS) throw new ProtocolError('record counter exhausted; reconnect to re-key')
    return recordNonce(this.counter++)
  }

  seal(pieces: readonly Uint8Array[], length: number): Uint8Array[] | Promise<Uint8Array[]> {
    const nonce = this.nextNonce()
    const header = frameHeader(length + TAG_SIZE)
    const plaintext = pieces.length === 1 ? (pieces[0] as Uint8Array) : concatBytes(...pieces)
    if (this.webKey) {
      return globalThis.crypto.subtle
        .encrypt(
          { name: 'AES-GCM', iv: nonce, additionalData: header, tagLength: 128 },
          this.webKey as unknown as CryptoKeyLike,
          plaintext,
        )
        .then((sealed: ArrayBuffer) => [header, new Uint8Array(sealed)])
    }
    return [header, chacha20poly1305(this.key, nonce, header).encrypt(plaintext)]
  }

  open(body: Uint8Array): Uint8Array | Promise<Uint8Array> {
    if (body.length < TAG_SIZE)
      throw new ProtocolError(`record of ${body.length} bytes is shorter than its tag`)
    const nonce = this.nextNonce()
    const header = frameHeader(body.length)
    const failed = (cause?: unknown) =>
      new ProtocolError('record failed authentication (tampered, replayed or reordered)', { cause })
    if (this.webKey) {
      return globalThis.crypto.subtle
        .decrypt(
          { name: 'AES-GCM', iv: nonce, additionalData: header, tagLength: 128 },
          this.webKey as unknown as CryptoKeyLike,
          body,
        )
        .then(
          (plain: ArrayBuffer) => new Uint8Array(plain),
          (err: unknown) => {
            throw failed(err)
          },
        )
    }
    try {
      return chacha20poly1305(this.key, nonce, header).decrypt(body)
    } catch (err) {
      throw failed(err)
    }
  }
}

type CryptoKeyLike = Parameters<typeof globalThis.crypto.subtle.encrypt>[1]
