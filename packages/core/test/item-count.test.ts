import { cpuUsage } from 'node:process'
import test from 'ava'
import { countItems, DEFAULT_MAX_MESSAGE_ITEMS, decode, encode } from '../src/wire/index.js'

/** msgpack of an array32 of `n` empty maps (0x80 each): 4 MiB holds four million of them. */
function emptyMaps(n: number): Uint8Array {
  const out = new Uint8Array(5 + n).fill(0x80)
  out[0] = 0xdd
  new DataView(out.buffer).setUint32(1, n)
  return out
}

test('countItems counts array items and map keys and values, skipping strings and binaries', (t) => {
  t.is(countItems(encode(1), 100), 0)
  t.is(countItems(encode([1, 2, 3]), 100), 3)
  t.is(countItems(encode({ a: 1, b: 'x'.repeat(300) }), 100), 4)
  t.is(countItems(encode([0, 7, 'peerkit/x/1', { data: new Uint8Array(70_000), list: [[], {}] }]), 100), 10)
  // A header that declares more than the bytes hold stops the count as soon as it passes the maximum.
  t.true(countItems(Uint8Array.of(0xdd, 0x01, 0xc9, 0xc3, 0x80), 1000) > 1000)
})

test('a 4 MiB message of four million empty maps is refused before decoding, at a fraction of its decode cost', (t) => {
  const bytes = emptyMaps(4 * 1024 * 1024 - 5)
  const before = cpuUsage()
  const err = t.throws(() => decode(bytes))
  const refusedUs = cpuUsage(before).user
  t.is(err?.name, 'ProtocolError')
  t.regex(err?.message ?? '', /network\.maxMessageItems/)
  // What decoding it would have cost (the attack's figure): measured, not assumed.
  const under = emptyMaps(DEFAULT_MAX_MESSAGE_ITEMS)
  const start = cpuUsage()
  decode(under)
  const decodeUs = cpuUsage(start).user
  t.log(
    `refused 4 MiB in ${refusedUs} µs; decoding ${DEFAULT_MAX_MESSAGE_ITEMS} empty maps costs ${decodeUs} µs`,
  )
  t.true(refusedUs < 50_000, `refusing took ${refusedUs} µs of CPU`)
})

test('an array header claiming 30 million items in five bytes is refused before msgpackr allocates it', (t) => {
  const bytes = Uint8Array.of(0xdd, 0x01, 0xc9, 0xc3, 0x80)
  t.throws(() => decode(bytes), { name: 'ProtocolError', message: /declares more than/ })
})

test('a message within the bound decodes as before; the bound can be lowered per call', (t) => {
  const value = { records: Array.from({ length: 1000 }, (_, i) => ({ name: `file ${i}`, size: i })) }
  t.deepEqual(decode(encode(value)), value)
  t.throws(() => decode(encode(value), 1000), { name: 'ProtocolError' })
})

test('decode refuses exactly the messages that declare more values than the bound, whether or not it counts them', (t) => {
  // A message read whole in JavaScript is not counted when it has no more bytes than the bound: it cannot
  // hold more values than bytes. Every bound around each message's count gives what counting gives.
  const messages = [
    [],
    [0, 1, 2],
    { a: [1, [2, [3, {}]]], b: 'x' },
    [3, 'peerkit/x/1', { kind: 'query', id: 'ab'.repeat(16), ttl: 3, query: { keywords: ['a', 'b'] } }],
    Array.from({ length: 40 }, (_, i) => ({ i })),
  ]
  for (const value of messages) {
    const bytes = encode(value)
    const count = countItems(bytes, Number.MAX_SAFE_INTEGER)
    for (let max = Math.max(0, count - 3); max <= bytes.length + 2; max++) {
      if (count > max) t.throws(() => decode(bytes, max), { name: 'ProtocolError' }, `${count} > ${max}`)
      else t.deepEqual(decode(bytes, max), value)
    }
  }
})
