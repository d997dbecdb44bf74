import { HASH_SIZE, leafAt, parentLevel } from './merkle.js'

/**
 * Every level of a file's Merkle tree, kept so that inclusion proofs cost
 * nothing to make (about twice the leaf list in memory: 64 bytes a chunk).
 */
export class MerkleTree {
  readonly [Symbol.toStringTag] = '@peerkit/content:MerkleTree'
  private readonly levels: Uint8Array[]

  /** `leaves`: the concatenated 32-byte leaf hashes, at least one. */
  constructor(readonly leaves: Uint8Array) {
    if (leaves.length === 0 || leaves.length % HASH_SIZE !== 0) {
      throw new RangeError(`a leaf list is a non-empty multiple of ${HASH_SIZE} bytes (got ${leaves.length})`)
    }
    this.levels = [leaves]
    let level = leaves
    while (level.length > HASH_SIZE) {
      level = parentLevel(level)
      this.levels.push(level)
    }
  }

  get count(): number {
    return this.leaves.length / HASH_SIZE
  }

  get root(): Uint8Array {
    return this.levels[this.levels.length - 1] as Uint8Array
  }

  leaf(index: number): Uint8Array {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.count) {
      throw new RangeError(`leaf index must be in [0, ${this.count}) (got ${index})`)
    }
    return leafAt(this.leaves, index)
  }

  /** The sibling hashes from leaf `index` up to the root (a promoted lone node adds none). */
  proof(index: number): Uint8Array[] {
    this.leaf(index)
    const out: Uint8Array[] = []
    let i = index
    for (const level of this.levels.slice(0, -1)) {
      const n = level.length / HASH_SIZE
      if (i % 2 === 1) out.push(leafAt(level, i - 1))
      else if (i + 1 < n) out.push(leafAt(level, i + 1))
      i = Math.floor(i / 2)
    }
    return out
  }
}
