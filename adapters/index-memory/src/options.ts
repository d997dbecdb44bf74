import { InvalidOptionsError } from '@peerkit/core'

/** The memory index takes no options yet; the object is reserved for later ones. */
export type MemoryIndexOptions = Record<string, never>

/** Accepts `undefined` or an empty object; throws `InvalidOptionsError` naming any unknown field. */
export function parseMemoryIndexOptions(input: unknown): Readonly<MemoryIndexOptions> {
  if (input === undefined || input === null) return Object.freeze({})
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new InvalidOptionsError(`options.memory must be an object (got ${JSON.stringify(input)})`)
  }
  const unknown = Object.keys(input)
  if (unknown.length > 0)
    throw new InvalidOptionsError(
      `options.memory has no field '${unknown[0]}' (the memory index takes no options)`,
    )
  return Object.freeze({})
}
