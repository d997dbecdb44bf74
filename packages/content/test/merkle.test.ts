import test from 'ava'
import {
  HASH_SIZE,
  hashLeaf,
  hashLeafAsync,
  hashNode,
  MerkleTree,
  merkleRoot,
  toHex,
  verifyProof,
} from '../src/index.js'
import { refLeaf, refRoot, sha256 } from './helpers/reference.js'

function leavesOf(n: number): { chunks: Uint8Array[]; leaves: Uint8Array } {
  const chunks = Array.from({ length: n }, (_, i) => new TextEncoder().encode(`chunk-${i}`))
  const leaves = new Uint8Array(n * HASH_SIZE)
  for (const [i, c] of chunks.entries()) leaves.set(refLeaf(c), i * HASH_SIZE)
  return { chunks, leaves }
}

test('leaf and node hashes are domain-separated SHA-256', (t) => {
  // SHA-256 of the single byte 0x00: the leaf hash of an empty chunk (RFC 6962's empty-leaf vector).
  t.is(toHex(hashLeaf(new Uint8Array(0))), '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d')
  const a = hashLeaf(Buffer.from('a'))
  const b = hashLeaf(Buffer.from('b'))
  t.deepEqual(Buffer.from(hashNode(a, b)), sha256(Buffer.from([1]), a, b))
  t.notDeepEqual(Buffer.from(hashNode(a, b)), sha256(a, b))
  // A node is never a leaf of the concatenation of its children.
  t.notDeepEqual(Buffer.from(hashNode(a, b)), Buffer.from(hashLeaf(Buffer.concat([a, b]))))
})

test('three leaves: the odd last node is promoted, not duplicated', (t) => {
  const { chunks, leaves } = leavesOf(3)
  const [l0, l1, l2] = chunks.map(refLeaf) as [Buffer, Buffer, Buffer]
  const expected = sha256(Buffer.from([1]), sha256(Buffer.from([1]), l0, l1), l2)
  t.is(toHex(merkleRoot(leaves)), expected.toString('hex'))
})

test('roots match an independent RFC 9162 implementation for 1..70 leaves', (t) => {
  for (let n = 1; n <= 70; n++) {
    const { chunks, leaves } = leavesOf(n)
    t.is(toHex(merkleRoot(leaves)), refRoot(chunks.map(refLeaf)).toString('hex'), `n=${n}`)
    t.is(toHex(new MerkleTree(leaves).root), refRoot(chunks.map(refLeaf)).toString('hex'), `tree n=${n}`)
  }
})

test('every inclusion proof verifies, for every size up to 40', (t) => {
  for (let n = 1; n <= 40; n++) {
    const { chunks, leaves } = leavesOf(n)
    const tree = new MerkleTree(leaves)
    for (let i = 0; i < n; i++) {
      t.true(verifyProof(tree.root, i, n, hashLeaf(chunks[i] as Uint8Array), tree.proof(i)), `n=${n} i=${i}`)
    }
  }
})

test('a tampered chunk, proof, index, count or root fails', (t) => {
  const n = 13
  const { chunks, leaves } = leavesOf(n)
  const tree = new MerkleTree(leaves)
  for (let i = 0; i < n; i++) {
    const chunk = chunks[i] as Uint8Array
    const proof = tree.proof(i)
    const bad = Uint8Array.from(chunk)
    bad[0] = (bad[0] as number) ^ 1
    t.false(verifyProof(tree.root, i, n, hashLeaf(bad), proof), `chunk i=${i}`)
    for (let k = 0; k < proof.length; k++) {
      const tampered = proof.map((p) => Uint8Array.from(p))
      const node = tampered[k] as Uint8Array
      node[5] = (node[5] as number) ^ 0x80
      t.false(verifyProof(tree.root, i, n, hashLeaf(chunk), tampered), `proof i=${i} k=${k}`)
    }
    t.false(verifyProof(tree.root, (i + 1) % n, n, hashLeaf(chunk), proof), `index i=${i}`)
    t.false(verifyProof(tree.root, i, n, hashLeaf(chunk), proof.slice(0, -1)), `short proof i=${i}`)
    t.false(
      verifyProof(tree.root, i, n, hashLeaf(chunk), [...proof, proof[0] as Uint8Array]),
      `long proof i=${i}`,
    )
  }
  // The count is authenticated by the file size, not by the proof; a proof for the last leaf still fails under another count.
  t.false(verifyProof(tree.root, n - 1, n + 1, hashLeaf(chunks[n - 1] as Uint8Array), tree.proof(n - 1)))
  t.false(verifyProof(new Uint8Array(HASH_SIZE), 0, n, hashLeaf(chunks[0] as Uint8Array), tree.proof(0)))
  t.false(verifyProof(tree.root, -1, n, tree.leaf(0), tree.proof(0)))
  t.false(verifyProof(tree.root, 0, n, new Uint8Array(31), tree.proof(0)))
})

test('a one-leaf tree has an empty proof and its root is the leaf', (t) => {
  const { chunks, leaves } = leavesOf(1)
  const tree = new MerkleTree(leaves)
  t.deepEqual(tree.proof(0), [])
  t.is(toHex(tree.root), refLeaf(chunks[0] as Uint8Array).toString('hex'))
  t.throws(() => tree.proof(1), { instanceOf: RangeError })
  t.throws(() => new MerkleTree(new Uint8Array(0)), { instanceOf: RangeError })
})

test('hashLeafAsync (thread pool) equals hashLeaf', async (t) => {
  for (const size of [0, 1, 65_536, 300_001]) {
    const chunk = new Uint8Array(size).map((_, i) => (i * 7) & 0xff)
    t.deepEqual(await hashLeafAsync(chunk), hashLeaf(chunk))
  }
})
