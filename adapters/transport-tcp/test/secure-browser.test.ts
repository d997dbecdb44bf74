import test from 'ava'
import { CIPHERS } from '../src/options.js'
import * as browserCipher from '../src/record-cipher.browser.js'
import * as nodeCipher from '../src/record-cipher.js'
import * as browserCrypto from '../src/secure-crypto.browser.js'
import * as nodeCrypto from '../src/secure-crypto.js'

// The browser build (noble, WebCrypto) and the Node build (node:crypto) must
// speak the same records and agree on the same keys, or a tab cannot talk to
// a Node peer.

const join = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

for (const cipher of CIPHERS) {
  test(`${cipher}: records sealed by either build open in the other, tampering fails in both`, async (t) => {
    const key = globalThis.crypto.getRandomValues(new Uint8Array(32))
    const pairs = [
      [
        await nodeCipher.RecordCipher.create(cipher, key, false),
        await browserCipher.RecordCipher.create(cipher, key, false),
      ],
      [
        await browserCipher.RecordCipher.create(cipher, key, false),
        await nodeCipher.RecordCipher.create(cipher, key, false),
      ],
    ] as const
    for (const [sender, receiver] of pairs) {
      for (const size of [0, 1, 1000, 70_000]) {
        const plain = globalThis.crypto.getRandomValues(new Uint8Array(Math.min(size, 65536)))
        const big = size > 65536 ? join([plain, plain.subarray(0, size - 65536)]) : plain
        const record = join(await sender.seal([big], big.length))
        const body = record.subarray(4)
        t.deepEqual(new Uint8Array(await receiver.open(body)), big)
      }
      const record = join(await sender.seal([new Uint8Array([1, 2, 3])], 3))
      const body = record.slice(4)
      body[0] = (body[0] as number) ^ 1
      await t.throwsAsync(async () => receiver.open(body), { name: 'ProtocolError' })
    }
  })
}

test('X25519 and HKDF agree between the builds', (t) => {
  const a = nodeCrypto.x25519Ephemeral()
  const b = browserCrypto.x25519Ephemeral()
  const ab = a.agree(b.publicKey)
  t.deepEqual(ab, b.agree(a.publicKey))
  const salt = new Uint8Array([9, 9])
  const info = new TextEncoder().encode('peerkit-tcp/1 keys')
  t.deepEqual(nodeCrypto.hkdfSha256(ab, salt, info, 64), browserCrypto.hkdfSha256(ab, salt, info, 64))
  t.deepEqual(nodeCrypto.sha256(salt, info), browserCrypto.sha256(salt, info))
  t.throws(() => b.agree(new Uint8Array(31)), { instanceOf: RangeError })
})
