import { createHash } from 'node:crypto'
import {
  type FileRecord,
  gramSize,
  INDEX_FACTORY,
  indexes,
  keywords,
  parseQuery,
  SeededRandom,
  termMatches,
} from '@peerkit/core'
import test from 'ava'
import { container } from 'tsyringe'
import { MemoryIndex, memoryIndex } from '../src/index.js'
import { matchesWord, queryTerms } from '../src/memory-index.js'

const hashOf = (s: string) => createHash('sha256').update(s).digest('hex')
const idOf = (s: string) => createHash('sha256').update(s).digest().toString('base64url').slice(0, 43)

function record(name: string, provider: string, hash = hashOf(name)): FileRecord {
  return {
    hash,
    name,
    size: 1,
    chunkSize: 65_536,
    keywords: keywords(name),
    provider: { id: idOf(provider), addresses: [] },
  }
}

test('"harry potter" and "HARRY  potter!" match the Chamber of Secrets', async (t) => {
  const index = new MemoryIndex()
  await index.put(record('Harry.Potter.and.the.Chamber.of.Secrets.(2002).mkv', 'alice'))
  await index.put(record('Harry.Houdini.mkv', 'alice'))
  for (const input of ['harry potter', 'HARRY  potter!']) {
    const hits = await index.search(parseQuery(input))
    t.deepEqual(
      hits.map((h) => h.name),
      ['Harry.Potter.and.the.Chamber.of.Secrets.(2002).mkv'],
      input,
    )
  }
})

test('ranking: more providers first, ties in a stable order', async (t) => {
  const index = new MemoryIndex()
  await index.put(record('b potter.mkv', 'p1'))
  await index.put(record('a potter.mkv', 'p1'))
  await index.put(record('c potter.mkv', 'p1'))
  await index.put(record('c potter.mkv', 'p2'))
  t.deepEqual(
    (await index.search({ keywords: ['potter'] })).map((h) => h.name),
    ['c potter.mkv', 'a potter.mkv', 'b potter.mkv'],
  )
})

test('limit counts distinct files', async (t) => {
  const index = new MemoryIndex()
  for (let i = 0; i < 10; i++) for (const p of ['a', 'b', 'c']) await index.put(record(`song ${i}.mp3`, p))
  const hits = await index.search({ keywords: ['song'], limit: 4 })
  t.is(hits.length, 4)
  t.is(new Set(hits.map((h) => h.hash)).size, 4)
  t.true(hits.every((h) => h.providers.length === 3))
})

test('remove by provider leaves the other providers', async (t) => {
  const index = new MemoryIndex()
  await index.put(record('x.bin', 'alice'))
  await index.put(record('x.bin', 'bob'))
  await index.put(record('y.bin', 'alice'))
  t.is(await index.removeProvider(idOf('alice')), 2)
  t.is(await index.count(), 1)
  t.deepEqual(
    (await index.search({ keywords: ['x'] })).map((h) => h.providers.map((p) => p.id)),
    [[idOf('bob')]],
  )
  t.deepEqual(await index.search({ keywords: ['y'] }), [])
})

test('a search among 100,000 records follows the rarest keyword', async (t) => {
  const index = new MemoryIndex()
  for (let i = 0; i < 100_000; i++)
    await index.put(record(`common movie ${i % 1000} part${i}z.mkv`, `p${i % 500}`))
  t.is(await index.count(), 100_000)
  const start = process.hrtime.bigint()
  let found = 0
  for (let i = 0; i < 1000; i++)
    found += (await index.search({ keywords: ['common', 'movie', `part${i * 7}z`] })).length
  const ms = Number(process.hrtime.bigint() - start) / 1e6
  t.is(found, 1000)
  // Intersecting 100k-long lists a thousand times would take seconds; smallest-first takes milliseconds.
  t.true(ms < 2000, `1000 searches took ${ms.toFixed(0)} ms`)
})

test('registers as "memory": INDEX_FACTORY makes new, independent indexes', async (t) => {
  t.true(indexes.has('memory'))
  const c = container.createChildContainer()
  indexes.get('memory')(undefined)(c)
  const make = c.resolve(INDEX_FACTORY)
  const a = make('shares')
  const b = make()
  t.true(a instanceof MemoryIndex)
  await a.put(record('x.bin', 'alice'))
  t.is(await a.count(), 1)
  t.is(await b.count(), 0)
})

