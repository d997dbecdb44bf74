import { createHash } from 'node:crypto'
import { keywords, type PeerRef, type SignedFileRecord } from '@peerkit/core'
import { TestClock } from '@peerkit/core/testing'
import { MemoryIndex } from '@peerkit/index-memory'
import test from 'ava'
import { RecordStore, recordBytes } from '../src/index.js'

/** The index reads the same (virtual) time as the store is given: records put to expire at 1000 lapse at 1000, not in 1970. */
const memoryIndex = () => new MemoryIndex({ clock: new TestClock() })
const peer = (c: string): PeerRef => ({ id: c.repeat(43), addresses: [`memory://${c}`] })
/** The store checks no signature (the request handler does): a placeholder one, signed to expire at `expires`. */
const record = (name: string, provider: PeerRef, expires = 1e12): SignedFileRecord => ({
  hash: createHash('sha256').update(name).digest('hex'),
  name,
  size: 1,
  chunkSize: 1024,
  keywords: keywords(name),
  provider,
  expires,
  signature: 's'.repeat(86),
})

test('records expire at their time; a refresh extends but never shortens', async (t) => {
  const store = new RecordStore(memoryIndex())
  const a = record('a.txt', peer('a'))
  const b = record('b.txt', peer('b'))
  store.put(a, 100)
  store.put(b, 200)
  store.put(a, 50) // a shorter replica copy does not cut its life
  t.is(store.remaining(a, 0), 100)
  t.is(store.expire(99), 0)
  t.is(store.expire(100), 1)
  t.deepEqual(await store.get(a.hash), [])
  t.is(store.size, 1)
  store.put(b, 300)
  t.is(store.expire(250), 0)
  t.is(store.remaining(b, 250), 50)
  t.is(store.remaining(a, 250), 0)
})

test('a record never outlives its signed expiry, and an older signature does not replace a newer one', async (t) => {
  const store = new RecordStore(memoryIndex())
  const a = record('a.txt', peer('a'), 500)
  store.put(a, 10_000)
  t.is(store.remaining(a, 0), 500)
  const older = { ...record('a.txt', peer('a'), 400), name: 'a.txt', size: 99 }
  store.put(older, 10_000)
  t.is((await store.get(a.hash))[0]?.size, 1)
  t.is(store.signed(a)?.expires, 500)
})

test('remove by provider, matching, clear', async (t) => {
  const store = new RecordStore(memoryIndex())
  const a = record('harry.potter.mkv', peer('a'))
  const b = { ...a, provider: peer('b') }
  store.put(a, 1000)
  store.put(b, 1000)
  t.is((await store.matching({ keywords: ['potter'] })).length, 2)
  t.is(store.remove(a.hash, peer('a').id), 1)
  t.deepEqual(
    (await store.get(a.hash)).map((r) => r.provider.id),
    [peer('b').id],
  )
  t.deepEqual(store.usageOf(peer('a').id), { records: 0, bytes: 0 })
  t.is(store.expire(1000), 1) // b's expiry is still tracked, a's is gone with it
  store.put(a, 10)
  store.clear()
  t.is(store.size, 0)
  t.is(store.heldBytes, 0)
  t.is(store.expire(1e9), 0)
})

test('quotas: per provider in records and bytes; past the budget the largest provider makes room', async (t) => {
  const one = recordBytes(record('file-0.bin', peer('a')))
  const store = new RecordStore(memoryIndex(), {
    maxRecordsPerProvider: 5,
    maxBytesPerProvider: 100 * one,
    maxStoredRecords: 8,
    maxStoredBytes: 100 * one,
  })
  const results = Array.from({ length: 7 }, (_, i) => store.put(record(`file-${i}.bin`, peer('a')), 1000))
  t.deepEqual(results.slice(5), ['provider-quota', 'provider-quota'])
  t.is(store.usageOf(peer('a').id).records, 5)
  // a refresh of a held record is not a new one
  t.is(store.put(record('file-0.bin', peer('a')), 2000), 'stored')
  for (let i = 0; i < 3; i++) t.is(store.put(record(`other-${i}.bin`, peer('b')), 1000), 'stored')
  t.is(store.size, 8)
  // full: b (3 records) takes room from a (5), until b would be the largest
  t.is(store.put(record('other-3.bin', peer('b')), 1000), 'stored')
  t.is(store.usageOf(peer('a').id).records, 4)
  t.is(store.put(record('other-4.bin', peer('b')), 1000), 'full')
  t.is(store.size, 8)
  // bytes count too
  const small = new RecordStore(memoryIndex(), {
    maxRecordsPerProvider: 100,
    maxBytesPerProvider: 2 * one + 10,
    maxStoredRecords: 100,
    maxStoredBytes: 100 * one,
  })
  t.is(small.put(record('file-0.bin', peer('a')), 1), 'stored')
  t.is(small.put(record('file-1.bin', peer('a')), 1), 'stored')
  t.is(small.put(record('file-2.bin', peer('a')), 1), 'provider-quota')
  t.is(small.heldBytes, 2 * one)
})

