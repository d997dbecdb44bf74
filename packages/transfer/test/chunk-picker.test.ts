import test from 'ava'
import { ChunkPicker, formatRanges } from '../src/index.js'

test('hands out chunks in order, skipping the ones already had', (t) => {
  const p = new ChunkPicker(6, [1, 2], { endgameDuplicates: 0 })
  t.is(p.completed, 2)
  t.deepEqual([p.next('a'), p.next('b'), p.next('a'), p.next('b')], [0, 3, 4, 5])
  t.is(p.next('a'), undefined)
  t.false(p.hasUnassigned)
})

test('a released chunk goes to the next source first', (t) => {
  const p = new ChunkPicker(4, [], { endgameDuplicates: 0 })
  t.is(p.next('a'), 0)
  t.is(p.next('a'), 1)
  p.release(0, 'a')
  t.true(p.hasUnassigned)
  t.is(p.next('b'), 0)
  t.is(p.next('b'), 2)
  // Releasing twice, or by a source that does not hold it, changes nothing.
  p.release(0, 'a')
  t.is(p.next('c'), 3)
  t.is(p.next('c'), undefined)
})

test('completion is counted once; a duplicate reports the first copy', (t) => {
  const p = new ChunkPicker(2, [], { endgameDuplicates: 1 })
  t.is(p.next('a'), 0)
  t.is(p.next('a'), 1)
  t.is(p.next('b'), 0, 'endgame: a duplicate of the oldest in-flight chunk')
  t.deepEqual(p.complete(0, 'b'), { first: true, others: ['a'] })
  t.deepEqual(p.complete(0, 'a'), { first: false, others: [] })
  t.is(p.completed, 1)
  t.deepEqual(p.complete(1, 'a'), { first: true, others: [] })
  t.true(p.finished)
  t.deepEqual(p.missing(), [])
})

test('the endgame never gives one source the same chunk twice and bounds the copies', (t) => {
  const p = new ChunkPicker(1, [], { endgameDuplicates: 2 })
  t.is(p.next('a'), 0)
  t.is(p.next('a'), undefined, 'a already holds it')
  t.is(p.next('b'), 0)
  t.is(p.next('c'), 0)
  t.is(p.next('d'), undefined, 'at most 1 + 2 copies')
  t.deepEqual([...p.holders(0)].sort(), ['a', 'b', 'c'])
  p.release(0, 'a')
  p.release(0, 'b')
  p.release(0, 'c')
  t.is(p.next('d'), 0, 'given back when every copy failed')
})

test('without endgame, an in-flight chunk is never duplicated', (t) => {
  const p = new ChunkPicker(1, [], { endgameDuplicates: 0 })
  t.is(p.next('a'), 0)
  t.is(p.next('b'), undefined)
})

test('a large picker hands out every chunk exactly once without rescans', (t) => {
  const n = 100_000
  const p = new ChunkPicker(n, [], { endgameDuplicates: 0 })
  const seen = new Uint8Array(n)
  for (let k = 0; k < n; k++) {
    const i = p.next(k % 2 ? 'a' : 'b') as number
    t.is(seen[i], 0)
    seen[i] = 1
    p.complete(i, k % 2 ? 'a' : 'b')
  }
  t.true(p.finished)
})

test('formatRanges folds consecutive indexes', (t) => {
  t.is(formatRanges([0, 1, 2, 5, 7, 8]), '0-2, 5, 7-8')
  t.is(formatRanges([]), '')
  t.is(formatRanges([4]), '4')
})
