import test from 'ava'
import {
  decode,
  encode,
  encodeFrame,
  FrameDecoder,
  INTERN_CACHE,
  INTERN_MAX_LENGTH,
  internedStrings,
} from '../src/wire/index.js'

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
  const { setFlagsFromString } = await import('node:v8')
  const { runInNewContext } = await import('node:vm')
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  // Only the name differs from record to record, and it is longer than INTERN_MAX_LENGTH: the strings the
  // intern table keeps (bounded, tested below) are the same few in every frame, so the heap measures the
  // frames kept alive, not the table.
  const record = (i: number) => ({
    hash: 'f'.repeat(64),
    name: `harry potter and the chamber of secrets, the extended edition, part ${i}.mkv`,
    size: 123_456 + i,
    keywords: ['harry', 'potter', 'chamber', 'secrets'],
    provider: { id: `${'A'.repeat(40)}abc`, addresses: ['memory://peer-1'] },
  })
  const kept: string[] = []
  gc()
  const before = process.memoryUsage().heapUsed
  for (let i = 0; i < 2000; i++) {
    const records = Array.from({ length: 8 }, (_, k) => record(i * 8 + k))
    const frame = encode([0, i + 1, 'peerkit/chord/1', { type: 'store', records, ttl: 360_000 }])
    const value = decode(frame) as [number, number, string, { records: { name: string }[] }]
    kept.push(value[3].records[0]?.name as string)
  }
  gc()
  const grown = process.memoryUsage().heapUsed - before
  t.is(kept[7], 'harry potter and the chamber of secrets, the extended edition, part 56.mkv')
  t.true((kept[7] as string).length > INTERN_MAX_LENGTH)
  // 2,000 frames of ~2 KB: a name that kept its frame alive would keep ~4 MB
  t.true(grown < 1.5 * 2 ** 20, `heap grew by ${(grown / 2 ** 20).toFixed(2)} MB`)
})

/** A frame of `records` chord-like records, long enough for its strings to be detached. */
function storeFrame(
  id: number,
  records: { hash: string; keywords: string[]; provider: string }[],
): Uint8Array {
  return encode([0, id, 'peerkit/chord/1', { type: 'store', records, ttl: 360_000 }])
}

test('strings of 13 to INTERN_MAX_LENGTH characters repeated across messages are kept once: the copies share their memory', async (t) => {
  const { setFlagsFromString } = await import('node:v8')
  const { runInNewContext } = await import('node:vm')
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  const provider = `${'P'.repeat(40)}abc`
  const hash = 'f'.repeat(64)
  // Of 13 characters or more: shorter strings are not interned (V8 copies them anyway).
  const keywords = ['harry-potter-1', 'and-the-philosopher', 'stone-of-the-wise', 'matroska-video-en']
  const kept: unknown[] = []
  gc()
  const before = process.memoryUsage().heapUsed
  for (let i = 0; i < 20_000; i++) {
    const value = decode(storeFrame(i + 1, [{ hash, keywords, provider }])) as [
      number,
      number,
      string,
      { records: { hash: string; keywords: string[]; provider: string }[] },
    ]
    const r = value[3].records[0]
    t.is(r?.provider, provider)
    kept.push(r)
  }
  gc()
  const grown = process.memoryUsage().heapUsed - before
  // Kept apart, each record's six strings (4 keywords, a 64- and a 43-character string) would take some
  // 400 B more than its objects: about 8 MB for 20,000. Shared, only the objects and arrays remain.
  t.true(grown < 20_000 * 300, `heap grew by ${(grown / 2 ** 20).toFixed(2)} MB for 20,000 records`)
  t.is(kept.length, 20_000) // read after the measure, so the records are alive during it
})

test('the intern table is bounded: a peer sending ever new strings turns it over, and decoding stays right', (t) => {
  t.true(INTERN_CACHE >= 1024 && INTERN_MAX_LENGTH >= 43)
  // The attack: frames full of distinct strings, three times the table's capacity.
  const distinct = 3 * 2 * INTERN_CACHE
  let max = 0
  for (let i = 0; i < distinct; i += 64) {
    const keywords = Array.from({ length: 64 }, (_, k) => `attacker-string-${i + k}`)
    const back = decode(
      storeFrame(i + 1, [{ hash: 'a'.repeat(64), keywords, provider: 'x'.repeat(43) }]),
    ) as [number, number, string, { records: { keywords: string[] }[] }]
    t.is(back[3].records[0]?.keywords[63], `attacker-string-${i + 63}`)
    max = Math.max(max, internedStrings())
  }
  t.true(max <= 2 * INTERN_CACHE, `the table held at most ${max} strings (bound ${2 * INTERN_CACHE})`)
  t.true(max > INTERN_CACHE, 'the attack filled it')
  // Honest traffic after the attack: the same strings, decoded right (and interned again).
  const honest = decode(
    storeFrame(1, [{ hash: 'b'.repeat(64), keywords: ['harry', 'potter'], provider: 'y'.repeat(43) }]),
  )
  t.deepEqual((honest as [number, number, string, { records: unknown[] }])[3].records, [
    { hash: 'b'.repeat(64), keywords: ['harry', 'potter'], provider: 'y'.repeat(43) },
  ])
  t.true(internedStrings() <= 2 * INTERN_CACHE)
})

test('strings longer than INTERN_MAX_LENGTH are not interned but still detached', (t) => {
  const long = 'L'.repeat(INTERN_MAX_LENGTH + 1)
  const before = internedStrings()
  const back = decode(storeFrame(1, [{ hash: long, keywords: [], provider: long }])) as [
    number,
    number,
    string,
    { records: { hash: string }[] },
  ]
  t.is(back[3].records[0]?.hash, long)
  t.true(internedStrings() - before <= 4, 'only the short strings of the frame were added')
})
