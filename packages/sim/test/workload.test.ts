import { matches, SeededRandom } from '@peerkit/core'
import test from 'ava'
import { Catalog, pseudoWord } from '../src/index.js'

test('the catalog is the same for the same seed, and different for another', (t) => {
  const a = new Catalog(new SeededRandom(1), 200, 1)
  const b = new Catalog(new SeededRandom(1), 200, 1)
  const c = new Catalog(new SeededRandom(2), 200, 1)
  t.deepEqual(a.files, b.files)
  t.notDeepEqual(a.files, c.files)
  t.is(a.files.length, 200)
  t.is(new Set(a.files.map((f) => f.hash)).size, 200)
  t.is(new Set(a.files.map((f) => f.name)).size, 200)
})

test('queries use words of their target, and matching is exact', (t) => {
  const random = new SeededRandom(9)
  const catalog = new Catalog(random, 300, 1)
  for (let i = 0; i < 200; i++) {
    const q = catalog.query(random)
    t.true(q.keywords.length >= 1)
    for (const k of q.keywords) t.true(q.target.keywords.includes(k))
    const found = catalog.matching(q.keywords)
    t.true(found.includes(q.target.rank))
    const expected = catalog.files
      .filter((f) => matches({ hash: f.hash, keywords: [...f.keywords] }, { keywords: [...q.keywords] }))
      .map((f) => f.rank)
    t.deepEqual(
      found.sort((x, y) => x - y),
      expected,
    )
  }
})

test('popular files are asked for more often', (t) => {
  const random = new SeededRandom(4)
  const catalog = new Catalog(random, 1000, 1)
  let top = 0
  let tail = 0
  for (let i = 0; i < 5000; i++) {
    const rank = catalog.query(random).target.rank
    if (rank < 10) top++
    else if (rank >= 990) tail++
  }
  t.true(top > 20 * Math.max(1, tail))
})

test('records carry the provider and the name keywords', (t) => {
  const catalog = new Catalog(new SeededRandom(1), 10, 1)
  const file = catalog.files[0]
  if (!file) return t.fail()
  const r = catalog.record(file, { id: 'x'.repeat(43), addresses: ['memory://p1'] })
  t.is(r.hash, file.hash)
  t.deepEqual(r.keywords, [...file.keywords])
  t.is(r.provider.addresses[0], 'memory://p1')
  t.regex(pseudoWord(new SeededRandom(2)), /^[a-z]{4,8}$/)
})
