// No import of @peerkit/core here: this module is loaded by worker threads,
// which must not pull in tsyringe (it needs a reflect polyfill).
import { createHash } from 'node:crypto'
import { open } from 'node:fs/promises'
import { HASH_SIZE } from './merkle.js'

/** Bytes read per `read()`: several small chunks at a time, one big chunk at a time. */
const READ_SIZE = 1024 * 1024
const LEAF_PREFIX = Buffer.from([0x00])

export interface HashRangeOptions {
  signal?: AbortSignal
}

/**
 * The leaf hashes of chunks `[first, end)` of a file, read in bounded blocks
 * (memory stays at one read buffer whatever the file size).
 */
export async function hashChunks(
  path: string,
  size: number,
  chunkSize: number,
  first: number,
  end: number,
  options: HashRangeOptions = {},
): Promise<Uint8Array> {
  const leaves = new Uint8Array((end - first) * HASH_SIZE)
  if (size === 0) {
    leaves.set(createHash('sha256').update(LEAF_PREFIX).digest())
    return leaves
  }
  const perRead = Math.max(1, Math.floor(READ_SIZE / chunkSize))
  // Two buffers: the next block is read while this one is hashed.
  const buffers = [Buffer.allocUnsafe(perRead * chunkSize), Buffer.allocUnsafe(perRead * chunkSize)]
  const fh = await open(path, 'r')
  const readBlock = async (i: number, buffer: Buffer): Promise<number> => {
    const offset = i * chunkSize
    const want = Math.min(Math.min(perRead, end - i) * chunkSize, size - offset)
    let got = 0
    while (got < want) {
      const { bytesRead } = await fh.read(buffer, got, want - got, offset + got)
      if (bytesRead === 0)
        throw new RangeError(`${path} is shorter than ${size} bytes: it changed while being hashed`)
      got += bytesRead
    }
    return want
  }
  try {
    let pending: Promise<number> | undefined = readBlock(first, buffers[0] as Buffer)
    for (let i = first, turn = 0; i < end; i += perRead, turn ^= 1) {
      options.signal?.throwIfAborted()
      const want = await (pending as Promise<number>)
      const buffer = buffers[turn] as Buffer
      pending = i + perRead < end ? readBlock(i + perRead, buffers[turn ^ 1] as Buffer) : undefined
      // A failed read-ahead is reported by the await above on the next turn; never unhandled meanwhile.
      pending?.catch(() => {}) // reported by the await on the next turn
      const n = Math.min(perRead, end - i)
      for (let k = 0; k < n; k++) {
        const start = k * chunkSize
        const digest = createHash('sha256')
          .update(LEAF_PREFIX)
          .update(buffer.subarray(start, Math.min(start + chunkSize, want)))
          .digest()
        leaves.set(digest, (i - first + k) * HASH_SIZE)
      }
    }
    await pending?.catch(() => {}) // a read-ahead past the end only: every block hashed was awaited above
  } finally {
    await fh.close()
  }
  return leaves
}
