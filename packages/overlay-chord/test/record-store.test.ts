import { createHash } from 'node:crypto'
import { type FileRecord, keywords, type PeerRef } from '@peerkit/core'
import { MemoryIndex } from '@peerkit/index-memory'
import test from 'ava'
import { RecordStore } from '../src/index.js'

const peer = (c: string): PeerRef => ({ id: c.repeat(43), addresses: [`memory://${c}`] })
const record = (name: string, provider: PeerRef): FileRecord => ({
  hash: createHash('sha256').update(name).digest('hex'),
  name,
  size: 1,
  chunkSize: 1024,
  keywords: keywords(name),
  provider,
})

test('records expire at their time; a refresh extends but never shortens', (t) => {
  const store = new RecordStore(new MemoryIndex())
  const a = record('a.txt', peer('a'))
  const b = record('b.txt', peer('b'))
  store.put(a, 100)
  store.put(b, 200)
  store.put(a, 50) // a shorter replica copy does not cut its life
  t.is(store.remaining(a, 0), 100)
  t.is(store.expire(99), 0)
  t.is(store.expire(100), 1)
  t.deepEqual(store.get(a.hash), [])
  t.is(store.size, 1)
  store.put(b, 300)
  t.is(store.expire(250), 0)
  t.is(store.remaining(b, 250), 50)
  t.is(store.remaining(a, 250), 0)
})

test('remove by provider, search, clear', (t) => {
  const store = new RecordStore(new MemoryIndex())
  const a = record('harry.potter.mkv', peer('a'))
  const b = { ...a, provider: peer('b') }
  store.put(a, 1000)
  store.put(b, 1000)
  t.is(store.search({ keywords: ['potter'] })[0]?.providers.length, 2)
  t.is(store.remove(a.hash, peer('a').id), 1)
  t.deepEqual(
    store.get(a.hash).map((r) => r.provider.id),
    [peer('b').id],
  )
  t.is(store.expire(1000), 1) // b's expiry is still tracked, a's is gone with it
  store.put(a, 10)
  store.clear()
  t.is(store.size, 0)
  t.is(store.expire(1e9), 0)
})
