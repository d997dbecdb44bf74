import {
  type CheckDef,
  type CompiledCheck,
  type Def,
  optionsByTag,
  type TaggedOption,
  type ZodLike,
} from './compiled.js'

/**
 * Whether this runtime makes functions from source (`new Function`): a page whose Content Security
 * Policy forbids it does not, and its checks stay the closures of `compiled.ts`.
 */
const CAN_GENERATE = ((): boolean => {
  try {
    return new Function('return 1')() === 1
  } catch {
    return false
  }
})()

/** The generator meets what it does not write (the closures' `askZod`): the closures answer instead. */
const GIVE_UP = { giveUp: true }

/**
 * A check written as one JavaScript function for a schema, with the verdicts of the closures of
 * `compiled.ts` for every value: INVALID returns at once (as it does through every closure), an
 * undecided part sets ASK_ZOD and the check goes on, the parts are tried in the same order and the
 * same refinements called. One function per schema reads each field by its name (an inline cache
 * of its own, where the closures shared one call site and one keyed load among every object schema:
 * megamorphic, in a flood of messages of a few shapes) and calls nothing for the plain types.
 * Undefined where the closures would answer ASK_ZOD for everything, for what it does not write
 * (a union's options stay closures), and where functions cannot be made from source.
 */
export function generatedCheck(
  schema: ZodLike,
  compile: (schema: ZodLike) => CompiledCheck,
  askZod: CompiledCheck,
): CompiledCheck | undefined {
  if (!CAN_GENERATE) return undefined
  const consts: unknown[] = []
  const k = (value: unknown): string => {
    consts.push(value)
    return `k[${consts.length - 1}]`
  }
  let names = 0
  const name = (prefix: string): string => `${prefix}${names++}`
  const lines: string[] = []

  /** Writes the check of `s` on the variable `x`; returns the expression of its verdict (1 or 2) after it. */
  function emit(s: ZodLike, x: string): string {
    const def = s._zod?.def
    if (!def) throw GIVE_UP
    const checks: CheckDef[] = (def.checks ?? []).map((c) => c._zod.def)
    if ((def as Def & { check?: string }).check !== undefined) checks.unshift(def as unknown as CheckDef)
    const base = emitType(def, x)
    if (checks.length === 0) return base
    const v = name('r')
    lines.push(`let ${v} = ${base};`, `if (${v} === 1) do {`)
    for (const c of checks) emitCheck(c, def.type, x, v)
    lines.push('} while (false);')
    return v
  }

  function emitType(def: Def, x: string): string {
    if (def.coerce) throw GIVE_UP
    switch (def.type) {
      case 'string':
        lines.push(`if (typeof ${x} !== 'string') return 0;`)
        return '1'
      case 'number':
        lines.push(`if (typeof ${x} !== 'number' || !Number.isFinite(${x})) return 0;`)
        return '1'
      case 'boolean':
        lines.push(`if (typeof ${x} !== 'boolean') return 0;`)
        return '1'
      case 'null':
        lines.push(`if (${x} !== null) return 0;`)
        return '1'
      case 'unknown':
      case 'any':
        return '1'
      case 'literal':
        lines.push(`if (!${oneOf(def.values ?? [], x)}) return 0;`)
        return '1'
      case 'enum': {
        const values = Object.values(def.entries ?? {})
        if (values.some((v) => typeof v !== 'string')) throw GIVE_UP
        lines.push(`if (!${oneOf(values, x)}) return 0;`)
        return '1'
      }
      case 'custom':
        if (!def.fn) throw GIVE_UP
        return emitCustom(def.fn, x)
      case 'optional':
      case 'nullable': {
        if (!def.innerType) throw GIVE_UP
        const v = name('r')
        lines.push(`let ${v} = 1;`, `if (${x} !== ${def.type === 'optional' ? 'undefined' : 'null'}) {`)
        lines.push(`${v} = ${emit(def.innerType, x)};`, '}')
        return v
      }
      case 'array': {
        if (!def.element) throw GIVE_UP
        const v = name('r')
        const i = name('i')
        const e = name('e')
        lines.push(`if (!Array.isArray(${x})) return 0;`, `let ${v} = 1;`)
        lines.push(`for (let ${i} = 0; ${i} < ${x}.length; ${i}++) {`, `const ${e} = ${x}[${i}];`)
        lines.push(`if (${emit(def.element, e)} === 2) ${v} = 2;`, '}')
        return v
      }
      case 'tuple': {
        const items = def.items ?? []
        if (def.rest || items.some((i) => i._zod?.optin === 'optional')) throw GIVE_UP
        const v = name('r')
        lines.push(`if (!Array.isArray(${x}) || ${x}.length !== ${items.length}) return 0;`, `let ${v} = 1;`)
        items.forEach((item, n) => {
          const e = name('e')
          lines.push(`const ${e} = ${x}[${n}];`)
          lines.push(`if (${emit(item, e)} === 2) ${v} = 2;`)
        })
        return v
      }
      case 'object':
        return emitObject(def, x)
      case 'union':
        return def.discriminator === undefined ? emitUnion(def, x) : emitDiscriminated(def, x)
      default:
        throw GIVE_UP
    }
  }

  /** `values.includes(x)`: written out for strings (=== is SameValueZero for them), else the array's own. */
  function oneOf(values: unknown[], x: string): string {
    if (values.length > 0 && values.every((v) => typeof v === 'string'))
      return `(${values.map((v) => `${x} === ${JSON.stringify(v)}`).join(' || ')})`
    return `${k(values)}.includes(${x})`
  }

  function emitCustom(fn: (value: unknown) => unknown, x: string): string {
    const v = name('r')
    const ok = name('o')
    lines.push(`let ${v} = 2;`, `try {`, `const ${ok} = (0, ${k(fn)})(${x});`)
    lines.push(
      `${v} = ${ok} === true ? 1 : ${ok} === false ? 0 : 2;`,
      '} catch { /* zod reports what the refinement threw: ASK_ZOD */ }',
      `if (${v} === 0) return 0;`,
    )
    return v
  }

  /** One of a schema's checks, on a value of its type, while `v` (its verdict so far) is 1: INVALID returns, ASK_ZOD ends the checks. */
  function emitCheck(c: CheckDef, type: string, x: string, v: string): void {
    const length = type === 'string' || type === 'array'
    const when = c.when !== undefined
    if (when && !((length && c.check.endsWith('length')) || c.check === 'length_equals')) throw GIVE_UP
    switch (c.check) {
      case 'min_length':
        if (!length) throw GIVE_UP
        lines.push(`if (${x}.length < ${num(c.minimum)}) return 0;`)
        return
      case 'max_length':
        if (!length) throw GIVE_UP
        lines.push(`if (${x}.length > ${num(c.maximum)}) return 0;`)
        return
      case 'length_equals':
        if (!length) throw GIVE_UP
        lines.push(`if (${x}.length !== ${num(c.length)}) return 0;`)
        return
      case 'string_format': {
        const pattern = c.pattern
        if (c.format !== 'regex' || !(pattern instanceof RegExp) || pattern.global || pattern.sticky)
          throw GIVE_UP
        lines.push(`if (!${k(pattern)}.test(${x})) return 0;`)
        return
      }
      case 'number_format':
        if (c.format !== 'safeint') throw GIVE_UP
        lines.push(`if (!Number.isSafeInteger(${x})) return 0;`)
        return
      case 'greater_than':
      case 'less_than': {
        if (typeof c.value !== 'number') throw GIVE_UP
        const op = c.check === 'greater_than' ? (c.inclusive ? '>=' : '>') : c.inclusive ? '<=' : '<'
        lines.push(`if (!(${x} ${op} ${num(c.value)})) return 0;`)
        return
      }
      case 'custom': {
        if (typeof c.fn !== 'function') throw GIVE_UP
        const r = emitCustom(c.fn, x)
        lines.push(`if (${r} === 2) { ${v} = 2; break; }`)
        return
      }
      default:
        throw GIVE_UP
    }
  }

  function emitObject(def: Def, x: string): string {
    const shape = def.shape ?? {}
    const keys = Object.keys(shape)
    const catchall = def.catchall?._zod?.def.type
    if (catchall !== undefined && catchall !== 'unknown' && catchall !== 'any') throw GIVE_UP
    const v = name('r')
    const present = name('p')
    lines.push(`if (typeof ${x} !== 'object' || ${x} === null || Array.isArray(${x})) return 0;`)
    lines.push(`let ${v} = 1;`, `let ${present} = 0;`)
    for (const key of keys) {
      const f = name('f')
      lines.push(`const ${f} = ${x}[${JSON.stringify(key)}];`, `if (${f} !== undefined) ${present}++;`)
      lines.push(`if (${emit(shape[key] as ZodLike, f)} === 2) ${v} = 2;`)
    }
    if (catchall !== undefined) return v
    const counted = !keys.some((key) => key in Object.prototype)
    const proto = name('q')
    const key = name('k')
    const known = k(new Set(keys))
    if (counted) {
      const n = name('n')
      lines.push(`const ${proto} = Object.getPrototypeOf(${x});`)
      lines.push(`if (${proto} === Object.prototype || ${proto} === null) {`)
      lines.push(`let ${n} = 0;`, `for (const ${key} in ${x}) ${n}++;`, `if (${n} !== ${present}) ${v} = 2;`)
      lines.push('} else {')
    } else lines.push('{')
    lines.push(`for (const ${key} in ${x}) if (!${known}.has(${key})) { ${v} = 2; break; }`, '}')
    return v
  }

  /** A union's options stay checks of their own (one that says INVALID does not end the union's check). */
  function emitUnion(def: Def, x: string): string {
    const options = (def.options ?? []).map(compile)
    if (options.length === 0 || options.some((c) => c === askZod)) throw GIVE_UP
    const v = name('r')
    lines.push(`let ${v} = 0;`)
    for (const o of options) lines.push(`if (${v} === 0) ${v} = (0, ${k(o)})(${x});`)
    lines.push(`if (${v} === 0) return 0;`)
    return v
  }

  function emitDiscriminated(def: Def, x: string): string {
    const key = def.discriminator as string
    const byValue = optionsByTag(def)
    if (byValue === undefined) throw GIVE_UP
    // A switch compares with ===, the Map the closure looks tags up in with SameValueZero: the same for strings.
    if ([...byValue.keys()].some((value) => typeof value !== 'string')) throw GIVE_UP
    const v = name('r')
    lines.push(`if (typeof ${x} !== 'object' || ${x} === null || Array.isArray(${x})) return 0;`)
    lines.push(`let ${v} = 1;`, `switch (${x}[${JSON.stringify(key)}]) {`)
    for (const [value, options] of byValue) {
      lines.push(`case ${JSON.stringify(value)}: {`)
      if (options.length !== 1) lines.push(`${v} = 2;`)
      else lines.push(`${v} = ${emit((options[0] as TaggedOption).option, x)};`)
      lines.push('break;', '}')
    }
    lines.push('default: return 0;', '}')
    return v
  }

  try {
    const verdict = emit(schema, 'v')
    lines.push(`return ${verdict};`)
  } catch (err) {
    if (err === GIVE_UP) return undefined
    throw err
  }
  const make = new Function('k', `return function generatedCheck(v) {\n${lines.join('\n')}\n}`)
  return make(consts) as CompiledCheck
}

/** A number of a schema's check, as source (a finite number; anything else is not written). */
function num(value: unknown): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw GIVE_UP
  return Object.is(value, -0) ? '-0' : String(value)
}
