import { join } from 'node:path'
import { chunkCount, chunkSizeFor, hashBytes, merkleRoot } from '@peerkit/content'
import test from 'ava'
import { checkManifestHeader, type ManifestResponse } from '../src/index.js'
import { bytesOf } from './helpers/bytes.js'
import { refOf, startPeers, tempDir } from './helpers/peers.js'

const size = 300_000
const file = hashBytes(bytesOf(size, 4))
const honest: ManifestResponse = {
  op: 'manifest',
  size,
  chunkSize: file.chunkSize,
  count: chunkCount(size, file.chunkSize),
  root: file.root,
  from: 0,
  leaves: file.leaves,
}
const check =
  (res: Partial<ManifestResponse>, expected = {}) =>
  () =>
    checkManifestHeader(file.hash, { ...honest, ...res }, expected)

test('an honest header passes, with or without what the hit said', (t) => {
  t.notThrows(check({}))
  t.notThrows(check({}, { size, chunkSize: file.chunkSize }))
})

test('a header is refused for an impossible chunking or count (ProtocolError) before any leaf is read', (t) => {
  t.throws(check({ chunkSize: 2 * file.chunkSize }), {
    name: 'ProtocolError',
    message: /impossible chunking/,
  })
  t.throws(check({ chunkSize: 1024 }), { name: 'ProtocolError', message: /\[65536, 4194304\]/ })
  t.throws(check({ count: 4_194_304 }), {
    name: 'ProtocolError',
    message: /claims 4194304 chunks; a 300000-byte file has 5/,
  })
  t.throws(check({ count: 1 }), { name: 'ProtocolError' })
})

test('a header that does not give the hash, or differs from the hit, is refused (VerificationError)', (t) => {
  const leaves = new Uint8Array(Buffer.from(file.hash, 'hex'))
  // The forgery of issue 17 item 1, and the real root under another size.
  t.throws(check({ size: 1000, chunkSize: chunkSizeFor(1000), count: 1, root: merkleRoot(leaves), leaves }), {
    name: 'VerificationError',
    message: /do not give the content hash/,
  })
  t.throws(check({ size: size - 1 }), { name: 'VerificationError' })
  t.throws(check({}, { size: 1000 }), {
    name: 'VerificationError',
    message: /says 300000 bytes; the file is 1000 bytes/,
  })
  t.throws(check({}, { size, chunkSize: 131_072 }), {
    name: 'VerificationError',
    message: /chunks of 65536 bytes/,
  })
})

test('download() refuses an expected size or chunk size no file can have', async (t) => {
  const [d, a] = await startPeers(t, 2, { wire: 'memory' })
  const to = join(await tempDir(t), 'out.bin')
  const providers = [refOf(a)]
  t.throws(() => d.download(file.hash, { to, providers, size: -1 }), {
    name: 'InvalidOptionsError',
    message: /size must be/,
  })
  t.throws(() => d.download(file.hash, { to, providers, size, chunkSize: 1000 }), {
    name: 'InvalidOptionsError',
  })
  t.throws(() => d.download(file.hash, { to, providers, chunkSize: 65_536 }), {
    name: 'InvalidOptionsError',
    message: /chunkSize is given without size/,
  })
})
