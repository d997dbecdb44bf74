import '@peerkit/transport-memory'
import '@peerkit/index-memory'
import { collect, recordGrams } from '@peerkit/core'
import test from 'ava'
import { clockOf, FAST, ownerOf, recordFor, ringIsCorrect, SETTLE, startRing, until } from './helpers/ring.js'

const MOVIE = 'Movie.Night.2024.mkv'
const SPIRITED = '千と千尋の神隠し.mkv'

test('a prefix, a substring or a part of a CJK name routes to an n-gram key and finds the file', async (t) => {
  const nodes = await startRing(t, 16, { chord: { ...FAST, replication: 1 }, virtual: true })
  const clock = clockOf(nodes)
  await until(() => ringIsCorrect(nodes), SETTLE, 'the ring to stabilise', clock)
  const [alice, , carol] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]]
  const movie = recordFor(alice.network.self(), MOVIE)
  const spirited = recordFor(alice.network.self(), SPIRITED)
  await alice.overlay.publish([movie, spirited])
  const names = async (terms: string[]) =>
    (await clock?.settle(collect(carol.overlay.search({ keywords: terms }))))?.map((h) => h.name).sort()
  t.deepEqual(await names(['movi']), [MOVIE], 'a prefix')
  t.deepEqual(await names(['ight']), [MOVIE], 'a substring')
  t.deepEqual(await names(['神隠']), [SPIRITED], 'two characters inside a Japanese name')
  t.deepEqual(await names(['千尋', 'mkv']), [SPIRITED])
  t.deepEqual(await names(['movi', 'zzz']), [])
  // The record sits at the successor of its gram keys: 'mov' (the query 'movi' asks there) and '神隠'.
  const ring = alice.overlay.ring
  for (const gram of ['mov', 'igh', '神隠']) {
    t.true((ownerOf(nodes, ring.gramKey(gram)).overlay.stats().records as number) > 0, gram)
  }
  // Its keys: the hash, 4 words and every gram (9 < maxGramKeys 24).
  t.is(alice.overlay.keysOf(movie).length, 1 + 4 + 9)
  t.is(recordGrams(movie.keywords, 24).length, 9)
})

test('maxGramKeys caps the keys a record is stored under; a word whose gram was left out is still found whole', async (t) => {
  const nodes = await startRing(t, 12, { chord: { ...FAST, replication: 1, maxGramKeys: 2 }, virtual: true })
  const clock = clockOf(nodes)
  await until(() => ringIsCorrect(nodes), SETTLE, 'the ring to stabilise', clock)
  const [alice, bob] = nodes as [(typeof nodes)[0], (typeof nodes)[0]]
  const movie = recordFor(alice.network.self(), MOVIE)
  t.is(alice.overlay.keysOf(movie).length, 1 + 4 + 2, 'hash, 4 words, the first grams of the first two words')
  await alice.overlay.publish([movie])
  const names = async (terms: string[]) =>
    (await clock?.settle(collect(bob.overlay.search({ keywords: terms }))))?.map((h) => h.name)
  t.deepEqual(await names(['movi']), [MOVIE], "'mov' was published")
  t.deepEqual(await names(['2024']), [MOVIE], "'202' was not: the search falls back to the word's key")
})
