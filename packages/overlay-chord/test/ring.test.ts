import { createHash } from 'node:crypto'
import test from 'ava'
import fc from 'fast-check'
import { KEY_CACHE, NODE_ID_CACHE, Ring } from '../src/index.js'

const ring = new Ring(6)

test('rejects sizes outside 1..256 bits', (t) => {
  t.throws(() => new Ring(0), { instanceOf: RangeError })
  t.throws(() => new Ring(257), { instanceOf: RangeError })
  t.throws(() => new Ring(6.5), { instanceOf: RangeError })
  t.is(new Ring(1).size, 2n)
  t.is(new Ring(160).size, 2n ** 160n)
})

test('add and distance wrap around 2^m', (t) => {
  t.is(ring.add(60n, 8n), 4n)
  t.is(ring.distance(56n, 1n), 9n)
  t.is(ring.distance(1n, 56n), 55n)
  t.is(ring.distance(8n, 8n), 0n)
  t.is(ring.fingerStart(8n, 0), 9n)
  t.is(ring.fingerStart(8n, 5), 40n)
  t.is(ring.fingerStart(56n, 4), 8n)
})

test('within, by comparisons, is the arc of its definition for every point and pair of ends of a 6-bit ring', (t) => {
  // the definition: x is strictly inside (a, b) when it is nearer a, clockwise, than b is (a != b)
  let wrong = 0
  for (let a = 0n; a < ring.size; a++)
    for (let b = 0n; b < ring.size; b++)
      for (let x = 0n; x < ring.size; x++)
        for (const bounds of ['()', '(]', '[)', '[]'] as const) {
          const expected =
            a === b
              ? bounds === '()'
                ? x !== a
                : true
              : x === a
                ? bounds[0] === '['
                : x === b
                  ? bounds[1] === ']'
                  : ring.distance(a, x) < ring.distance(a, b)
          if (ring.within(x, a, b, bounds) !== expected) wrong++
        }
  t.is(wrong, 0)
})

test('interval ends: open, half-open and closed, without wrap-around', (t) => {
  t.false(ring.within(8n, 8n, 14n, '()'))
  t.false(ring.within(14n, 8n, 14n, '()'))
  t.true(ring.within(10n, 8n, 14n, '()'))
  t.false(ring.within(8n, 8n, 14n, '(]'))
  t.true(ring.within(14n, 8n, 14n, '(]'))
  t.true(ring.within(8n, 8n, 14n, '[)'))
  t.false(ring.within(14n, 8n, 14n, '[)'))
  t.true(ring.within(8n, 8n, 14n, '[]'))
  t.true(ring.within(14n, 8n, 14n, '[]'))
  t.false(ring.within(15n, 8n, 14n, '[]'))
  t.false(ring.within(7n, 8n, 14n, '[]'))
})

test('intervals that wrap past zero', (t) => {
  // (56, 1]: 57 … 63, 0, 1
  t.true(ring.within(57n, 56n, 1n))
  t.true(ring.within(63n, 56n, 1n))
  t.true(ring.within(0n, 56n, 1n))
  t.true(ring.within(1n, 56n, 1n))
  t.false(ring.within(1n, 56n, 1n, '()'))
  t.false(ring.within(56n, 56n, 1n))
  t.false(ring.within(2n, 56n, 1n))
  t.false(ring.within(30n, 56n, 1n))
  // (51, 8) passes 0 and contains 54
  t.true(ring.within(54n, 51n, 8n, '()'))
  t.false(ring.within(9n, 51n, 8n, '()'))
})

test('an interval from a point to itself is the whole ring (open: all but the point)', (t) => {
  t.true(ring.within(8n, 8n, 8n, '(]'))
  t.true(ring.within(9n, 8n, 8n, '(]'))
  t.true(ring.within(8n, 8n, 8n, '[)'))
  t.true(ring.within(8n, 8n, 8n, '[]'))
  t.false(ring.within(8n, 8n, 8n, '()'))
  t.true(ring.within(7n, 8n, 8n, '()'))
})

