import test from 'ava'
import { DEFAULT_SUPERNODE_OPTIONS, parseSupernodeOptions, supernodeOverlay } from '../src/index.js'

test('no options give the frozen defaults', (t) => {
  const o = parseSupernodeOptions(undefined)
  t.deepEqual(o, DEFAULT_SUPERNODE_OPTIONS)
  t.true(Object.isFrozen(o))
  t.is(o.leavesPerSupernode, 32)
  t.is(o.supernodeLinks, 32)
  t.is(o.canBeSupernode, 'auto')
})

test('given options are merged over the defaults', (t) => {
  const o = parseSupernodeOptions({ leavesPerSupernode: 8, canBeSupernode: false, capacity: 2.5 })
  t.is(o.leavesPerSupernode, 8)
  t.is(o.canBeSupernode, false)
  t.is(o.capacity, 2.5)
  t.is(o.ttl, DEFAULT_SUPERNODE_OPTIONS.ttl)
})

test("bad options throw InvalidOptionsError naming the field and the value, in core's one format", (t) => {
  const cases: [unknown, RegExp][] = [
    [{ leavesPerSupernode: 0 }, /supernode\.leavesPerSupernode must be an integer from 1 .*\(got 0\)/],
    [{ ttl: 8 }, /supernode\.ttl must be an integer from 1 to 7 \(got 8\)/],
    [{ canBeSupernode: 'yes' }, /supernode\.canBeSupernode must be true, false or 'auto' \(got "yes"\)/],
    [{ capacity: -1 }, /supernode\.capacity must be a number >= 0/],
    [{ queryRate: 0 }, /supernode\.queryRate must be a number > 0/],
    [{ expandingRing: 'no' }, /supernode\.expandingRing must be true or false/],
    [
      { supernodeLinks: 40, maxSupernodeLinks: 30 },
      /^supernode\.maxSupernodeLinks must be at least supernode\.supernodeLinks = 40 \(got 30\)$/,
    ],
    [{ fanout: 3 }, /supernode\.fanout is not an option; options: canBeSupernode/],
    [
      { leavesPerSupernod: 8 },
      /^supernode\.leavesPerSupernod is not an option; did you mean leavesPerSupernode\?$/,
    ],
    [{ hopTimeout: 1.5 }, /^supernode\.hopTimeout must be an integer from 1 to \d+ \(got 1\.5\)$/],
    ['fast', /^supernode must be an object \(got "fast"\)$/],
  ]
  for (const [input, message] of cases) {
    t.throws(
      () => parseSupernodeOptions(input),
      { name: 'InvalidOptionsError', message },
      JSON.stringify(input),
    )
  }
})

test('the registration factory validates before anything is built', (t) => {
  t.throws(() => supernodeOverlay({ ttl: 0 }), { name: 'InvalidOptionsError' })
  t.is(typeof supernodeOverlay({ ttl: 3 }), 'function')
})
