import type { z } from 'zod'
import { generatedCheck } from './generated.js'

/**
 * What a compiled check says about a value: zod rejects it, zod accepts it and
 * returns a value equal to it (nothing stripped, defaulted or transformed), or
 * the check cannot tell (zod decides, as before).
 */
export const INVALID = 0
export const SAME = 1
export const ASK_ZOD = 2
export type Verdict = typeof INVALID | typeof SAME | typeof ASK_ZOD

export type CompiledCheck = (value: unknown) => Verdict

/** The parts of a zod 4 schema's definition read here (`schema._zod.def`). */
export interface Def {
  type: string
  checks?: { _zod: { def: CheckDef } }[]
  shape?: Record<string, ZodLike>
  catchall?: ZodLike
  element?: ZodLike
  items?: ZodLike[]
  rest?: ZodLike | null
  options?: ZodLike[]
  discriminator?: string
  innerType?: ZodLike
  values?: unknown[]
  entries?: Record<string, unknown>
  coerce?: boolean
  fn?: (value: unknown) => unknown
}

export interface CheckDef {
  check: string
  minimum?: number
  maximum?: number
  length?: number
  format?: string
  pattern?: RegExp
  value?: number
  inclusive?: boolean
  fn?: (value: unknown) => unknown
  when?: unknown
}

export interface ZodLike {
  _zod?: { def: Def; optin?: string }
}

const cache = new WeakMap<object, CompiledCheck>()

/**
 * A check compiled from a zod 4 schema: plain JavaScript comparisons in place
 * of zod's interpreter, which builds a context, a result and an issue list for
 * every value it visits. It answers SAME only where zod would accept the value
 * and return it unchanged, INVALID only where zod would reject it, and
 * ASK_ZOD for everything else (unknown keys zod would strip, transforms,
 * defaults, formats not compiled here), so `validate` gives exactly what zod
 * gives, zod still writing every error message. Compiled once per schema.
 */
export function compiledCheck(schema: z.ZodType): CompiledCheck {
  // The last two schemas asked for answer without the WeakMap (a response's check is asked for at every
  // response, and most come in runs of one protocol).
  if (schema === lastSchema) return lastCheck as CompiledCheck
  if (schema === prevSchema) {
    const check = prevCheck as CompiledCheck
    prevSchema = lastSchema
    prevCheck = lastCheck
    lastSchema = schema
    lastCheck = check
    return check
  }
  let check = cache.get(schema)
  if (check === undefined) {
    check = generatedCheck(schema as ZodLike, compile, askZod) ?? compile(schema as ZodLike)
    cache.set(schema, check)
  }
  prevSchema = lastSchema
  prevCheck = lastCheck
  lastSchema = schema
  lastCheck = check
  return check
}

// `compiledCheck`'s two most recent answers. A schema kept here stays alive until two others are asked for.
let lastSchema: z.ZodType | undefined
let lastCheck: CompiledCheck | undefined
let prevSchema: z.ZodType | undefined
let prevCheck: CompiledCheck | undefined

const askZod: CompiledCheck = () => ASK_ZOD
const OBJECT = Object.prototype
const always: CompiledCheck = () => SAME

function compile(schema: ZodLike): CompiledCheck {
  const def = schema._zod?.def
  if (!def) return askZod
  const base = compileType(def)
  if (base === askZod) return askZod
  const checks = (def.checks ?? []).map((c) => compileCheck(c._zod.def, def.type))
  // A format schema (`z.int()`, `z.email()`, `z.uint32()` …) is its own check: its definition holds it.
  if ((def as Def & { check?: string }).check !== undefined)
    checks.unshift(compileCheck(def as unknown as CheckDef, def.type))
  if (checks.length === 0) return base
  if (checks.some((c) => c === askZod)) return askZod
  return (v) => {
    const r = base(v)
    if (r !== SAME) return r
    for (const c of checks) {
      const x = c(v)
      if (x !== SAME) return x
    }
    return SAME
  }
}

