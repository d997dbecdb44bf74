import { C1, Packr } from 'msgpackr'
import type { z } from 'zod'
import { ProtocolError } from '../errors.js'
import { GenerationCache } from '../generation-cache.js'
import { type CompiledCheck, compiledCheck, SAME } from './compiled.js'
import { countItems, DEFAULT_MAX_MESSAGE_ITEMS } from './item-count.js'

// Plain msgpack: no record extension, no structured clone, nothing but maps,
// arrays, strings, numbers, booleans, null and binary. Untrusted input
// decodes to plain data and is then checked against a schema.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, int64AsType: 'number' })

export function encode(value: unknown): Uint8Array {
  return packr.pack(value)
}

/**
 * Frames at least this long may have their strings extracted by msgpackr's
 * native accelerator as slices of one string holding the whole frame (it
 * leaves frames under 140 bytes to JavaScript).
 */
const SLICED_FROM = 128
/** V8 copies slices shorter than this; longer ones point into their parent. */
const SLICE_MIN_LENGTH = 13

/**
 * A copy of `s` that owns its characters: prepending makes a cons string,
 * slicing it flattens that into a new string, so nothing refers to the
 * frame `s` was cut from.
 */
function own(s: string): string {
  return s.length < SLICE_MIN_LENGTH ? s : ` ${s}`.slice(1)
}

/**
 * Strings of a decoded message of 13 (`SLICE_MIN_LENGTH`) to this many
 * characters (PeerIds, hashes, query ids, addresses, protocol names) are
 * interned: one copy of each is shared by everything that keeps it (a query
 * id in the seen cache of every peer it reached, a PeerId in every table),
 * instead of one per message it came in. Shorter strings (most keywords) are
 * left as they are: V8 made them flat copies already, and a lookup for each
 * cost more than it saved (a 329-byte flooding hit decoded in 3.43 µs with
 * them, 3.28 µs without, 3.15-3.20 µs before interning).
 */
export const INTERN_MAX_LENGTH = 64

/**
 * Strings the intern table holds per generation (it holds at most twice as
 * many: a `GenerationCache`, so strings still in use survive a turnover and
 * a stream of distinct strings from a peer only turns the table over).
 * About 4 MB at most (strings of up to 64 characters), shared by every node
 * of the process.
 */
export const INTERN_CACHE = 16_384

const interned = new GenerationCache<string, string>(INTERN_CACHE)

/** How many strings the intern table holds now (at most `2 × INTERN_CACHE`). */
export function internedStrings(): number {
  return interned.size
}

/** The one shared copy of `s` (made from it, owning its characters); `s` owned if it is long, itself if short. */
function held(s: string): string {
  if (s.length < SLICE_MIN_LENGTH) return s
  if (s.length > INTERN_MAX_LENGTH) return own(s)
  const found = interned.get(s)
  if (found !== undefined) return found
  const flat = own(s)
  interned.set(flat, flat)
  return flat
}

/** Replaces, in place, every string of decoded data by one that owns its characters. */
function detach(value: unknown): unknown {
  if (typeof value === 'string') return held(value)
  if (value !== null && typeof value === 'object') detachIn(value)
  return value
}

/**
 * `detach` inside an array or object: every string is written back (its
 * shared or owned copy; strings compare by value, so no cheaper test tells
 * whether it changed); a container is detached where it is; a number or a
 * Uint8Array is left as it is, without a store.
 */
function detachIn(container: object): void {
  if (container instanceof Uint8Array) return
  if (Array.isArray(container)) {
    for (let i = 0; i < container.length; i++) {
      const v: unknown = container[i]
      if (typeof v === 'string') container[i] = held(v)
      else if (v !== null && typeof v === 'object') detachIn(v)
    }
    return
  }
  const o = container as Record<string, unknown>
  for (const key in o) {
    const v = o[key]
    if (typeof v === 'string') o[key] = held(v)
    else if (v !== null && typeof v === 'object') detachIn(v)
  }
}

/**
 * Decodes msgpack; throws `ProtocolError` for bytes that are not one
 * well-formed value, or that declare more than `maxItems` values (array
 * items, map keys and values: counted from the headers before anything is
 * decoded). Strings are detached from the frame: a record a node keeps for
 * hours must not keep the whole message it came in alive.
 */
export function decode(bytes: Uint8Array, maxItems = DEFAULT_MAX_MESSAGE_ITEMS): unknown {
  // Counted in every message, however short: five bytes can declare an array of 30 million items,
  // which msgpackr would allocate before it finds them missing.
  if (countItems(bytes, maxItems) > maxItems) {
    throw new ProtocolError(
      `message of ${bytes.length} bytes declares more than ${maxItems} values (network.maxMessageItems)`,
    )
  }
  let value: unknown
  try {
    value = packr.unpack(bytes)
  } catch (err) {
    throw new ProtocolError(`malformed message: ${(err as Error).message}`, { cause: err })
  }
  if (value === C1) throw new ProtocolError('malformed message: the reserved byte 0xc1')
  if (bytes.byteLength < SLICED_FROM) return value
  try {
    return detach(value)
  } catch (err) {
    throw new ProtocolError(`malformed message: ${(err as Error).message}`, { cause: err })
  }
}

/**
 * Checks decoded data against a schema; throws `ProtocolError` naming the
 * first problem. The schema's compiled check (see `compiledCheck`) answers
 * first: a value it accepts as it is is returned itself; zod parses the rest
 * (and writes every error message).
 */
export function validate<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  return validateWith(compiledCheck(schema), schema, value, what, '')
}

/**
 * `validate` with the schema's compiled check at hand (looked up once by the
 * caller, not at every message); the error says `invalid ${what}${suffix}`,
 * the two joined only for an error.
 */
export function validateWith<T>(
  check: CompiledCheck,
  schema: z.ZodType<T>,
  value: unknown,
  what: string,
  suffix: string,
): T {
  if (check(value) === SAME) return value as T
  const result = schema.safeParse(value)
  if (result.success) return result.data
  const issue = result.error.issues[0]
  const where = issue?.path.length ? ` at ${issue.path.join('.')}` : ''
  throw new ProtocolError(
    `invalid ${what}${suffix}${where}: ${issue?.message ?? 'does not match its schema'}`,
  )
}
