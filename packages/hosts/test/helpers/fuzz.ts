import fc from 'fast-check'
import type { z } from 'zod'

/** Cases per property: `PEERKIT_FUZZ_RUNS` (for a long run), else a count that keeps the suite fast. */
export const RUNS = Number(process.env.PEERKIT_FUZZ_RUNS ?? 2500)
/** One fixed seed, so a failure reproduces; `PEERKIT_FUZZ_SEED` for another. */
export const SEED = Number(process.env.PEERKIT_FUZZ_SEED ?? 0x5eed)
export const PARAMS = { numRuns: RUNS, seed: SEED, endOnFailure: true } as const

const HEX64 = 'c29d7935a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c'
const PEER_ID = 'tVXXu7FwONy6AoT3c9DX6IFXbm8OGgLC7f4Kc_zNR-w'
const ADDRESS = 'tcp://10.77.0.11:4001'

/** Values of no schema: every msgpack type, some huge, some deep. */
export const junk: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.constantFrom(-1, 0, 2 ** 32, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY, -0),
    fc.double(),
    fc.string({ maxLength: 30 }),
    fc.constantFrom(HEX64, PEER_ID, ADDRESS, 'x'.repeat(5000)),
    fc.uint8Array({ maxLength: 64 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('value'), { maxKeys: 4 }),
  ),
})).value

interface Def {
  type: string
  shape?: Record<string, z.ZodType>
  options?: z.ZodType[]
  items?: z.ZodType[]
  values?: unknown[]
  entries?: Record<string, unknown>
  element?: z.ZodType
  innerType?: z.ZodType
}

const cache = new WeakMap<object, fc.Arbitrary<unknown>>()

/**
 * Values shaped like `schema` (walked through zod's definition), most of them
 * valid or nearly: literals and discriminators right, strings that look like
 * hashes, ids and addresses, small arrays, bytes for custom types, and now and
 * then a field dropped, an alien field added, or junk in place of a value.
 */
export function shaped(schema: z.ZodType): fc.Arbitrary<unknown> {
  const hit = cache.get(schema)
  if (hit) return hit
  const arb = mutated(plain(schema))
  cache.set(schema, arb)
  return arb
}

function plain(schema: z.ZodType): fc.Arbitrary<unknown> {
  const def = (schema as unknown as { _zod: { def: Def } })._zod.def
  switch (def.type) {
    case 'object': {
      const shape = def.shape ?? {}
      const rec: Record<string, fc.Arbitrary<unknown>> = {}
      for (const [k, v] of Object.entries(shape)) rec[k] = shaped(v)
      return fc.record(rec)
    }
    case 'union':
      return fc.oneof(...(def.options ?? []).map(shaped))
    case 'tuple':
      return fc.tuple(...(def.items ?? []).map(shaped))
    case 'literal':
      return fc.constantFrom(...(def.values ?? [null]))
    case 'enum':
      return fc.constantFrom(...Object.values(def.entries ?? { x: 'x' }))
    case 'array':
      return fc.array(def.element ? shaped(def.element) : junk, { maxLength: 3 })
    case 'optional':
      return fc.option(def.innerType ? shaped(def.innerType) : junk, { nil: undefined })
    case 'nullable':
      return fc.option(def.innerType ? shaped(def.innerType) : junk, { nil: null })
    case 'null':
      return fc.constant(null)
    case 'string':
      return fc.oneof(
        fc.constantFrom(HEX64, PEER_ID, ADDRESS, 'harry potter', 'harry'),
        fc.string({ maxLength: 20 }),
      )
    case 'number':
      return fc.oneof(fc.nat(1000), fc.integer(), fc.double())
    case 'boolean':
      return fc.boolean()
    case 'custom':
      return fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 200 }))
    default:
      return junk
  }
}

function mutated(arb: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.tuple(arb, fc.nat(19), junk, fc.string({ maxLength: 6 })).map(([v, dice, j, key]) => {
    if (dice > 2 || v === null || typeof v !== 'object' || v instanceof Uint8Array) return dice === 0 ? j : v
    if (Array.isArray(v)) return dice === 0 ? [...v, j] : dice === 1 ? v.slice(1) : j
    const o = { ...(v as Record<string, unknown>) }
    const keys = Object.keys(o)
    if (dice === 0) o[key] = j
    else if (dice === 1 && keys.length > 0) delete o[keys[keys.length - 1] as string]
    else if (keys.length > 0) o[keys[0] as string] = j
    return o
  })
}

/** Byte-level mutations of a valid encoding: bit flips, truncation, insertion, a length changed. */
export function mutatedBytes(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.tuple(valid, fc.nat(), fc.nat(255), fc.nat(3)).map(([b, at, byte, how]) => {
    if (b.length === 0) return Uint8Array.of(byte)
    const i = at % b.length
    const out = Uint8Array.from(b)
    if (how === 0) out[i] = (out[i] ?? 0) ^ (1 << (byte % 8))
    else if (how === 1) return out.subarray(0, i)
    else if (how === 2) return Uint8Array.from([...out.subarray(0, i), byte, ...out.subarray(i)])
    else out[i] = byte
    return out
  })
}
