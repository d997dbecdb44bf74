import { createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto'
import test from 'ava'
import { fromHex, Identity, toHex, verifySignature } from '../src/index.js'
import * as noble from '../src/platform/crypto.browser.js'
import * as node from '../src/platform/crypto.js'

// RFC 8032 §7.1, test 2 (one-byte message) and test 3 (two bytes).
const VECTORS = [
  {
    seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    pub: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    msg: '72',
    sig: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    seed: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    pub: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    msg: 'af82',
    sig: '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
]

for (const [name, impl] of [
  ['node', node],
  ['noble (the browser build)', noble],
] as const) {
  test(`${name}: Ed25519 gives RFC 8032's keys and signatures, and verifies them`, (t) => {
    for (const v of VECTORS) {
      const signer = impl.ed25519Signer(fromHex(v.seed))
      t.is(toHex(signer.publicKey), v.pub)
      t.is(toHex(signer.sign(fromHex(v.msg))), v.sig)
      const verify = impl.ed25519Verifier(fromHex(v.pub))
      t.true(verify(fromHex(v.msg), fromHex(v.sig)))
      const bad = fromHex(v.sig)
      bad[5] = (bad[5] as number) ^ 1
      t.false(verify(fromHex(v.msg), bad))
      t.false(verify(fromHex(v.msg), bad.subarray(0, 10)), 'a short signature is false, not a throw')
    }
    t.throws(() => impl.ed25519Verifier(new Uint8Array(5)))
  })

  test(`${name}: SHA-256 of parts is SHA-256 of their concatenation (FIPS 180-2 'abc')`, (t) => {
    const abc = new TextEncoder().encode('abc')
    const want = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
    t.is(toHex(impl.sha256(abc)), want)
    t.is(toHex(impl.sha256(abc.subarray(0, 1), abc.subarray(1))), want)
  })
}

test('the two builds agree on random keys and messages', (t) => {
  for (let i = 0; i < 20; i++) {
    const seed = globalThis.crypto.getRandomValues(new Uint8Array(32))
    const msg = globalThis.crypto.getRandomValues(new Uint8Array(i * 37))
    const a = node.ed25519Signer(seed)
    const b = noble.ed25519Signer(seed)
    t.deepEqual(a.publicKey, b.publicKey)
    t.deepEqual(a.sign(msg), b.sign(msg))
    t.true(noble.ed25519Verifier(a.publicKey)(msg, a.sign(msg)))
    t.deepEqual(node.sha256(msg), noble.sha256(msg))
  }
})

test('Identity reads a PEM that node:crypto wrote, and writes the PEM node:crypto would', (t) => {
  const { privateKey } = generateKeyPairSync('ed25519')
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
  const id = Identity.fromPem(pem)
  t.is(id.toPem(), pem)
  const data = new Uint8Array([1, 2, 3])
  t.true(verifySignature(id.peerId, data, id.sign(data)))
  t.is(createPrivateKey(id.toPem()).asymmetricKeyType, 'ed25519')
  t.throws(() => Identity.fromPem('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'), {
    name: 'InvalidOptionsError',
  })
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
    format: 'pem',
    type: 'pkcs8',
  })
  t.throws(() => Identity.fromPem(rsa.toString()), { name: 'InvalidOptionsError', message: /Ed25519/ })
})

test('node: the signer (its key imported as a JWK) signs as the PKCS#8 key of the same seed', (t) => {
  const prefix = fromHex('302e020100300506032b657004220420')
  for (let i = 0; i < 5; i++) {
    const seed = globalThis.crypto.getRandomValues(new Uint8Array(32))
    const der = createPrivateKey({ key: Buffer.concat([prefix, seed]), format: 'der', type: 'pkcs8' })
    const msg = globalThis.crypto.getRandomValues(new Uint8Array(40))
    const signer = node.ed25519Signer(seed)
    t.deepEqual(signer.sign(msg), new Uint8Array(sign(null, msg, der)))
    t.deepEqual(signer.sign(msg), new Uint8Array(sign(null, msg, der)), 'and again, with the key it kept')
    const spki = createPublicKey(der).export({ format: 'der', type: 'spki' })
    t.deepEqual(signer.publicKey, new Uint8Array(spki.subarray(12)))
  }
})
