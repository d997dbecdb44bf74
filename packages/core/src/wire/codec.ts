import { C1, Packr } from 'msgpackr'
import type { z } from 'zod'
import { ProtocolError } from '../errors.js'

// Plain msgpack: no record extension, no structured clone, nothing but maps,
// arrays, strings, numbers, booleans, null and binary. Untrusted input
// decodes to plain data and is then checked against a schema.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, int64AsType: 'number' })

export function encode(value: unknown): Uint8Array {
  return packr.pack(value)
}

/** Decodes msgpack; throws `ProtocolError` for bytes that are not one well-formed value. */
export function decode(bytes: Uint8Array): unknown {
  let value: unknown
  try {
    value = packr.unpack(bytes)
  } catch (err) {
    throw new ProtocolError(`malformed message: ${(err as Error).message}`, { cause: err })
  }
  if (value === C1) throw new ProtocolError('malformed message: the reserved byte 0xc1')
  return value
}

/** Checks decoded data against a schema; throws `ProtocolError` naming the first problem. */
export function validate<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  const issue = result.error.issues[0]
  const where = issue?.path.length ? ` at ${issue.path.join('.')}` : ''
  throw new ProtocolError(`invalid ${what}${where}: ${issue?.message ?? 'does not match its schema'}`)
}
