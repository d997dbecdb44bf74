import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { AbortError } from '@peerkit/core'
import { chunkCount, chunkSizeFor } from './chunk-size.js'
import { type FileHash, fileHash } from './file-hash.js'
import { type HashRangeOptions, hashChunks } from './hash-chunks.js'

export { type FileHash, fileHash, hashBytes } from './file-hash.js'

/** Hashes one file in this thread, streaming it. */
export async function hashFile(path: string, options: HashRangeOptions = {}): Promise<FileHash> {
  const abs = resolve(path)
  const st = await stat(abs)
  if (!st.isFile()) throw new RangeError(`${abs} is not a regular file`)
  const chunkSize = chunkSizeFor(st.size)
  const leaves = await hashChunks(abs, st.size, chunkSize, 0, chunkCount(st.size, chunkSize), options).catch(
    (err) => {
      if (options.signal?.aborted) throw new AbortError('hashing aborted', { cause: options.signal.reason })
      throw err
    },
  )
  return fileHash(abs, st.size, st.mtimeMs, chunkSize, leaves)
}
