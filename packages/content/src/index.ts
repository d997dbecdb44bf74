/**
 * @packageDocumentation
 * Content addressing for peerkit: fixed-size chunks, the SHA-256 Merkle tree
 * whose root is a file's ContentHash, inclusion proofs, and streaming,
 * cached, multi-core hashing of files and folders.
 *
 * ```ts
 * import { HashCache, hashFolder, MerkleTree, verifyChunk } from '@peerkit/content'
 *
 * const files = await hashFolder('./videos', { cache: new HashCache(dataDir) })
 * const tree = new MerkleTree(files[0].leaves)
 * verifyChunk(files[0].hash, 3, tree.count, chunkBytes, tree.proof(3)) // true
 * ```
 */
export { keywords } from '@peerkit/core'
export * from './chunk-size.js'
export * from './content-hash.js'
export * from './hash-cache.js'
export * from './hash-chunks.js'
export * from './hash-file.js'
export * from './hash-folder.js'
export * from './hash-pool.js'
export * from './known-hashes.js'
export * from './merkle.js'
export * from './merkle-tree.js'
