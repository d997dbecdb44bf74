/**
 * Raw AEAD throughput of node:crypto on this machine, per record size: the
 * cost a connection pays per byte on each side (one record = one
 * createCipheriv/createDecipheriv, as in RecordCipher), inline and, for
 * AES-256-GCM, through WebCrypto on the thread pool with 1 and 4 records in flight.
 *
 *   node adapters/transport-tcp/dist/bench/ciphers.js [--mib 512]
 */
import 'reflect-metadata'
import { randomBytes, webcrypto } from 'node:crypto'
import { parseArgs } from 'node:util'
import { RecordCipher } from '../src/record-cipher.js'

const { values: args } = parseArgs({ options: { mib: { type: 'string', default: '512' } } })
const TOTAL = Number(args.mib) * 2 ** 20
const SIZES = [64 * 1024, 256 * 1024, 1024 * 1024]

function mbps(bytes: number, start: bigint): string {
  return (bytes / 1e6 / (Number(process.hrtime.bigint() - start) / 1e9)).toFixed(0).padStart(6)
}

console.log(
  `${TOTAL / 2 ** 20} MiB per figure, MB/s (node ${process.version}, OpenSSL ${process.versions.openssl})`,
)
for (const cipher of ['aes-256-gcm', 'chacha20-poly1305'] as const) {
  for (const size of SIZES) {
    const key = randomBytes(32)
    const tx = await RecordCipher.create(cipher, key, false)
    const plaintext = randomBytes(size)
    const records: Buffer[] = []
    let start = process.hrtime.bigint()
    for (let n = 0; n < TOTAL; n += size) {
      const sealed = tx.seal([plaintext], size) as Uint8Array[]
      if (records.length < 8) records.push(Buffer.concat(sealed))
    }
    const seal = mbps(TOTAL, start)
    // Open fresh records in order (a second cipher per batch keeps the counters in step).
    start = process.hrtime.bigint()
    let opened = 0
    while (opened < TOTAL) {
      const k = await RecordCipher.create(cipher, key, false)
      for (const r of records) {
        if (opened >= TOTAL) break
        k.open(r.subarray(4))
        opened += size
      }
    }
    console.log(
      `${cipher.padEnd(18)} ${String(size / 1024).padStart(5)} KiB records  seal ${seal}  open ${mbps(TOTAL, start)}`,
    )
  }
}
for (const size of SIZES) {
  const key = await webcrypto.subtle.importKey('raw', randomBytes(32), 'AES-GCM', false, ['encrypt'])
  const plaintext = randomBytes(size)
  const iv = new Uint8Array(12)
  const figures: string[] = []
  for (const inFlight of [1, 4]) {
    const start = process.hrtime.bigint()
    let n = 0
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (n < TOTAL) {
          n += size
          await webcrypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, plaintext)
        }
      }),
    )
    figures.push(`${inFlight} in flight ${mbps(TOTAL, start)}`)
  }
  console.log(
    `aes-256-gcm WebCrypto ${String(size / 1024).padStart(5)} KiB records  seal ${figures.join('  ')}`,
  )
}