test('options: unknown fields are rejected with InvalidOptionsError', (t) => {
  t.notThrows(() => memoryIndex({}))
  t.throws(() => memoryIndex({ persist: true }), { name: 'InvalidOptionsError', message: /persist/ })
  t.throws(() => memoryIndex(3), { name: 'InvalidOptionsError' })
})

/** The hashes of `records` with a keyword `term` matches (core's termMatches), sorted. */
function matching(records: Iterable<FileRecord>, term: string): string[] {
  const out = new Set<string>()
  for (const r of records) if (keywords(r.name).some((k) => termMatches(term, k))) out.add(r.hash)
  return [...out].sort()
}

/** Removes a random one of `live` from `index` (with probability `removing`), or puts `make()` there. */
async function churn(
  index: MemoryIndex,
  live: Map<string, FileRecord>,
  random: SeededRandom,
  removing: number,
  make: () => FileRecord,
): Promise<void> {
  if (live.size > 0 && random.next() < removing) {
    const key = [...live.keys()][random.int(live.size)] as string
    const r = live.get(key) as FileRecord
    await index.remove(r.hash, r.provider.id)
    live.delete(key)
    return
  }
  const r = make()
  await index.put(r)
  live.set(`${r.hash} ${r.provider.id}`, r)
}

test("the scan's word test is core's termMatches (prefixes, substrings, CJK, surrogates, words past 64 characters)", (t) => {
  const long = `${'x'.repeat(70)}potter`
  const astral = `${'𝒜'.repeat(40)}abc`
  const words = [
    'potter',
    'harrypotter',
    'pot',
    'po',
    'a',
    '東京タワー',
    'タワ',
    long,
    astral,
    'abc',
    `${'y'.repeat(62)}abc`,
  ]
  const terms = [
    'pot',
    'po',
    'p',
    'otte',
    'tt',
    'タワ',
    'タ',
    '京',
    'potter',
    'xxx',
    'abc',
    '𝒜𝒜',
    '𝒜',
    'harrypotterx',
  ]
  for (const term of terms) {
    const substring = [...term].length >= gramSize(term)
    for (const word of words)
      t.is(matchesWord(term, substring, word), termMatches(term, word), `${term} in ${word.slice(0, 12)}…`)
  }
})

test('a term that matches one, several or no words of a small index', async (t) => {
  const index = new MemoryIndex()
  await index.put(record('potter.mkv', 'alice'))
  await index.put(record('pottery.mkv', 'alice'))
  await index.put(record('lottery.mkv', 'bob'))
  const names = async (term: string) => (await index.search({ keywords: [term] })).map((h) => h.name).sort()
  t.deepEqual(await names('pottery'), ['pottery.mkv'])
  t.deepEqual(await names('potte'), ['potter.mkv', 'pottery.mkv'])
  t.deepEqual(await names('ott'), ['lottery.mkv', 'potter.mkv', 'pottery.mkv'])
  t.deepEqual(await names('ot'), [])
  t.deepEqual(await names('zebra'), [])
})

test('searches of a small index agree with termMatches over its records as they come and go (the bigram filter never hides a match, the array of terms a scan reads is never stale)', async (t) => {
  const random = new SeededRandom(3)
  const syllables = ['po', 'tter', 'har', 'ry', 'lo', 'tt', 'ery', 'ma', 'trix', 'タワ', '東京', 'ab', 'c']
  const name = () =>
    Array.from({ length: 1 + random.int(3) }, () =>
      Array.from({ length: 1 + random.int(3) }, () => syllables[random.int(syllables.length)]).join(''),
    ).join('.')
  const index = new MemoryIndex()
  const live = new Map<string, FileRecord>()
  const terms = [
    'pot',
    'po',
    'tter',
    'otte',
    'ry',
    'ery',
    'tri',
    'タワ',
    'ワ',
    'abc',
    'zz',
    'c',
    'harr',
    'lottery',
  ]
  for (let round = 0; round < 300; round++) {
    await churn(index, live, random, 0.4, () => record(`${name()}.mkv`, `p${random.int(3)}`))
    const term = terms[round % terms.length] as string
    const expected = matching(live.values(), term)
    const hits = await index.search({ keywords: [term] })
    t.deepEqual(hits.map((h) => h.hash).sort(), expected, `${term} after round ${round}`)
  }
})

