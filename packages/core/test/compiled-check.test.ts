import test from 'ava'
import { z } from 'zod'
import { ProtocolError } from '../src/errors.js'
import { SeededRandom } from '../src/random.js'
import { validate } from '../src/wire/codec.js'
import { ASK_ZOD, compiledCheck, INVALID, SAME } from '../src/wire/compiled.js'
import { checkEnvelope, envelopeSchema, Kind } from '../src/wire/envelope.js'
import {
  fileRecordSchema,
  hitSchema,
  peerRefSchema,
  querySchema,
  wireErrorSchema,
} from '../src/wire/schemas.js'

// The compiled checks must agree with zod on every value: SAME only where zod
// accepts and returns the value unchanged, INVALID only where zod rejects it.
// Checked on valid samples and on thousands of mutations of them.

const ID = 'A'.repeat(43)
const HASH = 'ab'.repeat(32)
const ref = { id: ID, addresses: ['memory://a'] }
const record = {
  hash: HASH,
  name: 'a b.txt',
  size: 10,
  chunkSize: 65_536,
  keywords: ['a', 'b'],
  provider: ref,
}
const hit = { hash: HASH, name: 'a b.txt', size: 10, chunkSize: 65_536, providers: [ref], hops: 2 }

const message = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('query'),
    id: z.string().regex(/^[0-9a-f]{4}$/),
    ttl: z.number().int().min(1).max(7),
  }),
  z.object({ kind: z.literal('hit'), hits: z.array(hitSchema).min(1).max(4) }),
  z.object({ kind: z.literal('bye'), reason: z.string().max(8) }),
])
const SCHEMAS: [string, z.ZodType, unknown[]][] = [
  ['peerRef', peerRefSchema, [ref]],
  ['fileRecord', fileRecordSchema, [record]],
  ['hit', hitSchema, [hit, { ...hit, hops: undefined }]],
  ['query', querySchema, [{ keywords: ['a'] }, { hash: HASH, limit: 3 }]],
  ['wireError', wireErrorSchema, [{ name: 'X', message: 'y' }]],
  [
    'envelope',
    envelopeSchema,
    [
      [Kind.Request, 1, 'a/1', {}],
      [Kind.Response, 2, null],
      [Kind.Error, 3, { name: 'E', message: 'm' }],
      [Kind.Message, 'a/1', [1]],
      [Kind.GoAway, 4],
    ],
  ],
  [
    'message',
    message,
    [
      { kind: 'query', id: '00af', ttl: 3 },
      { kind: 'hit', hits: [hit] },
      { kind: 'bye', reason: 'x' },
    ],
  ],
  [
    'union',
    z.union([z.string().max(3), z.number().int(), z.null(), z.object({ a: z.boolean() })]),
    ['abc', 3, null, { a: true }],
  ],
  ['tuple', z.tuple([z.literal(1), z.string().length(2), z.enum(['x', 'y'])]), [[1, 'ab', 'x']]],
  [
    'nullable/optional',
    z.object({ a: z.string().nullable(), b: z.number().positive().optional() }),
    [{ a: null }, { a: 's', b: 2 }],
  ],
  ['strict', z.strictObject({ a: z.string() }), [{ a: 'x' }]],
  ['loose', z.looseObject({ a: z.string() }), [{ a: 'x', b: 1 }]],
  ['default', z.object({ a: z.string().default('d') }), [{ a: 'x' }, {}]],
  ['transform', z.string().transform((s) => s.length), ['abc']],
  ['bytes', z.object({ b: z.instanceof(Uint8Array) }), [{ b: new Uint8Array(2) }]],
  ['exclusive', z.number().gt(0).lt(1), [0.5]],
  [
    'formats',
    z.object({ n: z.int(), u: z.uint32(), e: z.email().optional(), h: z.hex().optional() }),
    [
      { n: 1, u: 2 },
      { n: 3, u: 4, e: 'a@b.co', h: 'ab' },
    ],
  ],
]

/** A change to a value: a field removed, replaced, added, an item dropped or duplicated, a type swapped. */
function mutate(value: unknown, r: SeededRandom, depth = 0): unknown {
  const odd: unknown[] = [
    null,
    undefined,
    0,
    -1,
    1.5,
    2 ** 32,
    2 ** 32 + 1,
    Number.NaN,
    Infinity,
    '',
    'x',
    'A'.repeat(43),
    HASH,
    'x'.repeat(2000),
    true,
    [],
    {},
    [1],
    { name: 'N', message: 'm' },
    new Uint8Array(1),
    65_536,
    1000,
    3,
  ]
  const pick = <T>(a: T[]): T => a[r.int(a.length)] as T
  if (depth > 3 || value === null || typeof value !== 'object' || value instanceof Uint8Array)
    return r.next() < 0.5 ? pick(odd) : value
  if (Array.isArray(value)) {
    const out = value.slice()
    const c = r.int(4)
    if (c === 0 && out.length > 0) out.splice(r.int(out.length), 1)
    else if (c === 1) out.push(pick(odd))
    else if (out.length > 0) {
      const i = r.int(out.length)
      out[i] = mutate(out[i], r, depth + 1)
    }
    return out
  }
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) }
  const keys = Object.keys(out)
  const c = r.int(4)
  if (c === 0 && keys.length > 0) delete out[pick(keys)]
  else if (c === 1) out[pick(['extra', 'kind', 'id', 'hops', 'keywords', 'hash'])] = pick(odd)
  else if (keys.length > 0) {
    const k = pick(keys)
    out[k] = mutate(out[k], r, depth + 1)
  }
  return out
}

