import { C1, Packr } from 'msgpackr'
import type { z } from 'zod'
import { ProtocolError } from '../errors.js'
import { type CompiledCheck, compiledCheck, SAME } from './compiled.js'
import { countItems, DEFAULT_MAX_MESSAGE_ITEMS } from './item-count.js'
import { readFrame, UNREAD } from './read-frame.js'

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

/** Replaces, in place, every string of decoded data by one that owns its characters. */
function detach(value: unknown): unknown {
  if (typeof value === 'string') return own(value)
  if (value !== null && typeof value === 'object') detachIn(value)
  return value
}

/**
 * `detach` inside an array or object: only a string long enough to be a
 * slice is written back (a container is detached where it is; a number, a
 * short string or a Uint8Array is left as it is, without a store).
 */
function detachIn(container: object): void {
  if (container instanceof Uint8Array) return
  if (Array.isArray(container)) {
    for (let i = 0; i < container.length; i++) {
      const v: unknown = container[i]
      if (typeof v === 'string') {
        if (v.length >= SLICE_MIN_LENGTH) container[i] = own(v)
      } else if (v !== null && typeof v === 'object') detachIn(v)
    }
    return
  }
  const o = container as Record<string, unknown>
  for (const key in o) {
    const v = o[key]
    if (typeof v === 'string') {
      if (v.length >= SLICE_MIN_LENGTH) o[key] = own(v)
    } else if (v !== null && typeof v === 'object') detachIn(v)
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
  // The common case (what the overlays send), read in JavaScript with strings of their own (read-frame.ts).
  // A message it reads whole holds fewer values than bytes (each value takes a byte at least, and it
  // refuses a header declaring more than the bytes left), so one of at most `maxItems` bytes needs no count.
  const short = bytes.length <= maxItems
  if (short) {
    const read = readFrame(bytes)
    if (read !== UNREAD) return read
  }
  // Counted before msgpackr reads it: five bytes can declare an array of 30 million items, which msgpackr
  // would allocate before it finds them missing.
  if (countItems(bytes, maxItems) > maxItems) {
    throw new ProtocolError(
      `message of ${bytes.length} bytes declares more than ${maxItems} values (network.maxMessageItems)`,
    )
  }
  if (!short) {
    const read = readFrame(bytes)
    if (read !== UNREAD) return read
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
