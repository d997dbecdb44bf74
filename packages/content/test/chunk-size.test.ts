import test from 'ava'
import {
  chunkCount,
  chunkRange,
  chunkSizeFor,
  MAX_CHUNK_SIZE,
  MIN_CHUNK_SIZE,
  TARGET_MAX_CHUNKS,
} from '../src/index.js'

const KiB = 1024
const MiB = 1024 * KiB
const GiB = 1024 * MiB

test('small files use the minimum chunk size', (t) => {
  t.is(chunkSizeFor(0), 64 * KiB)
  t.is(chunkSizeFor(1), 64 * KiB)
  t.is(chunkSizeFor(128 * MiB), 64 * KiB)
})

test('the chunk size doubles to keep at most 2048 chunks, up to 4 MiB', (t) => {
  t.is(chunkSizeFor(128 * MiB + 1), 128 * KiB)
  t.is(chunkSizeFor(1 * GiB), 512 * KiB)
  t.is(chunkSizeFor(8 * GiB), 4 * MiB)
  t.is(chunkSizeFor(100 * GiB), 4 * MiB)
})

test('the rule holds for many sizes', (t) => {
  for (let size = 0; size < 20 * GiB; size = size * 3 + 7777) {
    const cs = chunkSizeFor(size)
    t.true(cs >= MIN_CHUNK_SIZE && cs <= MAX_CHUNK_SIZE)
    t.is(cs & (cs - 1), 0, 'a power of two')
    if (cs < MAX_CHUNK_SIZE) t.true(chunkCount(size, cs) <= TARGET_MAX_CHUNKS)
    if (cs > MIN_CHUNK_SIZE) t.true(Math.ceil(size / (cs / 2)) > TARGET_MAX_CHUNKS, 'the smallest that fits')
  }
  t.throws(() => chunkSizeFor(-1), { instanceOf: RangeError })
})

test('chunk ranges cover the file; an empty file has one empty chunk', (t) => {
  t.is(chunkCount(0, 64 * KiB), 1)
  t.deepEqual(chunkRange(0, 0, 64 * KiB), { offset: 0, length: 0 })
  t.is(chunkCount(64 * KiB, 64 * KiB), 1)
  t.is(chunkCount(64 * KiB + 1, 64 * KiB), 2)
  t.deepEqual(chunkRange(1, 64 * KiB + 1, 64 * KiB), { offset: 64 * KiB, length: 1 })
})