for (const [name, schema, samples] of SCHEMAS) {
  test(`compiled check agrees with zod: ${name}`, (t) => {
    const r = new SeededRandom(name.length * 7919)
    const seen = { [SAME]: 0, [INVALID]: 0, [ASK_ZOD]: 0 }
    const check = compiledCheck(schema)
    for (const sample of samples) {
      let value: unknown = sample
      for (let i = 0; i < 1500; i++) {
        value = i % 5 === 0 ? sample : mutate(value, r)
        const verdict = check(value)
        seen[verdict]++
        const z = schema.safeParse(value)
        if (verdict === SAME) {
          t.true(z.success, `SAME for ${JSON.stringify(value)}, which zod rejects`)
          if (z.success) t.deepEqual(z.data, value)
        } else if (verdict === INVALID) {
          t.false(z.success, `INVALID for ${JSON.stringify(value)}, which zod accepts`)
        }
        // validate gives what zod gives, whatever the verdict.
        if (z.success) t.deepEqual(validate(schema, value, name), z.data)
        else t.throws(() => validate(schema, value, name), { instanceOf: ProtocolError })
      }
    }
    t.log(name, seen)
  })
}

test('compiled checks answer for the wire schemas (zod is asked only about what they cannot tell)', (t) => {
  t.is(compiledCheck(fileRecordSchema)(record), SAME)
  t.is(compiledCheck(hitSchema)(hit), SAME)
  t.is(compiledCheck(querySchema)({ keywords: ['a'] }), SAME)
  t.is(compiledCheck(querySchema)({ keywords: ['a'], hash: HASH }), INVALID) // the refinement
  t.is(compiledCheck(peerRefSchema)({ ...ref, extra: 1 }), ASK_ZOD) // zod strips it
  t.is(compiledCheck(z.string().transform((s) => s))('x'), ASK_ZOD)
  // Format schemas hold their check in their own definition.
  t.is(compiledCheck(z.int())(1.5), INVALID)
  t.is(compiledCheck(z.int())(2), SAME)
  t.is(compiledCheck(z.uint32())(-1), ASK_ZOD)
  t.is(compiledCheck(z.email())('x'), ASK_ZOD)
})

test('an object check counts keys only where that is exact: fields from the prototype, unknown keys, undefined', (t) => {
  const plain = compiledCheck(z.object({ a: z.string(), b: z.number().optional() }))
  t.is(plain({ a: 'x' }), SAME)
  t.is(plain({ a: 'x', b: 1 }), SAME)
  t.is(plain({ a: 'x', c: 1 }), ASK_ZOD, 'an unknown key: zod strips it')
  t.is(plain({ a: 'x', b: undefined }), ASK_ZOD, 'a field present as undefined: zod decides')
  const bare = Object.assign(Object.create(null), { a: 'x' })
  t.is(plain(bare), SAME, 'no prototype: the keys are its own')
  // A field read from the prototype is no key of the object: counting would miss the unknown one.
  class WithGetter {
    c = 1
    get a(): string {
      return 'x'
    }
  }
  t.is(plain(new WithGetter()), ASK_ZOD)
  const named = compiledCheck(z.object({ constructor: z.unknown(), a: z.string() }))
  t.is(named({ a: 'x', c: 1 }), ASK_ZOD, '`constructor` is read from Object.prototype: each key is looked up')
})

test('checkEnvelope accepts exactly what envelopeSchema accepts, and returns the same', (t) => {
  const r = new SeededRandom(25)
  const samples = [
    [Kind.Request, 1, 'a/1', {}],
    [Kind.Response, 2, null],
    [Kind.Error, 3, { name: 'E', message: 'm', x: 1 }],
    [Kind.Message, 'a/1', [1]],
    [Kind.GoAway, 7],
  ]
  let accepted = 0
  for (const sample of samples) {
    let value: unknown = sample
    for (let i = 0; i < 3000; i++) {
      value = i % 4 === 0 ? sample : mutate(value, r)
      const z = envelopeSchema.safeParse(value)
      if (z.success) {
        accepted++
        t.deepEqual(checkEnvelope(value), z.data)
      } else t.throws(() => checkEnvelope(value), { instanceOf: ProtocolError })
    }
  }
  t.true(accepted > 1000, `${accepted} accepted`)
  t.throws(() => checkEnvelope([Kind.Message, '', 1]), { message: /protocol name/ })
  t.throws(() => checkEnvelope([Kind.Request, 1.5, 'a/1', 1]), { message: /request id/ })
  t.throws(() => checkEnvelope([9, 1]), { message: /unknown kind 9/ })
})

test('a schema the closures compile gets one generated function (where functions can be made from source); one they leave to zod gets none', (t) => {
  t.is(compiledCheck(message).name, 'generatedCheck')
  t.is(compiledCheck(envelopeSchema).name, 'generatedCheck')
  const transform = z.string().transform((s) => s.length)
  t.not(compiledCheck(transform).name, 'generatedCheck')
  t.is(compiledCheck(transform)('abc'), ASK_ZOD)
})
