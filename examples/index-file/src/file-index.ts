// src/file-index.ts
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import {
  type ContentHash,
  contentHashSchema,
  type FileRecord,
  fileRecordSchema,
  type Hit,
  type Index,
  type PeerId,
  peerIdSchema,
  type Query,
} from '@peerkit/core'
import { memoryIndexFactory } from '@peerkit/index-memory'
import { z } from 'zod'
import type { ResolvedFileIndexOptions } from './options.js'

/** One line of the log: a change, replayed in order on open. */
const entrySchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('put'), record: fileRecordSchema }),
  z.object({ op: z.literal('remove'), hash: contentHashSchema, provider: peerIdSchema.optional() }),
  z.object({ op: z.literal('removeProvider'), provider: peerIdSchema }),
])
type Entry = z.infer<typeof entrySchema>

/**
 * A persistent Index: the records live in memory (an index from
 * `@peerkit/index-memory` answers every query) and every change is appended
 * to a JSON-lines log, flushed to disk before the call returns. Opening
 * replays the log; a last line cut short by a crash is dropped. When the log
 * has grown `compactRatio` times past the live records it is rewritten: a
 * temporary file, flushed, then renamed over the log, so a crash leaves the
 * old log or the new one, never a mix.
 */
export class FileIndex implements Index {
  private readonly memory: Index = memoryIndexFactory()
  private lines = 0
  /** Lines of the log that were unreadable when it was opened (a torn last write). */
  readonly dropped: number

  constructor(
    readonly path: string,
    private readonly options: ResolvedFileIndexOptions,
  ) {
    mkdirSync(dirname(path), { recursive: true })
    this.dropped = this.replay()
    // A torn or corrupt line would stay in the way of the lines after it: start from a clean log.
    if (this.dropped > 0) this.compact()
  }

  put(record: FileRecord): void {
    this.append({ op: 'put', record })
    this.memory.put(record)
    this.compactWhenDue()
  }

  remove(hash: ContentHash, provider?: PeerId): number {
    const removed = this.memory.remove(hash, provider)
    if (removed > 0)
      this.append(provider === undefined ? { op: 'remove', hash } : { op: 'remove', hash, provider })
    this.compactWhenDue()
    return removed
  }

  removeProvider(provider: PeerId): number {
    const removed = this.memory.removeProvider(provider)
    if (removed > 0) this.append({ op: 'removeProvider', provider })
    this.compactWhenDue()
    return removed
  }

  get(hash: ContentHash): FileRecord[] {
    return this.memory.get(hash)
  }

  search(query: Query): Hit[] {
    return this.memory.search(query)
  }

  records(): IterableIterator<FileRecord> {
    return this.memory.records()
  }

  get size(): number {
    return this.memory.size
  }

  clear(): void {
    this.memory.clear()
    this.compact()
  }

  /** Reads the log into memory; returns how many lines could not be read. */
  private replay(): number {
    let text: string
    try {
      text = readFileSync(this.path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0 // a new index: the first change creates the log
      throw err
    }
    let dropped = 0
    for (const line of text.split('\n')) {
      if (line === '') continue
      const entry = parseEntry(line)
      if (!entry) {
        dropped++
        continue
      }
      this.lines++
      if (entry.op === 'put') this.memory.put(entry.record)
      else if (entry.op === 'remove') this.memory.remove(entry.hash, entry.provider)
      else this.memory.removeProvider(entry.provider)
    }
    return dropped
  }

  private append(entry: Entry): void {
    const fd = openSync(this.path, 'a', 0o644)
    try {
      writeSync(fd, `${JSON.stringify(entry)}\n`)
      if (this.options.fsync) fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    this.lines++
  }

  private compactWhenDue(): void {
    const { compactMinLines, compactRatio } = this.options
    if (this.lines >= compactMinLines && this.lines > this.memory.size * compactRatio) this.compact()
  }

  /** Rewrites the log as one `put` per live record: temporary file, fsync, rename, fsync of the folder. */
  private compact(): void {
    const tmp = join(dirname(this.path), `.${basename(this.path)}.${process.pid}.compact.tmp`)
    const fd = openSync(tmp, 'w', 0o644)
    let lines = 0
    try {
      let chunk = ''
      for (const record of this.memory.records()) {
        chunk += `${JSON.stringify({ op: 'put', record })}\n`
        lines++
        if (chunk.length > 1 << 20) {
          writeSync(fd, chunk)
          chunk = ''
        }
      }
      writeSync(fd, chunk)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, this.path)
    syncFolder(dirname(this.path))
    this.lines = lines
  }
}

function parseEntry(line: string): Entry | undefined {
  try {
    const parsed = entrySchema.safeParse(JSON.parse(line))
    return parsed.success ? parsed.data : undefined
  } catch {
    return undefined // not JSON: a write cut short by a crash; counted in `dropped` by the caller
  }
}

/** Flushes a folder so a rename in it survives a power loss (not possible on every system). */
function syncFolder(dir: string): void {
  let fd: number | undefined
  try {
    fd = openSync(dir, 'r')
    fsyncSync(fd)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? ''
    // Windows and some network file systems cannot flush a folder; the rename is done either way.
    if (!['EISDIR', 'EPERM', 'EINVAL', 'ENOTSUP', 'EACCES'].includes(code)) throw err
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}
