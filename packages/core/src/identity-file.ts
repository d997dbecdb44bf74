import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { removeStaleTemps, writeFileAtomic } from './atomic-write.js'
import { DamagedFileError } from './errors.js'
import { Identity } from './peer-id.js'

export const IDENTITY_FILE = 'identity.key'

/**
 * Loads the identity kept in `dataDir`, creating and saving a new one (mode
 * 0600, written atomically: a crash leaves no file or a whole one) the first
 * time. A file that is there but cannot be read as a key throws
 * `DamagedFileError` naming it and saying what to do; it is never replaced.
 */
export async function loadOrCreateIdentity(dataDir: string): Promise<Identity> {
  const file = join(dataDir, IDENTITY_FILE)
  // Also when the key is there: a start killed between linking its key into place and removing the
  // temporary file leaves a whole key and that file (a folder that does not exist yet holds none).
  await removeStaleTemps(file)
  const existing = await readIdentity(dataDir)
  if (existing) return existing
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  // Another process may create it first (two starts at once): then its identity is used.
  await writeFileAtomic(file, Identity.generate().toPem(), { mode: 0o600, replace: false })
  const saved = await readIdentity(dataDir)
  if (!saved) throw new DamagedFileError(`${IDENTITY_FILE} in ${dataDir} vanished right after it was written`)
  return saved
}

/** The identity in `dataDir`, or undefined when there is no identity file. */
async function readIdentity(dataDir: string): Promise<Identity | undefined> {
  let pem: string
  try {
    pem = await readFile(join(dataDir, IDENTITY_FILE), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  try {
    return Identity.fromPem(pem)
  } catch (err) {
    const what = pem.trim() === '' ? 'empty' : `not an Ed25519 private key: ${(err as Error).message}`
    throw new DamagedFileError(
      `${IDENTITY_FILE} in ${dataDir} is damaged (${what}): move it away to create a new identity, ` +
        'or restore it from a backup',
      { cause: err },
    )
  }
}
