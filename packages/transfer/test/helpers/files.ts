import { createHash } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { FileRecord, Peer } from '@peerkit/core'
import { bytesOf } from './bytes.js'

export function sha(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** Each peer shares its own copy of the same `size` bytes; returns the record and the bytes. */
export async function shareSame(
  peers: Peer[],
  dir: string,
  size: number,
  seed = 42,
): Promise<{ record: FileRecord; bytes: Uint8Array }> {
  const bytes = bytesOf(size, seed)
  let record: FileRecord | undefined
  for (const [i, p] of peers.entries()) {
    const path = join(dir, `copy-${i}-${seed}.bin`)
    await writeFile(path, bytes)
    ;[record] = await p.share(path)
  }
  if (!record) throw new Error('nothing shared')
  return { record, bytes }
}

export async function fileSha(path: string): Promise<string> {
  return sha(await readFile(path))
}
