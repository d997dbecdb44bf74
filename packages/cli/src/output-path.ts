import { constants } from 'node:fs'
import { copyFile, link, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { OutputError } from './errors.js'

/** Longest file name (UTF-8 bytes) a download is saved under, leaving room for `.peerkit.part.json`. */
export const MAX_NAME_BYTES = 200

/**
 * A remote file name made safe to save inside a folder: no path separators,
 * no `.`/`..`, no leading dot (no hidden files by surprise), no control,
 * C1 or bidi characters, none of `<>:"|?*`, at most MAX_NAME_BYTES bytes.
 * An empty result falls back to the hash's first 16 digits.
 */
export function safeFileName(name: string, hash: string): string {
  let s = name
    .normalize('NFC')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
    .replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, '')
    .replace(/[/\\<>:"|?*]/g, '_')
    .trim()
    .replace(/^[.\s]+/, '')
  while (Buffer.byteLength(s) > MAX_NAME_BYTES) s = Array.from(s).slice(0, -1).join('')
  s = s.trim()
  return s === '' ? hash.slice(0, 16) : s
}

/** What is at a path: nothing, a regular file, a folder, or something else. */
export async function kindOf(path: string): Promise<'none' | 'file' | 'folder' | 'other'> {
  try {
    const s = await stat(path)
    return s.isFile() ? 'file' : s.isDirectory() ? 'folder' : 'other'
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'none'
    throw err
  }
}

/**
 * Checks that a download may be saved at `target` (absolute): its folder
 * exists, nothing is at its staging path `TARGET.peerkit`, and nothing is at
 * `target` unless `force` (then only a regular file).
 * Throws `OutputError` saying how to fix it.
 */
export async function checkTarget(target: string, force: boolean): Promise<void> {
  const folder = dirname(target)
  const parent = await kindOf(folder)
  if (parent === 'none') {
    throw new OutputError(`the folder ${folder} does not exist — create it first, or choose another --out`)
  }
  if (parent !== 'folder') throw new OutputError(`${folder} is not a folder — choose another --out`)
  const staging = stagingPath(target)
  if ((await kindOf(staging)) !== 'none') {
    // Only a download stopped between its last check and being put in place leaves it; the transfer would replace it.
    throw new OutputError(
      `${staging} exists (a verified download not yet put in place, or a file of yours) — ` +
        `rename it to ${basename(target)} if it is the download, or move it away`,
    )
  }
  const kind = await kindOf(target)
  if (kind === 'none') return
  if (kind !== 'file')
    throw new OutputError(`${target} exists and is not a regular file — choose another --out`)
  if (!force) {
    throw new OutputError(
      `${target} exists — pass --force (force: true) to replace it, or choose another --out`,
    )
  }
}

/** Where the download of `target` is written until it is verified: `TARGET.peerkit` (its pieces `TARGET.peerkit.part`). */
export function stagingPath(target: string): string {
  return `${target}.peerkit`
}

/**
 * Puts the verified file at `staging` in place at `target`. Without `force`
 * it never replaces a file (a hard link, which fails if one appeared while
 * the download ran, or a copy that refuses to replace); with `force` it
 * renames over it. `keep`: leave `staging` (more outputs wait for it).
 */
export async function placeOutput(
  staging: string,
  target: string,
  force: boolean,
  keep: boolean,
): Promise<void> {
  if (force) {
    if (keep) {
      const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.peerkit-copy`)
      await copyFile(staging, tmp, constants.COPYFILE_FICLONE)
      await rename(tmp, target)
    } else {
      await rename(staging, target)
    }
    return
  }
  try {
    // A second output gets its own copy (editing one must not change the other); the last one the file itself.
    if (keep) await copyFile(staging, target, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE)
    else await linkOrCopy(staging, target)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    throw new OutputError(
      `${target} appeared while the file was downloading and was kept; the verified file is at ${staging} — ` +
        'move it where you want it, or download again with --force',
      { cause: err },
    )
  }
  if (!keep) await rm(staging, { force: true })
}

async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to)
  } catch (err) {
    // File systems without hard links (FAT, some network mounts) or a target on another device: copy instead.
    if (!['EPERM', 'ENOTSUP', 'EXDEV', 'EOPNOTSUPP'].includes((err as NodeJS.ErrnoException).code ?? ''))
      throw err
    await copyFile(from, to, constants.COPYFILE_EXCL)
  }
}