test('an answer lets providers take turns, each at most perProvider times, within max', async (t) => {
  const store = new RecordStore(memoryIndex())
  for (let i = 0; i < 50; i++) store.put(record(`ubuntu desktop junk ${i}`, peer('j')), 1000)
  store.put(record('ubuntu desktop 24.04.iso', peer('h')), 1000)
  const answer = store.answer(await store.matching({ keywords: ['ubuntu', 'desktop'] }), 0, {
    perProvider: 4,
    max: 100,
    maxBytes: 1e9,
  })
  t.is(answer.length, 5)
  t.is(answer[0]?.provider.id, peer('h').id, 'the provider with fewer records goes first')
  t.is(answer.filter((r) => r.provider.id === peer('j').id).length, 4)
  t.true(answer.every((r) => r.signature.length === 86))
  t.is(
    store.answer(await store.matching({ keywords: ['ubuntu'] }), 0, { perProvider: 4, max: 2, maxBytes: 1e9 })
      .length,
    2,
  )
  t.is(
    store.answer(await store.matching({ keywords: ['ubuntu'] }), 1000, {
      perProvider: 4,
      max: 9,
      maxBytes: 1e9,
    }).length,
    0,
  )
})

/** A MemoryIndex that counts its writes. */
function countingIndex(): { index: MemoryIndex; puts: () => number } {
  const index = memoryIndex()
  let puts = 0
  const put = index.put.bind(index)
  index.put = (...args) => {
    puts++
    return put(...args)
  }
  return { index, puts: () => puts }
}

test('a record is held as one object, shared with the Index; the same signed copy again only extends its life', async (t) => {
  const { index, puts } = countingIndex()
  const store = new RecordStore(index)
  const a = record('harry.potter.mkv', peer('a'), 5000)
  t.is(store.put(a, 100), 'stored')
  t.is(store.put({ ...a, keywords: [...a.keywords] }, 100), 'stored') // another of its keys, decoded again
  t.is(puts(), 1, 'the same copy is not written again')
  t.is(store.put({ ...a }, 300), 'stored')
  t.is(puts(), 1, 'nor a longer life: a memory Index holds the same object, and the store expires it')
  t.is(store.remaining(a, 0), 300)
  t.is(index.expiryOf(a), undefined, 'a memory Index keeps no expiry of its own')
  const [held] = store.records()
  t.is((await index.get(a.hash))[0], held, 'the Index keeps the object the store holds')
  t.is((await store.matching({ keywords: ['potter'] }))[0], held)
  t.deepEqual(store.signed(a), a, 'handed over as it was signed, without the local expiry')
  t.is(store.size, 1)
  t.is(store.heldBytes, recordBytes(a))
})