test('(a, b] and (b, a] split the ring: every point is in exactly one', (t) => {
  const big = new Ring(64)
  const id = fc.bigInt({ min: 0n, max: big.size - 1n })
  fc.assert(
    fc.property(id, id, id, (x, a, b) => {
      fc.pre(a !== b)
      return big.within(x, a, b, '(]') !== big.within(x, b, a, '(]')
    }),
  )
  t.pass()
})

test('hashes are truncated SHA-256, stable, and below 2^m', (t) => {
  const r64 = new Ring(64)
  // SHA-256("abc") = ba7816bf8f01cfea 414140de…
  t.is(r64.hash('abc'), 0xba7816bf8f01cfean)
  t.is(ring.hash('abc'), 0xban >> 2n)
  t.is(new Ring(12).hash('abc'), 0xba7n)
  t.not(r64.contentKey('a'.repeat(64)), r64.keywordKey('a'.repeat(64)))
  t.true(r64.nodeId('peer') < r64.size)
})

test('a ring id is the first `bits` bits of SHA-256 at every size (the 64-bit read included); node ids are cached within NODE_ID_CACHE', (t) => {
  for (const bits of [1, 7, 8, 9, 16, 33, 63, 64, 65, 128, 160, 255, 256]) {
    const r = new Ring(bits)
    for (const text of ['', 'a', 'peer', 'keyword:harry', 'x'.repeat(100)]) {
      const full = BigInt(`0x${createHash('sha256').update(text).digest('hex')}`)
      t.is(r.hash(text), full >> BigInt(256 - bits), `${bits} bits, ${JSON.stringify(text)}`)
    }
  }
  const r = new Ring(64)
  const first = r.nodeId('peer-0')
  let changed = 0
  for (let i = 1; i < NODE_ID_CACHE * 2; i++) {
    if (r.nodeId('peer-0') !== first) changed++ // used all along: stays cached, and equal to the hash
    r.nodeId(`peer-${i}`)
  }
  t.is(changed, 0)
  t.is(r.nodeId('peer-0'), r.hash('peer-0'))
  t.is(r.nodeId('peer-5'), r.hash('peer-5'), 'an id dropped from the cache is computed again')
})

test('hex round trip, and garbage is refused', (t) => {
  const r64 = new Ring(64)
  t.is(r64.toHex(255n), '00000000000000ff')
  t.is(r64.fromHex('00000000000000ff'), 255n)
  t.is(ring.fromHex('40'), undefined) // 64 is not below 2^6
  t.is(ring.fromHex('3f'), 63n)
  t.is(ring.fromHex('xyz'), undefined)
  t.is(ring.fromHex(''), undefined)
})

test('content, keyword and n-gram keys are the hashes of their kinds, each kind cached within KEY_CACHE', (t) => {
  const r = new Ring(64)
  t.is(r.contentKey('ab'), r.hash('hash:ab'))
  t.is(r.keywordKey('ab'), r.hash('keyword:ab'))
  t.is(r.gramKey('ab'), r.hash('gram:ab'))
  t.is(r.contentKey('ab'), r.hash('hash:ab'), 'the second time from the cache')
  t.is(r.keywordKey('ab'), r.hash('keyword:ab'), 'the same text of another kind is another key')
  type Sized = { size: number }
  const caches = r as unknown as { contentKeys: Sized; keywordKeys: Sized; gramKeys: Sized }
  t.deepEqual([caches.contentKeys.size, caches.keywordKeys.size, caches.gramKeys.size], [1, 1, 1])
  const often = r.keywordKey('often')
  for (let i = 0; i < KEY_CACHE * 2; i++) {
    t.is(r.keywordKey('often'), often) // used all along: stays cached
    r.contentKey(`file-${i}`)
    r.gramKey(`g${i}`)
  }
  for (const kind of [caches.contentKeys, caches.gramKeys]) {
    t.true(kind.size <= KEY_CACHE, `${kind.size} keys held`)
    t.true(kind.size >= KEY_CACHE / 2)
  }
  t.is(caches.keywordKeys.size, 2, 'the other kinds do not push keywords out')
  t.is(r.contentKey('file-5'), r.hash('hash:file-5'), 'a key dropped from the cache is computed again')
})
