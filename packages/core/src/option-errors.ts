import type { z } from 'zod'
import { InvalidOptionsError } from './errors.js'

/**
 * Options as zod schemas, with one error format for every package:
 * `chord.successors must be an integer from 1 to 64 (got 0)`,
 * `flooding.maxNeighbour is not an option; did you mean maxNeighbors?`.
 * Each message names the field's full path, what was expected and what was given.
 */

type Issue = z.core.$ZodIssue
type Schema = z.core.$ZodType

/**
 * Parses `input` with `schema` (whose defaults fill the missing fields) and returns the result deeply
 * frozen; throws `InvalidOptionsError` naming every bad field under `prefix` (the zod error as its cause).
 */
export function parseOptions<S extends z.ZodType>(
  schema: S,
  input: unknown,
  prefix: string,
): Readonly<z.output<S>> {
  const result = schema.safeParse(input)
  if (!result.success) {
    throw new InvalidOptionsError(formatOptionIssues(result.error.issues, input, prefix, schema), {
      cause: result.error,
    })
  }
  return deepFreeze(result.data)
}

/**
 * The messages of `issues` in the one format, joined by `; ` (`schema` lets it state both bounds of a
 * range and the names to suggest). Custom (cross-field) issues are shown only when no field is invalid.
 */
export function formatOptionIssues(
  issues: readonly Issue[],
  input: unknown,
  prefix: string,
  schema?: Schema,
): string {
  // Cross-field checks ran on data that failed already: their findings wait until the fields are valid.
  const plain = issues.filter((i) => i.code !== 'custom')
  return (plain.length > 0 ? plain : issues)
    .map((issue) => formatIssue(issue, input, prefix, schema))
    .join('; ')
}

/** The name in `names` closest to `name` (a typo, other spelling or case), or undefined when none is close. */
export function nearestName(name: string, names: readonly string[]): string | undefined {
  const lower = name.toLowerCase()
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  for (const candidate of names) {
    const d = editDistance(lower, candidate.toLowerCase())
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined
}

function formatIssue(issue: Issue, input: unknown, prefix: string, schema: Schema | undefined): string {
  const path = issue.path.map(String)
  if (issue.code === 'unrecognized_keys') {
    const known = Object.keys(objectShape(schemaAt(schema, path)) ?? {})
    return issue.keys
      .map((key) => {
        const near = nearestName(key, known)
        const hint = near ? `did you mean ${near}?` : `options: ${known.join(', ') || 'none'}`
        return `${join(prefix, [...path, key])} is not an option; ${hint}`
      })
      .join('; ')
  }
  // The schema states a type (and a number's bounds); a string, array or object of the right type that
  // fails a check (a pattern, a length) is described by the check that failed.
  const typed = issue.code === 'invalid_type' || unwrapType(schemaAt(schema, path)) === 'number'
  const expected =
    issue.code === 'custom'
      ? issue.message
      : ((typed ? expectation(schemaAt(schema, path)) : undefined) ?? fromIssue(issue))
  const given = issue.code === 'custom' && issue.input !== undefined ? issue.input : valueAt(input, path)
  return `${join(prefix, path)} must be ${expected} (got ${describeValue(given)})`
}

function join(prefix: string, path: string[]): string {
  return [prefix, ...path].filter((p) => p !== '').join('.')
}

/** What an issue says was expected, when the schema cannot say it better. */
function fromIssue(issue: Issue): string {
  // A message the schema gave (`.min(1, 'a module name or path')`) says it best; zod's own start so.
  if ((issue.code === 'too_small' || issue.code === 'too_big') && !/^Too (small|big)/.test(issue.message))
    return issue.message
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected === 'int' ? 'an integer' : article(issue.expected)
    case 'too_small':
      return issue.origin === 'string' || issue.origin === 'array'
        ? lengthBound('at least', Number(issue.minimum), issue.origin as 'string' | 'array')
        : `${issue.inclusive ? '>=' : '>'} ${String(issue.minimum)}`
    case 'too_big':
      return issue.origin === 'string' || issue.origin === 'array'
        ? lengthBound('at most', Number(issue.maximum), issue.origin as 'string' | 'array')
        : `${issue.inclusive ? '<=' : '<'} ${String(issue.maximum)}`
    case 'invalid_value':
      return `one of ${issue.values.map((v) => describeValue(v)).join(', ')}`
    default:
      return issue.message
  }
}

