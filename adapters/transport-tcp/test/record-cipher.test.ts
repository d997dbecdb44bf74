import { randomBytes } from 'node:crypto'
import test from 'ava'
import { CIPHERS } from '../src/options.js'
import { OFFLOAD_THRESHOLD, RecordCipher, recordNonce, TAG_SIZE } from '../src/record-cipher.js'

/** The wire form of sealed chunks: header ‖ ciphertext ‖ tag. */
async function sealed(c: RecordCipher, plaintext: Uint8Array, split = 1): Promise<Buffer> {
  const pieces: Uint8Array[] = []
  const step = Math.ceil(plaintext.length / split) || 1
  for (let i = 0; i < plaintext.length; i += step) pieces.push(plaintext.subarray(i, i + step))
  return Buffer.concat(await c.seal(pieces, plaintext.length))
}

const body = (record: Buffer) => record.subarray(4)

test('nonces are 4 zero bytes then a 64-bit big-endian counter', (t) => {
  t.deepEqual([...recordNonce(0)], new Array(12).fill(0))
  t.deepEqual([...recordNonce(1)], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
  t.deepEqual([...recordNonce(2 ** 32 + 2)], [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2])
})

for (const cipher of CIPHERS) {
  for (const offload of [false, true]) {
    test(`${cipher}${offload ? ' (offload)' : ''}: records round-trip in order, small and large, in pieces`, async (t) => {
      const key = randomBytes(32)
      const tx = await RecordCipher.create(cipher, key, offload)
      const rx = await RecordCipher.create(cipher, key, offload)
      for (const size of [0, 1, 1000, OFFLOAD_THRESHOLD, 300_000]) {
        const plaintext = randomBytes(size)
        const record = await sealed(tx, plaintext, 3)
        t.is(record.readUInt32BE(0), size + TAG_SIZE, 'the length prefix counts ciphertext and tag')
        t.false(size > 16 && record.includes(plaintext.subarray(0, 16)), 'the plaintext is not on the wire')
        t.deepEqual(Buffer.from(await rx.open(body(record))), plaintext)
      }
      t.is(tx.records, 5)
      t.is(rx.records, 5)
    })

    test(`${cipher}${offload ? ' (offload)' : ''}: a tampered, replayed, reordered or foreign record is a ProtocolError`, async (t) => {
      const key = randomBytes(32)
      const tx = await RecordCipher.create(cipher, key, offload)
      const size = 40_000
      const first = await sealed(tx, randomBytes(size))
      const second = await sealed(tx, randomBytes(size))

      const tampered = Buffer.from(first)
      tampered[100] = (tampered[100] as number) ^ 1
      const rx1 = await RecordCipher.create(cipher, key, offload)
      await t.throwsAsync(async () => rx1.open(body(tampered)), { name: 'ProtocolError' })

      const rx2 = await RecordCipher.create(cipher, key, offload)
      await rx2.open(body(first))
      await t.throwsAsync(async () => rx2.open(body(first)), { name: 'ProtocolError' }, 'replayed')

      const rx3 = await RecordCipher.create(cipher, key, offload)
      await t.throwsAsync(async () => rx3.open(body(second)), { name: 'ProtocolError' }, 'reordered')

      const other = await RecordCipher.create(cipher, randomBytes(32), offload)
      await t.throwsAsync(async () => other.open(body(first)), { name: 'ProtocolError' }, 'another key')

      const rx4 = await RecordCipher.create(cipher, key, offload)
      t.throws(() => rx4.open(new Uint8Array(TAG_SIZE - 1)), { name: 'ProtocolError' }, 'shorter than a tag')
    })
  }
}

test('records sealed on the thread pool open inline and the other way round', async (t) => {
  const key = randomBytes(32)
  const pool = await RecordCipher.create('aes-256-gcm', key, true)
  const inline = await RecordCipher.create('aes-256-gcm', key, false)
  const a = randomBytes(100_000)
  t.deepEqual(Buffer.from(await inline.open(body(await sealed(pool, a)))), a)
  const b = randomBytes(100_000)
  t.deepEqual(Buffer.from(await pool.open(body(await sealed(inline, b)))), b)
})

test('each seal advances the nonce: the same plaintext never seals the same way twice', async (t) => {
  const key = randomBytes(32)
  const tx = await RecordCipher.create('aes-256-gcm', key, false)
  const same = new Uint8Array(64)
  const r1 = await sealed(tx, same)
  const r2 = await sealed(tx, same)
  t.notDeepEqual(r1, r2, 'the same plaintext seals differently under the next nonce')
})
