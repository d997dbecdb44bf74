/** The smallest chunk: 64 KiB. Below this, per-chunk overhead (a request, a 32-byte leaf) starts to dominate. */
export const MIN_CHUNK_SIZE = 64 * 1024
/** The largest chunk: 4 MiB. Above this, one bad chunk wastes too much and a chunk no longer fits one message. */
export const MAX_CHUNK_SIZE = 4 * 1024 * 1024
/** Chunk sizes double until a file has at most this many chunks (or the size reaches `MAX_CHUNK_SIZE`). */
export const TARGET_MAX_CHUNKS = 2048

/**
 * The chunk size for a file of `size` bytes: the smallest power of two
 * ≥ 64 KiB that cuts the file into at most 2048 chunks, capped at 4 MiB.
 * So a file up to 128 MiB uses 64 KiB chunks, 1 GiB uses 512 KiB, and from
 * 8 GiB on the size stays 4 MiB (the chunk count then grows past 2048).
 */
export function chunkSizeFor(size: number): number {
  if (!Number.isSafeInteger(size) || size < 0)
    throw new RangeError(`file size must be a non-negative integer (got ${size})`)
  let chunkSize = MIN_CHUNK_SIZE
  while (chunkSize < MAX_CHUNK_SIZE && Math.ceil(size / chunkSize) > TARGET_MAX_CHUNKS) chunkSize *= 2
  return chunkSize
}

/** How many chunks a file has. An empty file has one, empty, chunk, so it has a Merkle root too. */
export function chunkCount(size: number, chunkSize: number): number {
  return Math.max(1, Math.ceil(size / chunkSize))
}

/** The byte range of chunk `index`: the last chunk may be short (or empty, for an empty file). */
export function chunkRange(
  index: number,
  size: number,
  chunkSize: number,
): { offset: number; length: number } {
  const offset = index * chunkSize
  return { offset, length: Math.max(0, Math.min(chunkSize, size - offset)) }
}
