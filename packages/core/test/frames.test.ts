import test from 'ava'
import { decode, encode, encodeFrame, FrameDecoder } from '../src/index.js'

const bytes = (...n: number[]) => new Uint8Array(n)

test('frames split across arbitrary chunk boundaries come out whole and in order', (t) => {
  const bodies = [bytes(1, 2, 3), bytes(), new Uint8Array(1000).fill(7), bytes(9)]
  const stream = Buffer.concat(bodies.map((b) => encodeFrame(b)))
  for (const step of [1, 2, 3, 5, 64, stream.length]) {
    const dec = new FrameDecoder(4096)
    const out: Uint8Array[] = []
    for (let i = 0; i < stream.length; i += step) out.push(...dec.push(stream.subarray(i, i + step)))
    t.deepEqual(
      out.map((b) => [...b]),
      bodies.map((b) => [...b]),
    )
    t.is(dec.pending, 0)
  }
})

test('a frame announced larger than the maximum is a ProtocolError before it is buffered', (t) => {
  const dec = new FrameDecoder(16)
  const header = encodeFrame(new Uint8Array(17)).subarray(0, 4)
  t.throws(() => dec.push(header), { name: 'ProtocolError', message: /17 bytes exceeds the maximum of 16/ })
})

test('msgpack round-trips plain data and binary; garbage is a ProtocolError', (t) => {
  const value = { a: 1, b: 'x', c: [true, null], d: new Uint8Array([1, 2]) }
  const back = decode(encode(value)) as typeof value
  t.deepEqual({ ...back, d: [...back.d] }, { ...value, d: [1, 2] })
  t.throws(() => decode(bytes(0xc1)), { name: 'ProtocolError' })
  t.throws(() => decode(bytes(0x92, 0x01)), { name: 'ProtocolError' })
})
