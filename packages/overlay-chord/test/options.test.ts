import test from 'ava'
import { chordOverlay, DEFAULT_BITS, DEFAULT_SUCCESSORS, parseChordOptions } from '../src/index.js'

test('defaults, frozen', (t) => {
  const o = parseChordOptions()
  t.is(o.bits, DEFAULT_BITS)
  t.is(o.successors, DEFAULT_SUCCESSORS)
  t.is(o.replication, 3)
  t.true(o.refreshInterval < o.recordTtl)
  t.true(Object.isFrozen(o))
  t.deepEqual(parseChordOptions({ bits: 160, successors: 20, replication: 4 }), {
    ...o,
    bits: 160,
    successors: 20,
    replication: 4,
  })
})

test('each bad field is named with its value', (t) => {
  t.throws(() => parseChordOptions({ successors: 0 }), {
    name: 'InvalidOptionsError',
    message: 'chord.successors must be an integer from 1 to 64 (got 0)',
  })
  t.throws(() => parseChordOptions({ bits: 300 }), {
    name: 'InvalidOptionsError',
    message: /chord\.bits .* \(got 300\)/,
  })
  t.throws(() => parseChordOptions({ stabilizeInterval: '1s' }), {
    name: 'InvalidOptionsError',
    message: /stabilizeInterval/,
  })
  t.throws(() => parseChordOptions({ recordTtl: 1.5 }), { name: 'InvalidOptionsError', message: /recordTtl/ })
  t.throws(() => parseChordOptions({ fingers: 3 }), {
    name: 'InvalidOptionsError',
    message: /chord\.fingers is not an option/,
  })
  t.throws(() => parseChordOptions('fast'), { name: 'InvalidOptionsError', message: /must be an object/ })
  t.throws(() => parseChordOptions(null), { name: 'InvalidOptionsError' })
})

test('a misspelt option gets the nearest name; an out-of-range value names the option and its bounds', (t) => {
  t.throws(() => parseChordOptions({ stabiliseInterval: 500 }), {
    name: 'InvalidOptionsError',
    message: 'chord.stabiliseInterval is not an option; did you mean stabilizeInterval?',
  })
  t.throws(() => parseChordOptions({ disjointPaths: 9 }), {
    name: 'InvalidOptionsError',
    message: 'chord.disjointPaths must be an integer from 1 to 8 (got 9)',
  })
  t.throws(() => parseChordOptions({ bootstrapRetryMax: 999 }), {
    name: 'InvalidOptionsError',
    message: 'chord.bootstrapRetryMax must be an integer from 1000 to 86400000 (got 999)',
  })
})

test('fields that depend on each other', (t) => {
  t.throws(() => parseChordOptions({ successors: 2, replication: 4 }), {
    name: 'InvalidOptionsError',
    message: 'chord.replication must be at most chord.successors + 1 = 3 (got 4)',
  })
  t.throws(() => parseChordOptions({ refreshInterval: 1000, recordTtl: 1000 }), {
    name: 'InvalidOptionsError',
    message: /chord\.refreshInterval must be below chord\.recordTtl/,
  })
  t.throws(() => parseChordOptions({ maxRecordsPerProvider: 11, maxStoredRecords: 10 }), {
    name: 'InvalidOptionsError',
    message: 'chord.maxRecordsPerProvider must be at most chord.maxStoredRecords = 10 (got 11)',
  })
})

test('the factory validates before it registers anything', (t) => {
  t.throws(() => chordOverlay({ replication: 0 }), { name: 'InvalidOptionsError' })
  t.is(typeof chordOverlay(), 'function')
  t.is(typeof chordOverlay(undefined), 'function')
})
