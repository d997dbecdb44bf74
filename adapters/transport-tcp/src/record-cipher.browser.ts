import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import { concatBytes } from '@peerkit/core'
import type { TcpCipher } from './options.js'
import { importAesKey, RecordLayer, webOpen, webSeal } from './record-format.js'

export { MAX_RECORDS, OFFLOAD_THRESHOLD, recordNonce, TAG_SIZE } from './record-format.js'

type WebKey = Awaited<ReturnType<typeof importAesKey>>

/**
 * The browser build of `record-cipher.ts`: the same records (record-format.ts)
 * with AES-256-GCM from WebCrypto (native, asynchronous) and
 * ChaCha20-Poly1305 from @noble/ciphers (audited, synchronous).
 */
export class RecordCipher extends RecordLayer {
  private constructor(
    cipher: TcpCipher,
    private readonly key: Uint8Array,
    private readonly webKey: WebKey | undefined,
  ) {
    super(cipher)
  }

  static async create(cipher: TcpCipher, key: Uint8Array, _offload: boolean): Promise<RecordCipher> {
    const webKey = cipher === 'aes-256-gcm' ? await importAesKey(key) : undefined
    return new RecordCipher(cipher, key.slice(), webKey)
  }

  /** AES-256-GCM records are always encrypted by WebCrypto here (asynchronously). */
  get offloads(): boolean {
    return this.webKey !== undefined
  }

  protected encrypt(
    pieces: readonly Uint8Array[],
    _length: number,
    nonce: Uint8Array,
    header: Uint8Array,
  ): Uint8Array[] | Promise<Uint8Array[]> {
    const plaintext = pieces.length === 1 ? (pieces[0] as Uint8Array) : concatBytes(...pieces)
    if (this.webKey) return webSeal(this.webKey, nonce, header, plaintext).then((sealed) => [header, sealed])
    return [header, chacha20poly1305(this.key, nonce, header).encrypt(plaintext)]
  }

  protected decrypt(
    body: Uint8Array,
    nonce: Uint8Array,
    header: Uint8Array,
  ): Uint8Array | Promise<Uint8Array> {
    if (this.webKey) return webOpen(this.webKey, nonce, header, body)
    return chacha20poly1305(this.key, nonce, header).decrypt(body)
  }
}