function compileType(def: Def): CompiledCheck {
  if (def.coerce) return askZod
  switch (def.type) {
    case 'string':
      return (v) => (typeof v === 'string' ? SAME : INVALID)
    case 'number':
      return (v) => (typeof v === 'number' && Number.isFinite(v) ? SAME : INVALID)
    case 'boolean':
      return (v) => (typeof v === 'boolean' ? SAME : INVALID)
    case 'null':
      return (v) => (v === null ? SAME : INVALID)
    case 'unknown':
    case 'any':
      return always
    case 'literal': {
      const values = def.values ?? []
      return (v) => (values.includes(v) ? SAME : INVALID)
    }
    case 'enum': {
      const values = Object.values(def.entries ?? {})
      // A TypeScript numeric enum's reverse names are left out by zod: its own.
      if (values.some((x) => typeof x !== 'string')) return askZod
      return (v) => (values.includes(v) ? SAME : INVALID)
    }
    case 'custom':
      return def.fn ? compileCheck({ check: 'custom', fn: def.fn }, 'custom') : askZod
    case 'optional':
      return orElse(undefined, def.innerType)
    case 'nullable':
      return orElse(null, def.innerType)
    case 'array':
      return compileArray(def)
    case 'tuple':
      return compileTuple(def)
    case 'object':
      return compileObject(def)
    case 'union':
      return def.discriminator === undefined ? compileUnion(def) : compileDiscriminated(def)
    default:
      return askZod // transforms, pipes, defaults, records, lazy … : zod's own
  }
}

function orElse(accepted: null | undefined, inner: ZodLike | undefined): CompiledCheck {
  if (!inner) return askZod
  const check = compile(inner)
  if (check === askZod) return askZod
  return (v) => (v === accepted ? SAME : check(v))
}

function compileCheck(c: CheckDef, type: string): CompiledCheck {
  const length = type === 'string' || type === 'array'
  // `when` lets a check run despite earlier issues; here checks run only on a value of the right type,
  // where zod's length checks (the only ones with a `when`) run too.
  if (c.when !== undefined && !((length && c.check.endsWith('length')) || c.check === 'length_equals'))
    return askZod
  switch (c.check) {
    case 'min_length': {
      const min = c.minimum as number
      return length ? (v) => ((v as { length: number }).length >= min ? SAME : INVALID) : askZod
    }
    case 'max_length': {
      const max = c.maximum as number
      return length ? (v) => ((v as { length: number }).length <= max ? SAME : INVALID) : askZod
    }
    case 'length_equals': {
      const n = c.length as number
      return length ? (v) => ((v as { length: number }).length === n ? SAME : INVALID) : askZod
    }
    case 'string_format': {
      const pattern = c.pattern
      if (c.format !== 'regex' || !(pattern instanceof RegExp) || pattern.global || pattern.sticky)
        return askZod
      return (v) => (pattern.test(v as string) ? SAME : INVALID)
    }
    case 'number_format':
      return c.format === 'safeint' ? (v) => (Number.isSafeInteger(v) ? SAME : INVALID) : askZod
    case 'greater_than': {
      const min = c.value as number
      if (typeof min !== 'number') return askZod
      return c.inclusive
        ? (v) => ((v as number) >= min ? SAME : INVALID)
        : (v) => ((v as number) > min ? SAME : INVALID)
    }
    case 'less_than': {
      const max = c.value as number
      if (typeof max !== 'number') return askZod
      return c.inclusive
        ? (v) => ((v as number) <= max ? SAME : INVALID)
        : (v) => ((v as number) < max ? SAME : INVALID)
    }
    case 'custom': {
      const fn = c.fn
      if (typeof fn !== 'function') return askZod
      return (v) => {
        let ok: unknown
        try {
          ok = fn(v)
        } catch {
          return ASK_ZOD // zod reports what the refinement threw
        }
        if (ok === true) return SAME
        return ok === false ? INVALID : ASK_ZOD // a promise or something else: zod's business
      }
    }
    default:
      return askZod
  }
}

function compileArray(def: Def): CompiledCheck {
  if (!def.element) return askZod
  const element = compile(def.element)
  if (element === askZod) return askZod
  return (v) => {
    if (!Array.isArray(v)) return INVALID
    let verdict: Verdict = SAME
    for (let i = 0; i < v.length; i++) {
      const r = element(v[i])
      if (r === INVALID) return INVALID
      if (r === ASK_ZOD) verdict = ASK_ZOD
    }
    return verdict
  }
}

