import test from 'ava'
import { heapAfterGc } from '../src/heap.js'
import { decode, encode, encodeFrame, FrameDecoder } from '../src/wire/index.js'

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

test('a frame long enough for its strings to be detached decodes to the same data, at every depth', (t) => {
  const long = 'a string of more than thirteen characters'
  const value = [
    0,
    7,
    'peerkit/test/1',
    {
      short: 'twelve chars',
      thirteen: 'thirteen char',
      long,
      nested: [[long, 'x', 1.5, null, false], { deeper: { list: [long, long.toUpperCase()] } }],
      bytes: new Uint8Array([1, 2, 3]),
      n: -42,
      unicode: 'Amélie Poulain, 千と千尋の神隠し',
    },
  ]
  const frame = encode(value)
  t.true(frame.byteLength >= 128, 'long enough to be detached')
  const back = decode(frame) as [number, number, string, Record<string, unknown>]
  const body = back[3]
  t.deepEqual([...(body.bytes as Uint8Array)], [1, 2, 3])
  t.deepEqual(back, [0, 7, 'peerkit/test/1', { ...(value[3] as object), bytes: body.bytes }])
})

test('strings decoded from a frame do not keep the frame alive', async (t) => {
  const record = (i: number) => ({
    hash: i.toString(16).padStart(4, '0').repeat(16),
    name: `harry potter and the chamber of secrets ${i}.mkv`,
    size: 123_456 + i,
    keywords: ['harry', 'potter', 'chamber', 'secrets', String(i)],
    provider: { id: `${'A'.repeat(40)}${String(i).padStart(3, '0')}`, addresses: [`memory://peer-${i}`] },
  })
  const kept: string[] = []
  const before = heapAfterGc()
  for (let i = 0; i < 2000; i++) {
    const records = Array.from({ length: 8 }, (_, k) => record(i * 8 + k))
    const frame = encode([0, i + 1, 'peerkit/chord/1', { type: 'store', records, ttl: 360_000 }])
    const value = decode(frame) as [number, number, string, { records: { name: string }[] }]
    kept.push(value[3].records[0]?.name as string)
  }
  const grown = heapAfterGc() - before
  t.is(kept[7], 'harry potter and the chamber of secrets 56.mkv')
  // 2,000 frames of ~2 KB: a name that kept its frame alive would keep ~4 MB
  t.true(grown < 1.5 * 2 ** 20, `heap grew by ${(grown / 2 ** 20).toFixed(2)} MB`)
})
