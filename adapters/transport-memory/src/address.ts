import { InvalidOptionsError } from '@peerkit/core'

export const SCHEME = 'memory://'

/** Names that ask for a fresh unique name, like TCP's port 0. */
const WILDCARDS = new Set(['', '*', '0'])
const NAME_RE = /^[^\s/?#]{1,256}$/

/** The name in `memory://NAME`, or `undefined` for a wildcard (`memory://`, `memory://*`, `memory://0`). */
export function parseMemoryAddress(address: string): string | undefined {
  if (!address.startsWith(SCHEME)) {
    throw new InvalidOptionsError(`not a memory address: '${address}' (expected memory://NAME)`)
  }
  const name = address.slice(SCHEME.length)
  if (WILDCARDS.has(name)) return undefined
  if (!NAME_RE.test(name)) {
    throw new InvalidOptionsError(
      `memory address names are 1-256 characters without spaces, '/', '?' or '#' (got '${address}')`,
    )
  }
  return name
}

export function memoryAddress(name: string): string {
  return `${SCHEME}${name}`
}
