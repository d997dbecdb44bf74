import { frameHeader } from '@peerkit/core'
import test from 'ava'
import { RecordReader } from '../src/record-reader.js'

function wire(...bodies: Uint8Array[]): Buffer {
  return Buffer.concat(bodies.flatMap((b) => [frameHeader(b.length), b]))
}

test('records are found whatever the chunking, in order, with their bytes', (t) => {
  const bodies = [Buffer.alloc(0), Buffer.from('one'), Buffer.alloc(70_000, 7), Buffer.from('last')]
  const stream = wire(...bodies)
  for (const step of [1, 3, 4, 5, 1000, 65_536, stream.length]) {
    const reader = new RecordReader(100_000)
    const got: string[] = []
    for (let i = 0; i < stream.length; i += step) {
      // Copy out each body at once: it may be the reader's scratch buffer.
      reader.push(stream.subarray(i, i + step), (body) => got.push(Buffer.from(body).toString('hex')) > 0)
    }
    t.deepEqual(
      got,
      bodies.map((b) => b.toString('hex')),
      `chunks of ${step}`,
    )
    t.is(reader.pending, 0)
  }
})

test('a record announcing more than the maximum throws ProtocolError before its body is buffered', (t) => {
  const reader = new RecordReader(1000)
  t.throws(() => reader.push(frameHeader(1001), () => true), { name: 'ProtocolError', message: /1001 bytes/ })
})

test('returning false stops at that record; the rest waits for the next push', (t) => {
  const reader = new RecordReader(100)
  const seen: string[] = []
  reader.push(wire(Buffer.from('a'), Buffer.from('b')), (body) => {
    seen.push(Buffer.from(body).toString())
    return false
  })
  t.deepEqual(seen, ['a'])
  t.is(reader.pending, 5)
})
