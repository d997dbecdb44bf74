import { createHash } from 'node:crypto'
import { type FileRecord, INDEX_FACTORY, indexes, keywords, parseQuery } from '@peerkit/core'
import test from 'ava'
import { container } from 'tsyringe'
import { MemoryIndex, memoryIndex } from '../src/index.js'

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
