import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import {
  cachedVerifiers,
  Identity,
  isPeerId,
  loadOrCreateIdentity,
  publicKeyOf,
  randomBytes,
  toBase64url,
  VERIFIER_CACHE,
  verifySignature,
} from '../src/index.js'

test('a generated identity signs and its PeerId verifies the signature', (t) => {
  const id = Identity.generate()
  t.true(isPeerId(id.peerId))
  const data = new TextEncoder().encode('nonce')
  const sig = id.sign(data)
  t.true(verifySignature(id.peerId, data, sig))
  t.false(verifySignature(id.peerId, new TextEncoder().encode('other'), sig))
  t.false(verifySignature(Identity.generate().peerId, data, sig))
})

test('verifySignature keeps the verifier of a PeerId it checks again, and at most VERIFIER_CACHE of them', (t) => {
  const id = Identity.generate()
  const data = new TextEncoder().encode('login')
  const sig = id.sign(data)
  t.true(verifySignature(id.peerId, data, sig))
  const held = cachedVerifiers()
  t.true(verifySignature(id.peerId, data, sig), 'the kept verifier still verifies')
  t.false(verifySignature(id.peerId, new TextEncoder().encode('other'), sig))
  t.is(cachedVerifiers(), held, 'no second verifier for the same PeerId')
  // PeerIds that are 32 random bytes: each gets a verifier (that accepts nothing), cached in turn.
  const junk = new Uint8Array(64)
  for (let i = 0; i < VERIFIER_CACHE * 1.5; i++)
    t.false(verifySignature(toBase64url(randomBytes(32)), data, junk))
  t.true(cachedVerifiers() <= VERIFIER_CACHE, `${cachedVerifiers()} verifiers held`)
  t.true(cachedVerifiers() >= VERIFIER_CACHE / 2)
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

test('a start killed after linking its key, before removing the temporary file, leaves nothing behind the next start', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'peerkit-id-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const first = await loadOrCreateIdentity(dir)
  // what the killed start left: the key in place, and its temporary file (a PID above Linux's pid_max: never running)
  const pem = await readFile(join(dir, 'identity.key'), 'utf8')
  await writeFile(join(dir, `.identity.key.${2 ** 22 + 1}.abcdef.tmp`), pem)
  t.is((await loadOrCreateIdentity(dir)).peerId, first.peerId)
  t.deepEqual(await readdir(dir), ['identity.key'])
})

test('two fresh identities differ', (t) => {
  t.not(Identity.generate().peerId, Identity.generate().peerId)
})

test('an identity from an Ed25519 seed is the RFC 8032 key pair (test 1), the same for the same seed', (t) => {
  const seed = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex')
  const id = Identity.fromSeed(seed)
  t.is(
    Buffer.from(id.publicKey).toString('hex'),
    'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
  )
  t.is(
    Buffer.from(id.sign(new Uint8Array(0))).toString('hex'),
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  )
  t.is(Identity.fromSeed(seed).peerId, id.peerId)
  t.is(Identity.fromPem(id.toPem()).peerId, id.peerId)
  t.throws(() => Identity.fromSeed(new Uint8Array(31)), { name: 'InvalidOptionsError', message: /32 bytes/ })
})

test('a damaged identity.key is reported by name with what to do, and left in place', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'peerkit-id-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'identity.key')
  await writeFile(file, '')
  await t.throwsAsync(loadOrCreateIdentity(dir), {
    name: 'DamagedFileError',
    message: `identity.key in ${dir} is damaged (empty): move it away to create a new identity, or restore it from a backup`,
  })
  await writeFile(file, '-----BEGIN PRIVATE KEY-----\nMC4CAQAw\n')
  await t.throwsAsync(loadOrCreateIdentity(dir), {
    name: 'DamagedFileError',
    message: /^identity\.key in .* is damaged \(not an Ed25519 private key: .*\): move it away/,
  })
  t.is(await readFile(file, 'utf8'), '-----BEGIN PRIVATE KEY-----\nMC4CAQAw\n')
})

test('many identities created at once in one folder are all the same one', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'peerkit-id-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const ids = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateIdentity(join(dir, 'data'))))
  t.is(new Set(ids.map((i) => i.peerId)).size, 1)
  t.deepEqual(await readdir(join(dir, 'data')), ['identity.key'])
  t.is((await stat(join(dir, 'data'))).mode & 0o777, 0o700)
})
