/**
 * The browser build of `host-files.ts`: the few node:fs/promises calls the
 * transfer makes, over the origin-private file system (OPFS,
 * `navigator.storage.getDirectory()`), so downloads are written chunk by
 * chunk to storage rather than held in memory. Paths are `/`-separated names
 * below the origin's root. Writes go through one writable stream per open
 * file, committed by `sync()` or `close()`: reads see them after that, which
 * is what the part file does (it reads before it writes, and renames after
 * it synced). Errors for a missing entry carry `code: 'ENOENT'`, as Node's do.
 */

interface OpfsWritable {
  write(chunk: { type: 'write'; position: number; data: Uint8Array } | Uint8Array | string): Promise<void>
  truncate(size: number): Promise<void>
  close(): Promise<void>
}
interface OpfsFile {
  size: number
  lastModified: number
  slice(start: number, end: number): { arrayBuffer(): Promise<ArrayBuffer> }
  text(): Promise<string>
}
interface OpfsFileHandle {
  kind: 'file'
  getFile(): Promise<OpfsFile>
  createWritable(options?: { keepExistingData?: boolean }): Promise<OpfsWritable>
  move(dir: OpfsDirectory, name: string): Promise<void>
}
interface OpfsDirectory {
  kind: 'directory'
  getDirectoryHandle(name: string, options?: { create?: boolean }): Promise<OpfsDirectory>
  getFileHandle(name: string, options?: { create?: boolean }): Promise<OpfsFileHandle>
  removeEntry(name: string): Promise<void>
}

function root(): Promise<OpfsDirectory> {
  const storage = (
    globalThis as { navigator?: { storage?: { getDirectory?: () => Promise<OpfsDirectory> } } }
  ).navigator?.storage
  if (!storage?.getDirectory) {
    throw new Error(
      'this page has no origin-private file system (it needs a secure context: HTTPS or localhost)',
    )
  }
  return storage.getDirectory()
}

function missing(path: string, cause?: unknown): Error {
  return Object.assign(new Error(`ENOENT: no such file or directory, '${path}'`, { cause }), {
    code: 'ENOENT',
  })
}

function segments(path: string): string[] {
  const out: string[] = []
  for (const s of path.split('/')) {
    if (s === '' || s === '.') continue
    if (s === '..') out.pop()
    else out.push(s)
  }
  return out
}

export function resolve(...paths: string[]): string {
  return `/${segments(paths.join('/')).join('/')}`
}

export function dirname(path: string): string {
  return `/${segments(path).slice(0, -1).join('/')}`
}

async function folder(names: string[], create: boolean, path: string): Promise<OpfsDirectory> {
  let dir = await root()
  for (const name of names) {
    try {
      dir = await dir.getDirectoryHandle(name, { create })
    } catch (err) {
      throw missing(path, err)
    }
  }
  return dir
}

async function entry(
  path: string,
  create = false,
): Promise<{ dir: OpfsDirectory; name: string; file: OpfsFileHandle }> {
  const names = segments(path)
  const name = names.pop()
  if (name === undefined) throw missing(path)
  const dir = await folder(names, false, path)
  try {
    return { dir, name, file: await dir.getFileHandle(name, { create }) }
  } catch (err) {
    throw missing(path, err)
  }
}

export async function mkdir(path: string, _options?: unknown): Promise<void> {
  await folder(segments(path), true, path)
}

export async function stat(path: string): Promise<{ size: number; mtimeMs: number; isFile(): boolean }> {
  const names = segments(path)
  if (names.length === 0) return { size: 0, mtimeMs: 0, isFile: () => false }
  const { file } = await entry(path).catch(async (err) => {
    // A folder is there, not a file.
    await folder(names, false, path).catch(() => {
      throw err // neither a file nor a folder: report the file's ENOENT
    })
    return { file: undefined }
  })
  if (!file) return { size: 0, mtimeMs: 0, isFile: () => false }
  const f = await file.getFile()
  return { size: f.size, mtimeMs: f.lastModified, isFile: () => true }
}

/** An open OPFS file with the FileHandle calls the transfer uses. */
export class FileHandle {
  private writable: OpfsWritable | undefined

  constructor(private readonly file: OpfsFileHandle) {}

  async stat(): Promise<{ size: number; mtimeMs: number; isFile(): boolean }> {
    const f = await this.file.getFile()
    return { size: f.size, mtimeMs: f.lastModified, isFile: () => true }
  }

  async read(
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number,
  ): Promise<{ bytesRead: number }> {
    const f = await this.file.getFile()
    const bytes = new Uint8Array(await f.slice(position, position + length).arrayBuffer())
    buffer.set(bytes, offset)
    return { bytesRead: bytes.length }
  }

  private async stream(): Promise<OpfsWritable> {
    this.writable ??= await this.file.createWritable({ keepExistingData: true })
    return this.writable
  }

  async write(
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number,
  ): Promise<{ bytesWritten: number }> {
    const w = await this.stream()
    await w.write({ type: 'write', position, data: buffer.subarray(offset, offset + length) })
    return { bytesWritten: length }
  }

  async truncate(size: number): Promise<void> {
    await (await this.stream()).truncate(size)
  }

  /** Commits what was written (OPFS makes writes visible when the stream closes). */
  async sync(): Promise<void> {
    const w = this.writable
    this.writable = undefined
    await w?.close()
  }

  close(): Promise<void> {
    return this.sync()
  }
}

export async function open(path: string, flags: 'r' | 'r+' | 'w+'): Promise<FileHandle> {
  if (flags === 'w+') {
    const { file } = await entry(path, true)
    const handle = new FileHandle(file)
    await handle.truncate(0)
    return handle
  }
  return new FileHandle((await entry(path)).file)
}

export async function readFile(path: string, _encoding: 'utf8'): Promise<string> {
  return (await (await entry(path)).file.getFile()).text()
}

export async function writeFile(path: string, text: string): Promise<void> {
  const { file } = await entry(path, true)
  const w = await file.createWritable()
  await w.write(text)
  await w.close()
}

export async function rename(from: string, to: string): Promise<void> {
  const { file } = await entry(from)
  const names = segments(to)
  const name = names.pop() as string
  const dir = await folder(names, false, to)
  // Replace what is there, as rename(2) does.
  await dir.removeEntry(name).catch(() => {}) // nothing there: nothing to replace
  await file.move(dir, name)
}

export async function rm(path: string, options: { force?: boolean } = {}): Promise<void> {
  const names = segments(path)
  const name = names.pop()
  if (name === undefined) return
  try {
    const dir = await folder(names, false, path)
    await dir.removeEntry(name)
  } catch (err) {
    if (!options.force) throw missing(path, err)
  }
}
