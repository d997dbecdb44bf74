import { createHash } from 'node:crypto'
import { type FileRecord, Identity, keywords, type PeerId } from '@peerkit/core'
import { MemoryIndex } from '@peerkit/index-memory'
import test from 'ava'
import { MAX_NAMES_PER_RANGE, RangeFoldedIndex } from '../src/range-folded-index.js'

const hash = createHash('sha256').update('x').digest('hex')
const ids = Array.from({ length: 3 }, () => Identity.generate().peerId)
const rec = (id: PeerId, name = 'shared file.iso'): FileRecord => ({
  hash,
  name,
  size: 1,
  chunkSize: 65_536,
  keywords: keywords(name),
  provider: { id, addresses: [] },
})

test('one index record per range; hits list every provider; the next of a range takes a removed first one’s place', async (t) => {
  const inner = new MemoryIndex()
  const idx = new RangeFoldedIndex(inner)
  const [a, b, c] = ids as [PeerId, PeerId, PeerId]
  idx.put(rec(a), 'r1')
  idx.put(rec(b), 'r1')
  idx.put(rec(c), 'r2')
  t.is(idx.size, 3)
  t.is(await inner.count(), 2, 'one record per range in the index')
  t.deepEqual(
    (await idx.search({ hash }))[0]?.providers.map((p) => p.id),
    [a, b, c],
  )
  t.is(idx.remove(hash, a, 'r1'), 1)
  t.is(idx.remove(hash, a, 'r1'), 0)
  t.deepEqual(
    (await inner.get(hash)).map((r) => r.provider.id).sort(),
    [b, c].sort(),
    'b now stands for range r1',
  )
  t.is(idx.get(hash, b, 'r1')?.provider.id, b)
  idx.put(rec(b, 'renamed file.iso'), 'r1')
  t.is(idx.size, 2)
  t.deepEqual(
    (await idx.search({ keywords: ['renamed'] }))[0]?.providers.map((p) => p.id),
    [b, c],
  )
  idx.remove(hash, b, 'r1')
  idx.remove(hash, c, 'r2')
  t.is(idx.size, 0)
  t.is(await inner.count(), 0)
})

// Found under load by the alice test, when carol re-registered before bob: a range's later providers were
// folded behind its first one's record, so a search by a name only a later provider gave found nothing.
test('a later provider of a range is found by its own name (the first one registered another)', async (t) => {
  const idx = new RangeFoldedIndex(new MemoryIndex())
  const [a, b] = ids as [PeerId, PeerId]
  idx.put(rec(a, 'hp2.mkv'), 'r1')
  idx.put(rec(b, 'Harry Potter and the Chamber of Secrets.mkv'), 'r1')
  const hits = await idx.search({ keywords: ['harry', 'potter'] })
  t.deepEqual(
    hits[0]?.providers.map((p) => p.id),
    [a, b],
  )
})

test('a range counts once and carries the keywords of at most MAX_NAMES_PER_RANGE names', async (t) => {
  const inner = new MemoryIndex()
  const idx = new RangeFoldedIndex(inner)
  const keys = Array.from({ length: MAX_NAMES_PER_RANGE + 3 }, () => Identity.generate().peerId)
  for (const [i, id] of keys.entries()) idx.put(rec(id, `alias${i} film.mkv`), 'r1')
  t.is(await inner.count(), 1, 'one index record for the range')
  t.is((await idx.search({ keywords: ['alias0'] }))[0]?.providers.length, keys.length)
  t.is((await idx.search({ keywords: [`alias${MAX_NAMES_PER_RANGE - 1}`] })).length, 1)
  t.is(
    (await idx.search({ keywords: [`alias${MAX_NAMES_PER_RANGE}`] })).length,
    0,
    'names past the cap are not indexed',
  )
  // The first provider leaves: the next stands for the range, and a name past the cap comes into it.
  idx.remove(hash, keys[0] as PeerId, 'r1')
  t.is((await idx.search({ keywords: ['alias0'] })).length, 0, 'a name nobody gives any more is gone')
  t.is((await idx.search({ keywords: [`alias${MAX_NAMES_PER_RANGE}`] })).length, 1)
  t.is(await inner.count(), 1)
})
