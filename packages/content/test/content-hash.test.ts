import test from 'ava'
import {
  CONTENT_HASH_VERSION,
  chunkingError,
  chunkSizeFor,
  commitsTo,
  contentHash,
  HASH_SIZE,
  hashBytes,
  hashLeaf,
  MAX_CHUNK_SIZE,
  MerkleTree,
  MIN_CHUNK_SIZE,
  merkleRoot,
  toHex,
  verifyChunk,
} from '../src/index.js'
import { bytesOf, refChunks, refContentHash, refLeaf, refRoot } from './helpers/reference.js'

test('the ContentHash is version 2: SHA-256 over a tag, the version, the size, the chunk size and the root', (t) => {
  t.is(CONTENT_HASH_VERSION, 2)
  for (const size of [0, 1, 1000, 65_536, 300_000, 9 * 1024 * 1024 + 17]) {
    const bytes = bytesOf(size, size + 3)
    const chunkSize = chunkSizeFor(size)
    const root = refRoot(refChunks(bytes, chunkSize).map(refLeaf))
    const { hash } = hashBytes(bytes)
    t.is(hash, refContentHash(size, chunkSize, root), `size ${size}`)
    t.regex(hash, /^[0-9a-f]{64}$/)
    // Never the bare root (version 1), so no version-1 hash is ever taken for a version-2 one.
    t.not(hash, root.toString('hex'))
  }
  // A fixed vector, so the definition cannot drift unnoticed: the empty file.
  t.is(
    hashBytes(new Uint8Array(0)).hash,
    refContentHash(
      0,
      MIN_CHUNK_SIZE,
      Buffer.from('6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d', 'hex'),
    ),
  )
})

test('the hash commits to the size and the chunking: a one-leaf manifest of any hash does not give it', (t) => {
  const bytes = bytesOf(300_000, 5)
  const real = hashBytes(bytes)
  const root = merkleRoot(real.leaves)
  t.true(commitsTo(real.hash, { size: 300_000, chunkSize: real.chunkSize, root }))
  // The forgery of issue 17: the hash itself presented as the single leaf of a 1000-byte file.
  const forgedRoot = merkleRoot(Buffer.from(real.hash, 'hex'))
  t.false(commitsTo(real.hash, { size: 1000, chunkSize: chunkSizeFor(1000), root: forgedRoot }))
  // The right root under another size (same chunk size, fewer leaves claimed) gives another hash.
  t.false(commitsTo(real.hash, { size: 299_999, chunkSize: real.chunkSize, root }))
  t.false(commitsTo(real.hash, { size: 1000, chunkSize: real.chunkSize, root }))
})

test('only the chunking chunkSizeFor gives is accepted', (t) => {
  t.is(chunkingError(1000, MIN_CHUNK_SIZE), undefined)
  t.is(chunkingError(10 * 1024 ** 3, MAX_CHUNK_SIZE), undefined)
  t.regex(
    chunkingError(1000, 2 * MIN_CHUNK_SIZE) ?? '',
    /chunk size of a 1000-byte file is 65536 \(got 131072\)/,
  )
  t.regex(chunkingError(1000, 1024) ?? '', /\[65536, 4194304\]/)
  t.regex(chunkingError(1000, 8 * MAX_CHUNK_SIZE) ?? '', /\[65536, 4194304\]/)
  t.regex(chunkingError(-1, MIN_CHUNK_SIZE) ?? '', /size must be/)
  t.regex(chunkingError(2 ** 60, MAX_CHUNK_SIZE) ?? '', /safe integer/)
  const root = new Uint8Array(HASH_SIZE)
  t.throws(() => contentHash({ size: 1000, chunkSize: 1024, root }), { instanceOf: RangeError })
  t.throws(() => contentHash({ size: 1000, chunkSize: MIN_CHUNK_SIZE, root: new Uint8Array(31) }), {
    instanceOf: RangeError,
  })
  t.false(commitsTo('00'.repeat(32), { size: 1000, chunkSize: 1024, root }))
})

test('verifyChunk checks a chunk against a ContentHash with the size, chunk size and root a provider sends', (t) => {
  const size = 5 * 65_536 + 77
  const bytes = bytesOf(size, 9)
  const { hash, chunkSize, leaves } = hashBytes(bytes)
  const tree = new MerkleTree(leaves)
  const file = { size, chunkSize, root: tree.root }
  const chunks = refChunks(bytes, chunkSize)
  for (const [i, chunk] of chunks.entries())
    t.true(verifyChunk(hash, file, i, chunk, tree.proof(i)), `chunk ${i}`)
  const last = chunks.length - 1
  const lastChunk = chunks[last] as Uint8Array
  t.false(verifyChunk(hash, { ...file, size: size - 1 }, last, lastChunk, tree.proof(last)), 'another size')
  t.false(verifyChunk(hash, { ...file, root: hashLeaf(lastChunk) }, last, lastChunk, []), 'a forged root')
  t.false(verifyChunk('ab'.repeat(32), file, 0, chunks[0] as Uint8Array, tree.proof(0)), 'another hash')
  t.is(toHex(tree.root), toHex(merkleRoot(leaves)))
})
