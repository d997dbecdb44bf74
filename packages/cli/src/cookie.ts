import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rm } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { removeStaleTemps, writeFileAtomic } from '@peerkit/core'
import { CommandError } from './errors.js'
import type { HostPort } from './options.js'

/** The cookie file's name in a node's data folder (`--data DIR`). */
export const COOKIE_FILE = 'api.cookie'
/** Bytes of randomness in a cookie (base64url on disk and in the header). */
const COOKIE_BYTES = 32

/**
 * Where a node keeps its API cookie: `DATA/api.cookie` with `--data DATA`,
 * otherwise `~/.peerkit/api-HOST-PORT.cookie` (per user, per API address), so
 * the client commands run by the same user find it from `--api` alone.
 */
export function cookiePath(dataDir: string | undefined, api: HostPort, home = homedir()): string {
  if (dataDir) return join(dataDir, COOKIE_FILE)
  const host = api.host === 'localhost' ? '127.0.0.1' : api.host.replace(/[^A-Za-z0-9.-]/g, '_')
  return join(home, '.peerkit', `api-${host}-${api.port}.cookie`)
}

/** A fresh random secret. */
export function newCookie(): string {
  return randomBytes(COOKIE_BYTES).toString('base64url')
}

/**
 * Writes `secret` to `file` (mode 0600, its folder created 0700), atomically:
 * a client never reads half a cookie, and a crash leaves the old one or the new.
 */
export async function writeCookie(file: string, secret: string): Promise<void> {
  try {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 })
    await removeStaleTemps(file)
    await writeFileAtomic(file, `${secret}\n`, { mode: 0o600 })
  } catch (err) {
    throw new CommandError(
      `cannot write the API cookie ${file}: ${(err as Error).message} — give the node a writable --data DIR`,
      { cause: err },
    )
  }
}

/** Removes the cookie at shutdown, unless another node has written its own there since. */
export async function removeCookie(file: string, secret: string): Promise<void> {
  const current = await readFile(file, 'utf8').catch(() => undefined) // gone or unreadable: nothing of ours to remove
  if (current?.trim() === secret) await rm(file, { force: true })
}

/**
 * Reads the secret from a cookie file. `required`: the user named the file
 * (`--cookie`, `--data`), so a missing file is an error; otherwise a missing
 * default cookie gives undefined (the request then goes without, and the
 * node answers 401 with what to do).
 */
export async function readCookie(file: string, required: boolean): Promise<string | undefined> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' && !required) return undefined
    throw new CommandError(
      code === 'ENOENT'
        ? `the API cookie ${file} does not exist — is the node running with that --data folder?`
        : code === 'EACCES'
          ? `cannot read the API cookie ${file} (permission denied) — run this command as the user that runs the node`
          : `cannot read the API cookie ${file}: ${(err as Error).message}`,
      { cause: err },
    )
  }
  const secret = text.trim()
  if (!secret) throw new CommandError(`the API cookie ${file} is empty — restart the node to write a new one`)
  return secret
}
