// src/file-index.ts
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import {
  type Clock,
  type ContentHash,
  contentHashSchema,
  type FileRecord,
  fileRecordSchema,
  type Hit,
  type Index,
  type PeerId,
  type PutOptions,
  peerIdSchema,
  type Query,
} from '@peerkit/core'
import { MemoryIndex } from '@peerkit/index-memory'
import { z } from 'zod'
import type { ResolvedFileIndexOptions } from './options.js'

/** A record as put: FileRecord's fields checked, any others (a Chord record's signature) kept. */
const recordSchema = (
  fileRecordSchema as unknown as z.ZodObject<z.ZodRawShape>
).loose() as unknown as z.ZodType<FileRecord>

/** One line of the log: a change, replayed in order on open. */
const entrySchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('put'), record: recordSchema, expiresAt: z.number().optional() }),
  z.object({ op: z.literal('remove'), hash: contentHashSchema, provider: peerIdSchema.optional() }),
  z.object({ op: z.literal('removeProvider'), provider: peerIdSchema }),
  z.object({ op: z.literal('clear') }),
])
type Entry = z.infer<typeof entrySchema>

/**
 * A persistent Index: the records live in memory (a `MemoryIndex` answers
 * every query) and every change is appended to a JSON-lines log, flushed to
 * disk before the call's promise resolves. `open()` replays the log; a last
 * line cut short by a crash is dropped. When the log has grown
 * `compactRatio` times past the live records it is rewritten: a temporary
 * file, flushed, then renamed over the log, so a crash leaves the old log or
 * the new one, never a mix. A record put with an expiry lapses by `clock`,
 * before and after a restart.
 */
export class FileIndex implements Index {
  readonly durable = true
  private readonly memory: MemoryIndex
  private lines = 0
  /** The changes in the order they were called: each waits for the one before. */
  private queue: Promise<unknown> = Promise.resolve()
  /** Lines of the log that were unreadable when it was opened (a torn last write). */
  dropped = 0

  constructor(
    readonly path: string,
    private readonly options: ResolvedFileIndexOptions,
    components: { clock?: Clock } = {},
  ) {
    this.memory = new MemoryIndex({ clock: components.clock })
  }

  async open(): Promise<void> {
    return this.serial(async () => {
      mkdirSync(dirname(this.path), { recursive: true })
      await this.memory.clear()
      this.lines = 0
      this.dropped = await this.replay()
      // A torn or corrupt line would stay in the way of the lines after it: start from a clean log.
      if (this.dropped > 0) await this.compact()
    })
  }

  /** Every change is on disk when its promise resolves: closing waits for those under way. */
  async close(): Promise<void> {
    await this.serial(async () => {})
  }

  put(record: FileRecord, options?: PutOptions): Promise<void> {
    return this.serial(async () => {
      const expiresAt = options?.expiresAt
      this.append(expiresAt === undefined ? { op: 'put', record } : { op: 'put', record, expiresAt })
      await this.memory.put(record, options)
      await this.compactWhenDue()
    })
  }

  remove(hash: ContentHash, provider?: PeerId): Promise<number> {
    return this.serial(async () => {
      const removed = await this.memory.remove(hash, provider)
      if (removed > 0)
        this.append(provider === undefined ? { op: 'remove', hash } : { op: 'remove', hash, provider })
      await this.compactWhenDue()
      return removed
    })
  }

  removeProvider(provider: PeerId): Promise<number> {
    return this.serial(async () => {
      const removed = await this.memory.removeProvider(provider)
      if (removed > 0) this.append({ op: 'removeProvider', provider })
      await this.compactWhenDue()
      return removed
    })
  }

  get(hash: ContentHash): Promise<FileRecord[]> {
    return this.serial(() => this.memory.get(hash))
  }

  search(query: Query): Promise<Hit[]> {
    return this.serial(() => this.memory.search(query))
  }

  async *records(): AsyncIterableIterator<FileRecord> {
    yield* await this.serial(() => collect(this.memory.records()))
  }

  count(): Promise<number> {
    return this.serial(() => this.memory.count())
  }

  clear(): Promise<void> {
    return this.serial(async () => {
      this.append({ op: 'clear' })
      await this.memory.clear()
      await this.compact()
    })
  }

  /** Lapsed records leave memory here; their lines go at the next compaction (replaying them lapses them again). */
  expire(): Promise<number> {
    return this.serial(() => this.memory.expire())
  }

  /** Runs `op` after every change called before it. */
  private serial<T>(op: () => Promise<T>): Promise<T> {
    const done = this.queue.then(op)
    this.queue = done.catch(() => undefined) // the caller gets the error; the next change still runs
    return done
  }

  /** Reads the log into memory; returns how many lines could not be read. */
  private async replay(): Promise<number> {
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
      if (entry.op === 'put') await this.memory.put(entry.record, { expiresAt: entry.expiresAt })
      else if (entry.op === 'remove') await this.memory.remove(entry.hash, entry.provider)
      else if (entry.op === 'removeProvider') await this.memory.removeProvider(entry.provider)
      else await this.memory.clear()
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

  private async compactWhenDue(): Promise<void> {
    const { compactMinLines, compactRatio } = this.options
    if (this.lines >= compactMinLines && this.lines > (await this.memory.count()) * compactRatio)
      await this.compact()
  }

  /** Rewrites the log as one `put` per live record: temporary file, fsync, rename, fsync of the folder. */
  private async compact(): Promise<void> {
    const records = await collect(this.memory.records())
    const tmp = join(dirname(this.path), `.${basename(this.path)}.${process.pid}.compact.tmp`)
    const fd = openSync(tmp, 'w', 0o644)
    let lines = 0
    try {
      let chunk = ''
      for (const record of records) {
        const expiresAt = this.memory.expiryOf(record)
        chunk += `${JSON.stringify(expiresAt === undefined ? { op: 'put', record } : { op: 'put', record, expiresAt })}\n`
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

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of items) out.push(item)
  return out
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
