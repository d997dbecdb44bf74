import type { FileHash } from './file-hash.js'

/**
 * Hashes computed elsewhere, for `hashFolder` to use: a page hashes the files
 * the user drops in a Web Worker, stores them in the origin-private file
 * system, and tells the browser build's `hashFolder` their hashes here, so
 * sharing them does not hash them again on the page's thread. An entry counts
 * only while the file's path, size and mtime are the ones remembered. The
 * Node build's `hashFolder` uses its HashCache instead and ignores this.
 */
const known = new Map<string, FileHash>()

/** At most this many are kept (the oldest is forgotten first). */
export const MAX_KNOWN_HASHES = 4096

export function rememberFileHash(file: FileHash): void {
  known.delete(file.path)
  known.set(file.path, file)
  if (known.size > MAX_KNOWN_HASHES) known.delete(known.keys().next().value as string)
}

/** The hash remembered for `path`, if its size and mtime are still those. */
export function knownFileHash(path: string, size: number, mtimeMs: number): FileHash | undefined {
  const file = known.get(path)
  return file && file.size === size && file.mtimeMs === mtimeMs ? file : undefined
}