/** `a non-empty string`, `at most 8 characters long`, `at least 2 items` … */
function lengthBound(bound: 'at least' | 'at most', n: number, origin: 'string' | 'array'): string {
  if (bound === 'at least' && n === 1) return `a non-empty ${origin}`
  const unit = origin === 'string' ? 'character' : 'item'
  return `${bound} ${n} ${unit}${n === 1 ? '' : 's'}${origin === 'string' ? ' long' : ''}`
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`
}

interface Def {
  type: string
  innerType?: Schema
  in?: Schema
  shape?: Record<string, Schema>
  element?: Schema
  checks?: Array<{ _zod: { def: { check: string; value?: unknown; inclusive?: boolean } } }>
  entries?: Record<string, unknown>
  values?: unknown[]
}

function defOf(schema: Schema): Def {
  return schema._zod.def as unknown as Def
}

/** The schema without default/optional/nullable/readonly/catch wrappers. */
function unwrap(schema: Schema | undefined): Schema | undefined {
  let s = schema
  for (let i = 0; s && i < 16; i++) {
    const def = defOf(s)
    if (def.innerType) s = def.innerType
    else if (def.type === 'pipe' && def.in) s = def.in
    else return s
  }
  return s
}

/** The kind of schema under its wrappers: `string`, `number`, `object` … */
function unwrapType(schema: Schema | undefined): string | undefined {
  const s = unwrap(schema)
  return s ? defOf(s).type : undefined
}

function objectShape(schema: Schema | undefined): Record<string, Schema> | undefined {
  const s = unwrap(schema)
  return s && defOf(s).type === 'object' ? defOf(s).shape : undefined
}

function schemaAt(schema: Schema | undefined, path: string[]): Schema | undefined {
  let s = schema
  for (const key of path) {
    const inner = unwrap(s)
    if (!inner) return undefined
    const def = defOf(inner)
    if (def.type === 'object') s = def.shape?.[key]
    else if (def.type === 'array') s = def.element
    else return undefined
  }
  return s
}

/** `an integer from 1 to 16`, `a number > 0`, `true or false` …, or undefined for other kinds. */
function expectation(schema: Schema | undefined): string | undefined {
  const s = unwrap(schema)
  if (!s) return undefined
  const def = defOf(s)
  switch (def.type) {
    case 'boolean':
      return 'true or false'
    case 'string':
      return 'a string'
    case 'object':
      return 'an object'
    case 'array':
      return 'an array'
    case 'enum':
      return `one of ${Object.values(def.entries ?? {})
        .map((v) => describeValue(v))
        .join(', ')}`
    case 'literal':
      return (def.values ?? []).map((v) => describeValue(v)).join(' or ')
    case 'number':
      return numberExpectation(def)
    default:
      return undefined
  }
}

function numberExpectation(def: Def): string {
  let min: { value: number; inclusive: boolean } | undefined
  let max: { value: number; inclusive: boolean } | undefined
  let int = false
  for (const check of def.checks ?? []) {
    const c = check._zod.def as { check: string; value?: unknown; inclusive?: boolean; format?: string }
    if (c.check === 'number_format' && /int/.test(String(c.format))) int = true
    else if (c.check === 'greater_than' && typeof c.value === 'number')
      min = { value: c.value, inclusive: c.inclusive === true }
    else if (c.check === 'less_than' && typeof c.value === 'number')
      max = { value: c.value, inclusive: c.inclusive === true }
  }
  const kind = int ? 'an integer' : 'a number'
  if (min?.inclusive && max?.inclusive) return `${kind} from ${min.value} to ${max.value}`
  const bounds: string[] = []
  if (min) bounds.push(`${min.inclusive ? '>=' : '>'} ${min.value}`)
  if (max) bounds.push(`${max.inclusive ? '<=' : '<'} ${max.value}`)
  return bounds.length > 0 ? `${kind} ${bounds.join(' and ')}` : kind
}

function valueAt(input: unknown, path: string[]): unknown {
  let v = input
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined
    v = (v as Record<string, unknown>)[key]
  }
  return v
}

/** A given value as a message shows it: strings quoted, numbers as they are, containers by kind. */
function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)
  if (Array.isArray(v)) return 'an array'
  if (v === null) return 'null'
  if (typeof v === 'object') return 'an object'
  if (typeof v === 'function') return 'a function'
  return String(v)
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost)
    }
    prev = row
  }
  return prev[b.length] as number
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    const proto = Object.getPrototypeOf(value)
    if (Array.isArray(value) || proto === Object.prototype || proto === null) {
      Object.freeze(value)
      for (const v of Object.values(value)) deepFreeze(v)
    }
  }
  return value
}