test('searches agree with a scan of the records as they are shared by one provider, a few (an array) or more than 8 (a Map), removed and removed by provider (postings of one hash, one record or several, and of several hashes)', async (t) => {
  const random = new SeededRandom(7)
  const words = ['potter', 'harry', 'lottery', 'matrix', 'tower', 'tokyo', 'ab', 'abc']
  const names = Array.from({ length: 5 }, (_, i) =>
    [words[random.int(words.length)], words[random.int(words.length)], `n${i}`].join('.'),
  )
  const index = new MemoryIndex()
  const live = new Map<string, FileRecord>()
  const queries = [
    ['pot'],
    ['harry', 'pot'],
    ['ab', 'tow'],
    ['lottery', 'ab', 'matrix'],
    ['n1'],
    ['tt', 'ry'],
  ]
  let most = 0
  for (let round = 0; round < 400; round++) {
    const roll = random.next()
    if (live.size > 0 && roll < 0.2) {
      const r = [...live.values()][random.int(live.size)] as FileRecord
      t.is(await index.remove(r.hash, r.provider.id), 1)
      live.delete(`${r.hash} ${r.provider.id}`)
    } else if (live.size > 0 && roll < 0.25) {
      const provider = ([...live.values()][random.int(live.size)] as FileRecord).provider.id
      const mine = [...live.values()].filter((r) => r.provider.id === provider)
      t.is(await index.removeProvider(provider), mine.length)
      for (const r of mine) live.delete(`${r.hash} ${r.provider.id}`)
    } else {
      const r = record(names[random.int(names.length)] as string, `p${random.int(12)}`)
      await index.put(r)
      live.set(`${r.hash} ${r.provider.id}`, r)
    }
    t.is(await index.count(), live.size)
    most = Math.max(most, ...names.map((n) => [...live.values()].filter((r) => r.name === n).length))
    const q = queries[round % queries.length] as string[]
    const expected = new Map<string, number>()
    for (const r of live.values())
      if (q.every((w) => r.keywords.some((k) => termMatches(w, k))))
        expected.set(r.hash, (expected.get(r.hash) ?? 0) + 1)
    const hits = await index.search({ keywords: q })
    t.deepEqual(
      hits.map((h) => `${h.hash} ${h.providers.length}`).sort(),
      [...expected].map(([hash, n]) => `${hash} ${n}`).sort(),
      `${q.join(' ')} after round ${round}`,
    )
  }
  t.true(most > 8, `some file had more than 8 providers at once (${most})`)
})

test('queryTerms gives what keywords(words.join(" ")) gives, and the array itself when it is already that', (t) => {
  const cases = [
    ['harry', 'potter'],
    ['harry', 'harry'],
    ['Harry', 'potter'],
    ['harry potter'],
    ['', 'potter'],
    ['2002', 'mkv'],
    ['café'],
    ['東京', 'タワー'],
    ['a-b'],
    [],
  ]
  for (const words of cases) {
    const terms = queryTerms(words)
    t.deepEqual([...terms], keywords(words.join(' ')), words.join('|'))
    if (words.every((w) => /^[a-z0-9]+$/.test(w)) && new Set(words).size === words.length)
      t.is(terms, words, `${words.join('|')} is used as it is`)
  }
})

test("a small index's scan of one string of its terms finds what core's termMatches finds (prefixes, substrings, CJK, surrogates; a term past 64 characters sends the scan back to testing each term)", async (t) => {
  const random = new SeededRandom(7)
  const parts = ['ba', 'ko', 'ri', 'tu', 'me', 'ab', 'タワ', '東', '𝒜', 'z']
  const word = (n: number) => Array.from({ length: n }, () => parts[random.int(parts.length)]).join('')
  const index = new MemoryIndex()
  const live = new Map<string, FileRecord>()
  const long = record(`${'q'.repeat(66)}bako.mkv`, 'carol')
  for (let round = 0; round < 400; round++) {
    if (round === 150) await index.put(long)
    if (round === 250) await index.remove(long.hash, long.provider.id)
    await churn(index, live, random, 0.3, () =>
      record(`${word(1 + random.int(4))} ${word(1 + random.int(3))}.mkv`, `p${random.int(4)}`),
    )
    // A term cut from a word of the index (any length, from anywhere), or made up.
    const source = keywords([...live.values()][random.int(live.size)]?.name ?? 'x')[0] ?? 'x'
    const from = random.int(source.length)
    const cut = [...source.slice(from, from + 1 + random.int(6))].join('')
    const term = keywords(random.next() < 0.8 ? cut : word(1 + random.int(2)))[0]
    if (term === undefined) continue
    const all = round >= 150 && round < 250 ? [...live.values(), long] : [...live.values()]
    const expected = matching(all, term)
    const hits = await index.search({ keywords: [term] })
    t.deepEqual(hits.map((h) => h.hash).sort(), expected, `${term} after round ${round}`)
  }
})
