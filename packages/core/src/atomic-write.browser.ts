import type { AtomicWriteOptions } from './atomic-write.js'
import { InvalidOptionsError } from './errors.js'

export type { AtomicWriteOptions } from './atomic-write.js'

/** The browser build's stand-in for `atomic-write.ts`: throws `InvalidOptionsError` (a page has no file system). */
export async function writeFileAtomic(
  path: string,
  _data: string | Uint8Array,
  _options: AtomicWriteOptions = {},
): Promise<boolean> {
  throw new InvalidOptionsError(`cannot write ${path}: a browser page has no file system`)
}

/** The browser build's stand-in: a page has no temporary files to remove (0). */
export async function removeStaleTemps(_path: string): Promise<number> {
  return 0
}