test('a copy signed later updates the record in place and keeps its place in its provider’s eviction order', async (t) => {
  const store = new RecordStore(memoryIndex(), {
    maxRecordsPerProvider: 10,
    maxBytesPerProvider: 1e6,
    maxStoredRecords: 4,
    maxStoredBytes: 1e6,
  })
  const first = record('file-0.bin', peer('a'), 1000)
  store.put(first, 1000)
  store.put(record('file-1.bin', peer('a')), 1000)
  store.put(record('file-2.bin', peer('a')), 1000)
  const before = store.records()[0]
  const later = { ...record('file-0.bin', peer('a'), 2000), signature: 't'.repeat(86), size: 7 }
  t.is(store.put(later, 2000), 'stored')
  t.is(store.records()[0], before, 'the same object')
  t.deepEqual(store.signed(first), later)
  t.is(store.remaining(first, 0), 2000)
  t.is(store.heldBytes, 3 * recordBytes(first))
  // full: b's second record takes room from a, whose oldest is still file-0
  store.put(record('other-0.bin', peer('b')), 1000)
  t.is(store.put(record('other-1.bin', peer('b')), 1000), 'stored')
  t.deepEqual(
    store
      .records()
      .map((r) => r.name)
      .sort(),
    ['file-1.bin', 'file-2.bin', 'other-0.bin', 'other-1.bin'],
  )
  t.deepEqual(store.usageOf(peer('a').id), { records: 2, bytes: 2 * recordBytes(first) })
})

test('a copy signed later under another name replaces the record', async (t) => {
  const store = new RecordStore(memoryIndex())
  const a = record('old.name.mkv', peer('a'), 1000)
  store.put(a, 1000)
  const renamed = { ...record('new.name.mkv', peer('a'), 2000), hash: a.hash }
  store.put(renamed, 2000)
  t.is(store.size, 1)
  t.deepEqual(
    (await store.get(a.hash)).map((r) => r.name),
    ['new.name.mkv'],
  )
  t.deepEqual(await store.matching({ keywords: ['old'] }), [])
  t.is((await store.matching({ keywords: ['new'] })).length, 1)
  t.is(store.heldBytes, recordBytes(renamed))
})

test('several providers of one hash: each held, removed one by one or all at once', async (t) => {
  const store = new RecordStore(memoryIndex())
  const a = record('shared.iso', peer('a'))
  const copies = ['a', 'b', 'c'].map((c) => ({ ...a, provider: peer(c) }))
  for (const r of copies) store.put(r, 1000)
  t.is(store.size, 3)
  t.is((await store.get(a.hash)).length, 3)
  t.is(store.remove(a.hash, peer('b').id), 1)
  t.is(store.remove(a.hash, peer('b').id), 0)
  t.deepEqual(
    (await store.get(a.hash)).map((r) => r.provider.id),
    [peer('a').id, peer('c').id],
  )
  t.is(store.remaining(copies[2] as SignedFileRecord, 0), 1000)
  t.is(store.remove(a.hash), 2)
  t.is(store.size, 0)
  t.is(store.heldBytes, 0)
  t.deepEqual(store.usageOf(peer('a').id), { records: 0, bytes: 0 })
})

test('a persistent Index is given each record’s local expiry, and every change of it', async (t) => {
  const { index, puts } = countingIndex()
  Object.defineProperty(index, 'durable', { value: true })
  const store = new RecordStore(index)
  const a = record('harry.potter.mkv', peer('a'), 5000)
  store.put(a, 100)
  t.is(index.expiryOf(a), 100)
  store.put({ ...a }, 100)
  t.is(puts(), 1)
  store.put({ ...a }, 300)
  t.is(puts(), 2)
  t.is(index.expiryOf(a), 300)
  store.put({ ...record('harry.potter.mkv', peer('a'), 4000) }, 9000) // signed earlier: extends to its own expiry at most
  t.is(index.expiryOf(a), 5000)
})

test('a record is held with copies of its strings, character for character (emoji and CJK too)', async (t) => {
  const store = new RecordStore(memoryIndex())
  const name = '😀 千と千尋の神隠し spirited.away.2001.mkv'
  const sliced = (s: string) => ` ${s}`.slice(1) // as a decoded message's strings are
  const a = record(name, { id: sliced('e'.repeat(43)), addresses: [sliced('memory://a-long-address')] })
  store.put({ ...a, name: sliced(name), hash: sliced(a.hash), signature: sliced(a.signature) }, 1000)
  t.deepEqual(store.signed(a), a)
  t.deepEqual(
    (await store.matching({ keywords: ['千尋'] })).map((r) => r.name),
    [name],
  )
})
