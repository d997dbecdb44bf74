import test from 'ava'
import { z } from 'zod'
import { formatOptionIssues, nearestName, parseOptions } from '../src/option-errors.js'

const schema = z
  .object({
    /** Neighbors kept. */
    maxNeighbors: z.number().int().min(1).max(1000).default(8),
    rate: z.number().positive().default(50),
    fast: z.boolean().default(true),
    mode: z.enum(['ring', 'flood']).default('ring'),
    name: z.string().optional(),
    limits: z
      .object({ perPeer: z.number().int().min(0).default(4) })
      .strict()
      .default({ perPeer: 4 }),
  })
  .strict()
  .check((ctx) => {
    if (ctx.value.limits.perPeer > ctx.value.maxNeighbors)
      ctx.issues.push({
        code: 'custom',
        path: ['limits', 'perPeer'],
        message: `at most maxNeighbors = ${ctx.value.maxNeighbors}`,
        input: ctx.value.limits.perPeer,
      })
  })

const fails = (input: unknown) => {
  try {
    parseOptions(schema, input, 'demo')
  } catch (err) {
    return err as Error
  }
  throw new Error('expected a failure')
}

test('defaults fill the missing fields and the result is deeply frozen', (t) => {
  const o = parseOptions(schema, {}, 'demo')
  t.deepEqual(o, { maxNeighbors: 8, rate: 50, fast: true, mode: 'ring', limits: { perPeer: 4 } })
  t.true(Object.isFrozen(o))
  t.true(Object.isFrozen(o.limits))
  t.is(parseOptions(schema, { rate: 2.5, limits: { perPeer: 1 } }, 'demo').rate, 2.5)
})

test('a range names the full path, both bounds and the value given', (t) => {
  const err = fails({ maxNeighbors: 0 })
  t.is(err.name, 'InvalidOptionsError')
  t.is(err.message, 'demo.maxNeighbors must be an integer from 1 to 1000 (got 0)')
  t.is((err.cause as Error).name, 'ZodError', 'the zod error is the cause')
  t.is(fails({ maxNeighbors: 2.5 }).message, 'demo.maxNeighbors must be an integer from 1 to 1000 (got 2.5)')
  t.is(
    fails({ maxNeighbors: '10' }).message,
    'demo.maxNeighbors must be an integer from 1 to 1000 (got "10")',
  )
  t.is(fails({ rate: 0 }).message, 'demo.rate must be a number > 0 (got 0)')
  t.is(fails({ rate: Number.POSITIVE_INFINITY }).message, 'demo.rate must be a number > 0 (got Infinity)')
})

test('other kinds: booleans, enums, strings, nested objects, the whole input', (t) => {
  t.is(fails({ fast: 'yes' }).message, 'demo.fast must be true or false (got "yes")')
  t.is(fails({ mode: 'walk' }).message, 'demo.mode must be one of "ring", "flood" (got "walk")')
  t.is(fails({ name: 3 }).message, 'demo.name must be a string (got 3)')
  t.is(fails({ limits: { perPeer: -1 } }).message, 'demo.limits.perPeer must be an integer >= 0 (got -1)')
  t.is(fails({ limits: [] }).message, 'demo.limits must be an object (got an array)')
  t.is(fails('fast').message, 'demo must be an object (got "fast")')
  t.is(fails(null).message, 'demo must be an object (got null)')
})

test('an unknown name suggests the nearest valid one, at any depth', (t) => {
  t.is(fails({ maxNeighbour: 3 }).message, 'demo.maxNeighbour is not an option; did you mean maxNeighbors?')
  t.is(fails({ MAXNEIGHBORS: 3 }).message, 'demo.MAXNEIGHBORS is not an option; did you mean maxNeighbors?')
  t.is(
    fails({ limits: { perpeer: 3 } }).message,
    'demo.limits.perpeer is not an option; did you mean perPeer?',
  )
  t.is(
    fails({ fanout: 3 }).message,
    'demo.fanout is not an option; options: maxNeighbors, rate, fast, mode, name, limits',
  )
})

test('a custom check names its field; several issues are all listed', (t) => {
  t.is(
    fails({ maxNeighbors: 2, limits: { perPeer: 3 } }).message,
    'demo.limits.perPeer must be at most maxNeighbors = 2 (got 3)',
  )
  t.is(
    fails({ rate: -1, fast: 1, typo: 1 }).message,
    'demo.rate must be a number > 0 (got -1); demo.fast must be true or false (got 1); demo.typo is not an option; options: maxNeighbors, rate, fast, mode, name, limits',
  )
})

test('formatOptionIssues without a schema falls back on what the issue says', (t) => {
  const r = z.object({ n: z.number().int().min(2) }).safeParse({ n: 1 })
  t.false(r.success)
  if (!r.success) t.is(formatOptionIssues(r.error.issues, { n: 1 }, 'x'), 'x.n must be >= 2 (got 1)')
})

test('nearestName: close names only', (t) => {
  t.is(nearestName('stabiliseInterval', ['stabilizeInterval', 'successors']), 'stabilizeInterval')
  t.is(nearestName('ttl', ['maxTtl', 'ttl']), 'ttl')
  t.is(nearestName('zzz', ['maxNeighbors', 'ttl']), undefined)
  t.is(nearestName('x', []), undefined)
})

test('a string or array of the right type that fails a check is described by that check', (t) => {
  const schema = z
    .object({
      prefix: z
        .string()
        .regex(/^[a-z]+$/, 'lower-case letters')
        .max(8)
        .default('a'),
      peers: z.array(z.string()).min(1).default(['x']),
      path: z.string().min(1).default('.'),
    })
    .strict()
  const fail = (input: unknown) => t.throws(() => parseOptions(schema, input, 'kit')) as Error
  t.is(fail({ prefix: 'Bad-Pre' }).message, 'kit.prefix must be lower-case letters (got "Bad-Pre")')
  t.is(
    fail({ prefix: 'abcdefghij' }).message,
    'kit.prefix must be at most 8 characters long (got "abcdefghij")',
  )
  t.is(fail({ peers: [] }).message, 'kit.peers must be a non-empty array (got an array)')
  t.is(fail({ path: '' }).message, 'kit.path must be a non-empty string (got "")')
  t.is(fail({ prefix: 7 }).message, 'kit.prefix must be a string (got 7)')
  const named = z.object({ module: z.string().min(1, 'a module name or path') }).strict()
  t.throws(() => parseOptions(named, { module: '' }, 'kit'), {
    message: 'kit.module must be a module name or path (got "")',
  })
})
