import { SeededRandom, termMatches } from '@peerkit/core'
import test from 'ava'
import { BigramFilter, foldMayMatch } from '../src/bigram-filter.js'

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789'
const CJK = '東京タワー大阪城한국어'

function word(random: SeededRandom, length: number, letters = ALPHABET): string {
  let out = ''
  for (let i = 0; i < length; i++) out += letters[random.int(letters.length)]
  return out
}

test('no false negatives: every term that matches a filed word passes (prefixes, substrings, CJK, surrogates, long words)', (t) => {
  const random = new SeededRandom(5)
  const words = [
    ...Array.from({ length: 40 }, () => word(random, 3 + random.int(10))),
    ...Array.from({ length: 5 }, () => word(random, 2 + random.int(4), CJK)),
    `${'𝒜'.repeat(50)}${word(random, 20)}`,
    word(random, 300),
  ]
  const filter = new BigramFilter(words.length)
  for (const w of words) filter.add(w)
  let checked = 0
  for (const w of words) {
    const chars = [...w]
    for (let i = 0; i < 20; i++) {
      const start = random.int(Math.min(chars.length, 64))
      const end = start + 1 + random.int(Math.min(chars.length, 64) - start)
      for (const term of [chars.slice(0, end).join(''), chars.slice(start, end).join(''), w]) {
        if (!termMatches(term, w)) continue
        checked++
        t.true(filter.mayMatch(term), `${term} in ${w.slice(0, 20)}`)
        t.true(foldMayMatch(term, filter.fold0, filter.fold1), `${term} in ${w.slice(0, 20)} (the fold)`)
      }
    }
  }
  t.true(checked > 1000, `${checked} matching terms checked`)
})

test('terms that match nothing are mostly turned away; the size follows the words', (t) => {
  const random = new SeededRandom(9)
  const filter = new BigramFilter(10)
  for (let i = 0; i < 10; i++) filter.add(word(random, 7))
  let passed = 0
  for (let i = 0; i < 10_000; i++) if (filter.mayMatch(word(random, 6))) passed++
  t.true(passed < 200, `${passed} of 10,000 unrelated 6-letter terms passed`)
  // The fold (64 bits) turns away fewer, but most: what a small index reads before the filter.
  let folded = 0
  for (let i = 0; i < 10_000; i++) if (foldMayMatch(word(random, 6), filter.fold0, filter.fold1)) folded++
  t.true(folded < 3_000, `${folded} of 10,000 unrelated 6-letter terms passed the fold`)
  t.is(filter.size, 256, '10 words, room for 15: 240 bits, rounded up')
  t.is(new BigramFilter(0).size, 128)
  t.is(new BigramFilter(512).size, 16_384)
  t.is(new BigramFilter(512).capacity, 768)
})
