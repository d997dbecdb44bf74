import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { Identity, isPeerId, loadOrCreateIdentity, publicKeyOf, verifySignature } from '../src/index.js'

test('a generated identity signs and its PeerId verifies the signature', (t) => {
  const id = Identity.generate()
  t.true(isPeerId(id.peerId))
  const data = new TextEncoder().encode('nonce')
  const sig = id.sign(data)
  t.true(verifySignature(id.peerId, data, sig))
  t.false(verifySignature(id.peerId, new TextEncoder().encode('other'), sig))
  t.false(verifySignature(Identity.generate().peerId, data, sig))
})

test('a malformed PeerId never verifies and is rejected by publicKeyOf', (t) => {
  t.false(verifySignature('not-a-peer-id', new Uint8Array(1), new Uint8Array(64)))
  t.throws(() => publicKeyOf('x'), { name: 'InvalidOptionsError' })
})

test('the identity survives a restart through the data folder, with a private key file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'peerkit-id-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const first = await loadOrCreateIdentity(dir)
  const second = await loadOrCreateIdentity(dir)
  t.is(first.peerId, second.peerId)
  t.is((await stat(join(dir, 'identity.key'))).mode & 0o777, 0o600)
  t.is(Identity.fromPem(await readFile(join(dir, 'identity.key'), 'utf8')).peerId, first.peerId)
})

test('two fresh identities differ', (t) => {
  t.not(Identity.generate().peerId, Identity.generate().peerId)
})
