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

test('keywords of ASCII text (a fast path of their own) are those of the Unicode rules, for every ASCII character', (t) => {
  // The rules as written for every script: NFKD, marks stripped, lower case, split on non-letters and non-digits.
  const byRule = (text: string) => {
    const folded = text
      .normalize('NFKD')
      .replace(/\p{M}+/gu, '')
      .toLowerCase()
    return [...new Set(folded.split(/[^\p{L}\p{N}]+/u).filter((w) => w !== ''))]
  }
  const every = Array.from({ length: 128 }, (_, c) => String.fromCharCode(c)).join('')
  t.deepEqual(keywords(every), byRule(every))
  t.deepEqual(
    keywords(every),
    ['0123456789', 'abcdefghijklmnopqrstuvwxyz', 'abcdefghijklmnopqrstuvwxyz'].slice(0, 2),
  )
  let seed = 7
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return seed
  }
  for (let i = 0; i < 2000; i++) {
    const text = Array.from({ length: next() % 40 }, () => String.fromCharCode(next() % 128)).join('')
    t.deepEqual(keywords(text), byRule(text), JSON.stringify(text))
  }
  t.deepEqual(keywords('Harry.Potter.harry'), ['harry', 'potter'], 'a word once')
})
