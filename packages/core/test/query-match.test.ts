import test from 'ava'
import {
  gramSize,
  indexGrams,
  keywords,
  matches,
  ngrams,
  parseQuery,
  queryGrams,
  recordGrams,
  termMatches,
  Vocabulary,
} from '../src/index.js'

test('a term matches a keyword as a prefix, or as a substring of at least 3 characters', (t) => {
  t.true(termMatches('movi', 'movie'))
  t.true(termMatches('m', 'movie'))
  t.true(termMatches('mo', 'movie'))
  t.true(termMatches('movie', 'movie'))
  t.true(termMatches('ovi', 'movie'))
  t.false(termMatches('ov', 'movie'), 'a 2-letter substring is too broad')
  t.false(termMatches('movies', 'movie'))
  t.false(termMatches('', 'movie'))
})

test('CJK names, not split by spaces, are found by a part of 2 characters or more', (t) => {
  const [kw] = keywords('千と千尋の神隠し.mkv') as [string]
  t.is(kw, '千と千尋の神隠し')
  t.is(gramSize('神隠'), 2)
  t.true(termMatches('神隠', kw))
  t.true(termMatches('千尋', kw))
  t.true(termMatches('千', kw), 'a one-character prefix')
  t.false(termMatches('尋', kw), 'one character inside the word is not enough')
  const rec = { hash: 'h', keywords: keywords('千と千尋の神隠し.mkv') }
  t.true(matches(rec, parseQuery('神隠し')))
  t.true(matches(rec, parseQuery('千尋 mkv')))
  t.false(matches(rec, parseQuery('ハウル')))
})

test('a query matches a record when every term matches one of its keywords', (t) => {
  const rec = { hash: 'h', keywords: keywords('Harry.Potter.and.the.Chamber.of.Secrets.(2002).mkv') }
  t.true(matches(rec, parseQuery('harr pott')))
  t.true(matches(rec, parseQuery('otte ecret')))
  t.true(matches(rec, parseQuery('200')))
  t.false(matches(rec, parseQuery('harr stone')))
})

test('every keyword a term matches as a substring carries all the grams of the term', (t) => {
  const words = ['movie', 'remove', '千と千尋の神隠し', 'ファイル2024', 'harry']
  const terms = ['mov', 'ovi', 'emo', '神隠', '千と千', 'イル2', '202', 'arr', 'zzz']
  for (const w of words) {
    const grams = new Set(indexGrams(w))
    for (const term of terms) {
      if (termMatches(term, w)) {
        for (const g of queryGrams(term)) t.true(grams.has(g), `${term} → ${w}: ${g}`)
      }
    }
  }
  t.deepEqual(queryGrams('mo'), [], 'a short term is a prefix only')
  t.deepEqual(ngrams('aaaa', 3), ['aaa'])
})

test('recordGrams takes every word’s beginning first and stops at the cap', (t) => {
  const kws = keywords('Harry.Potter.mkv')
  t.deepEqual(recordGrams(kws, 3), ['har', 'pot', 'mkv'])
  t.deepEqual(recordGrams(kws, 5), ['har', 'pot', 'mkv', 'arr', 'ott'])
  const all = recordGrams(kws, 100)
  t.is(all.length, 3 + 4 + 1)
})

test('a vocabulary answers the same words by scanning and by its gram map', (t) => {
  const small = new Vocabulary()
  const big = new Vocabulary()
  const words = ['movie', 'remove', 'move', '千と千尋の神隠し']
  for (let i = 0; i < 600; i++) big.add(`filler${i}x`)
  for (const w of words) {
    small.add(w)
    big.add(w)
  }
  for (const term of ['mov', 'ov', 'emo', 'move', '神隠', '千', 'nothing']) {
    t.deepEqual(big.matching(term).sort(), small.matching(term).sort(), term)
  }
  t.deepEqual(big.matching('mov').sort(), ['move', 'movie', 'remove'])
  t.deepEqual(big.matching('ovi'), ['movie'])
  big.delete('movie')
  t.deepEqual(big.matching('ovi'), [])
  t.is(big.matching('filler59').length, 11, 'filler59x and filler590x … filler599x')
})

test('a long word is filed by the n-grams of its first 64 characters: prefixes always found, substrings within them', (t) => {
  const word = `${'abcdefgh'.repeat(8)}${'xyz'.repeat(40)}` // 64 + 120 characters
  t.true(indexGrams(word).length <= 62, `${indexGrams(word).length} grams`)
  const v = new Vocabulary()
  for (let i = 0; i < 600; i++) v.add(`filler${i}x`)
  v.add(word)
  t.deepEqual(v.matching(word), [word], 'the whole word')
  t.deepEqual(v.matching(word.slice(0, 100)), [word], 'a prefix longer than 64')
  t.deepEqual(v.matching('cdefgh'), [word], 'a substring within the first 64')
  t.deepEqual(v.matching('xyzxyz'), [], 'a substring past them is not found')
  t.false(termMatches('xyzxyz', word), 'the definition says the same')
  t.true(termMatches(word.slice(0, 100), word))
})

test('a term of astral characters (surrogate pairs) is measured in characters, not UTF-16 units', (t) => {
  // Two emoji are 4 UTF-16 units but 2 characters: too short for a substring outside CJK, as [...term] counts.
  t.false(termMatches('😀😁', 'x😀😁y'))
  t.true(termMatches('😀😁', '😀😁y'), 'a prefix of any length')
  t.true(termMatches('😀😁😂', 'x😀😁😂y'), 'three characters')
  // Two CJK Extension B characters (astral): 2 characters, a CJK term's substring length.
  t.true(termMatches('𠀀𠀁', 'x𠀀𠀁'))
  t.false(termMatches('𠀀', 'x𠀀'))
  // A lone surrogate counts as one character, as [...term] counts it.
  t.true(termMatches('a\uD800b', 'xa\uD800b'))
})
