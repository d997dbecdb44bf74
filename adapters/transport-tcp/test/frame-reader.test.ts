import { frameHeader } from '@peerkit/core/wire'
import test from 'ava'
import { FrameReader } from '../src/frame-reader.js'

function wire(...bodies: Uint8Array[]): Buffer {
  return Buffer.concat(bodies.flatMap((b) => [frameHeader(b.length), b]))
}

for (const reuse of [false, true]) {
  test(`frames are found whatever the chunking, in order, with their bytes${reuse ? ' (reused scratch)' : ''}`, (t) => {
    const bodies = [Buffer.alloc(0), Buffer.from('one'), Buffer.alloc(70_000, 7), Buffer.from('last')]
    const stream = wire(...bodies)
    for (const step of [1, 3, 4, 5, 1000, 65_536, stream.length]) {
      const reader = new FrameReader(100_000, reuse)
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
}

test('a frame announcing more than the maximum throws ProtocolError before its body is buffered', (t) => {
  const reader = new FrameReader(1000, false, 'record')
  t.throws(() => reader.push(frameHeader(1001), () => true), {
    name: 'ProtocolError',
    message: 'record of 1001 bytes exceeds the maximum of 1000',
  })
})

test('returning false stops at that frame; the rest waits for the next push', (t) => {
  const reader = new FrameReader(100)
  const seen: string[] = []
  reader.push(wire(Buffer.from('a'), Buffer.from('b')), (body) => {
    seen.push(Buffer.from(body).toString())
    return false
  })
  t.deepEqual(seen, ['a'])
  t.is(reader.pending, 5)
})
