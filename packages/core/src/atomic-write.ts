import { randomBytes } from 'node:crypto'
import { link, open, readdir, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

export interface AtomicWriteOptions {
  /** File mode of the new file (before the umask). @default 0o644 */
  mode?: number
  /**
   * Replace a file already at `path`. When false, an existing file is kept and
   * `writeFileAtomic` resolves to false (the file appeared first: a peer
   * started twice at once keeps one identity). @default true
   */
  replace?: boolean
}

/**
 * Writes `data` to `path` so that a reader, or a process started after a
 * crash at any moment, sees either the old file or the whole new one, never
 * a partial or empty file: the bytes go to a temporary file in the same
 * folder (`.NAME.PID.RANDOM.tmp`), which is flushed to disk (fsync) and then
 * renamed over `path` (or linked to it, when `replace` is false); the folder
 * is flushed last so the rename itself survives a power loss. Resolves to
 * true when the file was written, false when `replace` is false and a file
 * was already there. The folder must exist.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<boolean> {
  const dir = dirname(path)
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)
  const fh = await open(tmp, 'wx', options.mode ?? 0o644)
  let written = false
  try {
    try {
      await fh.writeFile(data)
      await fh.sync()
    } finally {
      await fh.close()
    }
    if (options.replace === false) {
      try {
        await link(tmp, path)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
        throw err
      }
    } else {
      await rename(tmp, path)
    }
    written = true
    await syncFolder(dir)
    return true
  } finally {
    // After a rename the temporary name is gone already; after a link (or a failure) it is removed here.
    if (!written || options.replace === false) await rm(tmp, { force: true })
  }
}

/**
 * Removes the temporary files `writeFileAtomic` left for `path` when its
 * process was killed before the rename (`.NAME.PID.*.tmp` whose PID is no
 * longer running). Returns how many it removed.
 */
export async function removeStaleTemps(path: string): Promise<number> {
  const prefix = `.${basename(path)}.`
  let names: string[]
  try {
    names = await readdir(dirname(path))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0
    throw err
  }
  let removed = 0
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue
    const pid = Number(name.slice(prefix.length).split('.')[0])
    if (!Number.isInteger(pid) || pid <= 0 || isRunning(pid)) continue
    await rm(join(dirname(path), name), { force: true })
    removed++
  }
  return removed
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function syncFolder(dir: string): Promise<void> {
  let fh: Awaited<ReturnType<typeof open>> | undefined
  try {
    fh = await open(dir, 'r')
    await fh.sync()
  } catch (err) {
    // Some systems (Windows, some network file systems) cannot open or flush a folder; the rename is done either way.
    if (
      !['EISDIR', 'EPERM', 'EINVAL', 'ENOTSUP', 'EACCES'].includes((err as NodeJS.ErrnoException).code ?? '')
    )
      throw err
  } finally {
    await fh?.close()
  }
}
