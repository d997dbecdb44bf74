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