function compileTuple(def: Def): CompiledCheck {
  const items = def.items ?? []
  if (def.rest || items.some((i) => i._zod?.optin === 'optional')) return askZod
  const checks = items.map(compile)
  if (checks.some((c) => c === askZod)) return askZod
  return (v) => {
    if (!Array.isArray(v) || v.length !== checks.length) return INVALID
    let verdict: Verdict = SAME
    for (let i = 0; i < checks.length; i++) {
      const r = (checks[i] as CompiledCheck)(v[i])
      if (r === INVALID) return INVALID
      if (r === ASK_ZOD) verdict = ASK_ZOD
    }
    return verdict
  }
}

function compileObject(def: Def): CompiledCheck {
  const shape = def.shape ?? {}
  const keys = Object.keys(shape)
  const checks = keys.map((k) => compile(shape[k] as ZodLike))
  if (checks.some((c) => c === askZod)) return askZod
  // No catchall: unknown keys are stripped (zod's result then differs); `never`: refused; `unknown`: kept.
  const catchall = def.catchall?._zod?.def.type
  if (catchall !== undefined && catchall !== 'unknown' && catchall !== 'any') return askZod
  const loose = catchall !== undefined
  const n = keys.length
  const known = new Set(keys)
  // A field named as a property of every object (`constructor`, `toString` …) reads as present from the
  // prototype: such a schema's keys are checked one by one.
  const counted = !keys.some((k) => k in OBJECT)
  return (v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return INVALID
    const o = v as Record<string, unknown>
    let verdict: Verdict = SAME
    // The fields present (not undefined), counted for the test of unknown keys below.
    let present = 0
    for (let i = 0; i < n; i++) {
      const x = o[keys[i] as string]
      if (x !== undefined) present++
      const r = (checks[i] as CompiledCheck)(x)
      if (r === INVALID) return INVALID
      if (r === ASK_ZOD) verdict = ASK_ZOD
    }
    if (loose) return verdict
    const proto = Object.getPrototypeOf(o)
    if (counted && (proto === OBJECT || proto === null)) {
      // A plain object with as many keys as fields present has no unknown key (each field present is one
      // of its own keys); one with more (an unknown key, or a field present as undefined): zod decides.
      // Counting spares a look-up in `known` per key.
      let count = 0
      for (const _ in o) count++
      return count === present ? verdict : ASK_ZOD
    }
    for (const k in o) if (!known.has(k)) return ASK_ZOD
    return verdict
  }
}

function compileUnion(def: Def): CompiledCheck {
  const options = (def.options ?? []).map(compile)
  if (options.length === 0 || options.some((c) => c === askZod)) return askZod
  return (v) => {
    // zod returns the first option that accepts: an undecided option before it leaves the answer to zod.
    for (const o of options) {
      const r = o(v)
      if (r !== INVALID) return r
    }
    return INVALID
  }
}

/** An option of a discriminated union, with its closure check. */
export interface TaggedOption {
  option: ZodLike
  check: CompiledCheck
}

/**
 * A discriminated union's options by the value of their tag (their discriminator's literal), in the
 * union's order; undefined where the closures leave the union to zod (a tag that is not a literal, an
 * option they cannot check).
 */
export function optionsByTag(def: Def): Map<unknown, TaggedOption[]> | undefined {
  const key = def.discriminator as string
  const byValue = new Map<unknown, TaggedOption[]>()
  for (const option of def.options ?? []) {
    const d = option._zod?.def
    const tag = d?.type === 'object' ? d.shape?.[key]?._zod?.def : undefined
    if (tag?.type !== 'literal' || !tag.values) return undefined
    const check = compile(option)
    if (check === askZod) return undefined
    for (const value of tag.values) byValue.set(value, [...(byValue.get(value) ?? []), { option, check }])
  }
  return byValue
}

function compileDiscriminated(def: Def): CompiledCheck {
  const key = def.discriminator as string
  const byValue = optionsByTag(def)
  if (byValue === undefined) return askZod
  return (v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return INVALID
    const candidates = byValue.get((v as Record<string, unknown>)[key])
    if (candidates === undefined) return INVALID
    if (candidates.length !== 1) return ASK_ZOD
    return (candidates[0] as TaggedOption).check(v)
  }
}
