import test from 'ava'
import { type FileRecord, Identity, keywords, matches, parseQuery, toHits } from '../src/index.js'

test('keywords are case-folded, accent-free and split on non-letters', (t) => {
  t.deepEqual(keywords('Harry.Potter.and.the.Chamber.of.Secrets.(2002).mkv'), [
    'harry',
    'potter',
    'and',
    'the',
    'chamber',
    'of',
    'secrets',
    '2002',
    'mkv',
  ])
  t.deepEqual(keywords('HARRY  potter!'), ['harry', 'potter'])
  t.deepEqual(keywords('Amélie_Poulain-Café'), ['amelie', 'poulain', 'cafe'])
  t.deepEqual(keywords('  ...  '), [])
})

test('a query of 64 hex digits is a content hash, anything else keywords', (t) => {
  const hash = 'ab'.repeat(32)
  t.deepEqual(parseQuery(hash), { hash })
  t.deepEqual(parseQuery('Harry Potter', 5), { keywords: ['harry', 'potter'], limit: 5 })
})

test('a record matches when every keyword is among its own, or its hash is asked for', (t) => {
  const rec = { hash: 'cd'.repeat(32), keywords: keywords('Harry.Potter.and.the.Chamber.mkv') }
  t.true(matches(rec, parseQuery('harry potter')))
  t.true(matches(rec, parseQuery('HARRY  potter!')))
  t.false(matches(rec, parseQuery('harry stone')))
  t.true(matches(rec, { hash: rec.hash }))
  t.false(matches(rec, { keywords: [] }))
})

test('records fold into one hit per hash with every provider once', (t) => {
  const a = { id: Identity.generate().peerId, addresses: ['memory://a'] }
  const b = { id: Identity.generate().peerId, addresses: ['memory://b'] }
  const rec = (provider: typeof a, hash: string): FileRecord => ({
    hash,
    name: 'f.bin',
    size: 10,
    chunkSize: 65536,
    keywords: ['f', 'bin'],
    provider,
  })
  const hits = toHits([
    rec(a, '11'.repeat(32)),
    rec(b, '11'.repeat(32)),
    rec(a, '11'.repeat(32)),
    rec(b, '22'.repeat(32)),
  ])
  t.is(hits.length, 2)
  t.deepEqual(
    hits[0]?.providers.map((p) => p.id),
    [a.id, b.id],
  )
})
