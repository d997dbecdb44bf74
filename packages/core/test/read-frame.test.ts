import test from 'ava'
import { Packr } from 'msgpackr'
import { decode, encode } from '../src/wire/codec.js'
import { readFrame, UNREAD } from '../src/wire/read-frame.js'

// msgpackr as core's codec configures it: what readFrame must agree with.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, int64AsType: 'number' })

/** A seeded generator (the test is the same every run). */
function generator(seed: number) {
  let s = seed
  const next = () => {
    s = (s * 16807) % 2147483647
    return s / 2147483647
  }
  const int = (n: number) => Math.floor(next() * n)
  const ascii = (n: number) => {
    let out = ''
    for (let i = 0; i < n; i++) out += String.fromCharCode(32 + int(95))
    return out
  }
  const string = (): string => {
    const r = next()
    if (r < 0.05) return `é${ascii(int(20))}` // not ASCII: msgpackr's
    if (r < 0.1) return '__proto__'
    return ascii([0, 1, 5, 12, 13, 15, 16, 31, 32, 43, 64, 200, 300][int(13)] as number)
  }
  const number = (): number => {
    const r = int(10)
    if (r === 0) return -int(2 ** 31)
    if (r === 1) return int(2 ** 32)
    if (r === 2) return 2 ** 32 + int(1000) // 64-bit: msgpackr's
    if (r === 3) return (next() - 0.5) * 1e6 // float64
    if (r === 4) return -int(33)
    if (r === 5) return int(70_000) - 35_000
    return int(300)
  }
  const value = (depth: number): unknown => {
    const r = int(depth > 3 ? 6 : 9)
    if (r === 0) return null
    if (r === 1) return next() < 0.5
    if (r === 2 || r === 3) return number()
    if (r === 4) return string()
    if (r === 5) return new Uint8Array([0, 3, 40, 300][int(4)] as number).map(() => int(256))
    if (r === 6)
      return Array.from({ length: [0, 1, 3, 15, 16, 40][int(6)] as number }, () => value(depth + 1))
    const o: Record<string, unknown> = {}
    // Defined, not assigned: an assigned __proto__ would set the prototype.
    for (let i = [0, 1, 4, 15, 16, 20][int(6)] as number; i > 0; i--)
      Object.defineProperty(o, string(), {
        value: value(depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      })
    return o
  }
  return { value, int }
}

/** msgpackr's reading of `bytes`, or the error it throws. */
function msgpackr(bytes: Uint8Array): { value?: unknown; error?: unknown } {
  try {
    return { value: packr.unpack(bytes) }
  } catch (error) {
    return { error }
  }
}

test('readFrame reads what msgpackr reads, or leaves it to msgpackr (1,000 random messages)', (t) => {
  const g = generator(7)
  let read = 0
  for (let i = 0; i < 1000; i++) {
    const bytes = Buffer.from(encode([3, 'peerkit/test/1', g.value(0)]))
    const mine = readFrame(bytes)
    const theirs = msgpackr(bytes)
    t.is(theirs.error, undefined)
    if (mine === UNREAD) continue
    read++
    t.deepEqual(mine, theirs.value)
  }
  t.true(read > 300, `${read} read here`) // most are: non-ASCII strings and 64-bit numbers are one in ten of each kind
})

test('readFrame never accepts bytes msgpackr refuses, nor reads them otherwise (damaged messages)', (t) => {
  const g = generator(11)
  let damaged = 0
  for (let i = 0; i < 1000; i++) {
    const bytes = Buffer.from(encode(g.value(0)))
    if (bytes.length < 2) continue
    const cut = Buffer.from(bytes)
    const at = g.int(cut.length)
    if (i % 3 === 0) cut[at] = g.int(256)
    const frame =
      i % 3 === 1 ? cut.subarray(0, at) : i % 3 === 2 ? Buffer.concat([cut, cut.subarray(0, 1)]) : cut
    const mine = readFrame(frame)
    const theirs = msgpackr(frame)
    if (theirs.error !== undefined) {
      damaged++
      t.is(mine, UNREAD)
    } else if (mine !== UNREAD) t.deepEqual(mine, theirs.value)
  }
  t.true(damaged > 150, `${damaged} damaged`)
})

test('readFrame leaves a plain Uint8Array, the reserved byte and extensions to msgpackr', (t) => {
  const bytes = encode({ a: 'b' })
  t.is(readFrame(new Uint8Array(bytes)), UNREAD)
  t.deepEqual(readFrame(Buffer.from(bytes)), { a: 'b' })
  t.is(readFrame(Buffer.from([0xc1])), UNREAD)
  t.is(readFrame(Buffer.from([0xd4, 0x01, 0x00])), UNREAD)
  t.is(readFrame(Buffer.from([0xca, 0, 0, 0, 0])), UNREAD)
})

test('a key named __proto__ is a plain property, as msgpackr makes it', (t) => {
  const bytes = Buffer.from([0x81, 0xa9, ...Buffer.from('__proto__'), 0x81, 0xa1, 0x78, 0x01])
  const value = readFrame(bytes) as Record<string, unknown>
  t.deepEqual(value, packr.unpack(bytes))
  t.is(Object.getPrototypeOf(value), Object.prototype)
  t.deepEqual(value.__proto_, { x: 1 })
})

test('the key table holds a fixed number of keys: 50,000 new keys, then the first ones, decode right', (t) => {
  const keys = Array.from({ length: 50_000 }, (_, i) => `k${i}`)
  for (let i = 0; i < keys.length; i += 100) {
    const o = Object.fromEntries(keys.slice(i, i + 100).map((k) => [k, 1]))
    t.deepEqual(readFrame(Buffer.from(encode(o))), o)
  }
  const first = Object.fromEntries(keys.slice(0, 50).map((k) => [k, 2]))
  t.deepEqual(decode(Buffer.from(encode(first))), first)
})
