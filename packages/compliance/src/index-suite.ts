import { createHash } from 'node:crypto'
import { type ContentHash, type FileRecord, type Index, keywords, type PeerId } from '@peerkit/core'
import type { TestFn } from 'ava'

/** Makes a fresh, empty Index for one test. */
export type MakeIndex = () => Index | Promise<Index>

/** A content hash derived from a label. */
function testHash(label: string): ContentHash {
  return createHash('sha256').update(label).digest('hex')
}

/** A well-formed PeerId derived from a label (no key behind it: the index does not check). */
function testPeerId(label: string): PeerId {
  return createHash('sha256').update(`peer:${label}`).digest().toString('base64url').slice(0, 43)
}

/** A FileRecord for `name`, provided by the peer labelled `provider`; the hash defaults to one derived from the name. */
function testRecord(name: string, provider: string, hash: ContentHash = testHash(name)): FileRecord {
  return {
    hash,
    name,
    size: name.length * 1000,
    chunkSize: 65_536,
    keywords: keywords(name),
    provider: { id: testPeerId(provider), addresses: [`memory://${provider}`] },
  }
}

const HP2 = 'Harry.Potter.and.the.Chamber.of.Secrets.(2002).mkv'
const HP1 = 'Harry Potter and the Philosopher’s Stone.mkv'
const LOTR = 'The.Lord.of.the.Rings.mkv'

/**
 * The Index compliance suite: every Index implementation runs it.
 *
 * ```ts
 * import test from 'ava'
 * import { indexSuite } from '@peerkit/compliance'
 * import { MemoryIndex } from '../src/index.js'
 * indexSuite(test, () => new MemoryIndex())
 * ```
 */
export function indexSuite(test: TestFn, makeIndex: MakeIndex): void {
  test('index: put, get and size; one record per (hash, provider)', async (t) => {
    const index = await makeIndex()
    t.is(index.size, 0)
    index.put(testRecord(HP2, 'alice'))
    index.put(testRecord(HP2, 'bob'))
    index.put(testRecord(HP2, 'alice'))
    t.is(index.size, 2)
    const got = index.get(testHash(HP2))
    t.deepEqual(got.map((r) => r.provider.id).sort(), [testPeerId('alice'), testPeerId('bob')].sort())
    t.deepEqual(index.get(testHash('nothing')), [])
  })

  test('index: all query keywords must match, normalised like names', async (t) => {
    const index = await makeIndex()
    for (const name of [HP2, HP1, LOTR]) index.put(testRecord(name, 'alice'))
    const names = (kws: string[]) =>
      index
        .search({ keywords: kws })
        .map((h) => h.name)
        .sort()
    t.deepEqual(names(['harry', 'potter']), [HP1, HP2].sort())
    t.deepEqual(names(keywords('HARRY  potter!')), [HP1, HP2].sort())
    t.deepEqual(names(['harry', 'potter', '2002']), [HP2])
    t.deepEqual(names(['harry', 'rings']), [])
    t.deepEqual(names(['harr']), [], 'a keyword matches whole words only')
    t.deepEqual(names(['philosophers']), [], 'no stemming')
    t.deepEqual(names(['the']), [HP1, HP2, LOTR].sort())
  })

  test('index: query keywords are normalised by the index too', async (t) => {
    const index = await makeIndex()
    index.put(testRecord(HP2, 'alice'))
    t.deepEqual(
      index.search({ keywords: ['HARRY', 'Pötter!'] }).map((h) => h.name),
      [HP2],
    )
  })

  test('index: search by content hash gives one hit with every provider', async (t) => {
    const index = await makeIndex()
    const hash = testHash(HP2)
    index.put(testRecord(HP2, 'alice'))
    index.put(testRecord('hp2.mkv', 'bob', hash))
    index.put(testRecord(LOTR, 'carol'))
    const hits = index.search({ hash })
    t.is(hits.length, 1)
    t.is(hits[0]?.hash, hash)
    t.is(hits[0]?.size, HP2.length * 1000)
    t.deepEqual(hits[0]?.providers.map((p) => p.id).sort(), [testPeerId('alice'), testPeerId('bob')].sort())
    t.deepEqual(index.search({ hash: testHash('nothing') }), [])
  })

  test('index: a keyword hit lists every provider of the content, even under other names', async (t) => {
    const index = await makeIndex()
    const hash = testHash(HP2)
    index.put(testRecord(HP2, 'alice'))
    index.put(testRecord('chamber-of-secrets.mkv', 'bob', hash))
    const hits = index.search({ keywords: ['harry', 'potter'] })
    t.is(hits.length, 1)
    t.is(hits[0]?.name, HP2)
    t.is(hits[0]?.providers.length, 2)
    t.deepEqual(
      index.search({ keywords: ['potter', 'chamber', 'secrets'] }).map((h) => h.providers.length),
      [2],
    )
    t.deepEqual(index.search({ keywords: ['harry', 'chamber', 'secrets', 'mkv'] }).length, 1)
    t.deepEqual(
      index.search({ keywords: ['and', 'chamber', 'of', 'secrets', '2002'] }).map((h) => h.name),
      [HP2],
    )
  })

  test('index: keywords split across two providers’ names do not make a match', async (t) => {
    const index = await makeIndex()
    const hash = testHash('x')
    index.put(testRecord('alpha.bin', 'alice', hash))
    index.put(testRecord('beta.bin', 'bob', hash))
    t.deepEqual(index.search({ keywords: ['alpha', 'beta'] }), [])
    t.is(index.search({ keywords: ['alpha'] }).length, 1)
  })

  test('index: hits are ranked more providers first', async (t) => {
    const index = await makeIndex()
    const names = ['potter one.mkv', 'potter two.mkv', 'potter three.mkv']
    const providers = [1, 3, 2]
    names.forEach((name, i) => {
      for (let p = 0; p < (providers[i] as number); p++) index.put(testRecord(name, `peer${p}`))
    })
    const hits = index.search({ keywords: ['potter'] })
    t.deepEqual(
      hits.map((h) => h.providers.length),
      [3, 2, 1],
    )
    t.deepEqual(
      hits.map((h) => h.name),
      ['potter two.mkv', 'potter three.mkv', 'potter one.mkv'],
    )
  })

  test('index: at most query.limit hits, the best ranked', async (t) => {
    const index = await makeIndex()
    for (let i = 0; i < 50; i++) {
      for (let p = 0; p <= i % 5; p++) index.put(testRecord(`movie ${i}.mkv`, `peer${p}`))
    }
    const hits = index.search({ keywords: ['movie'], limit: 7 })
    t.is(hits.length, 7)
    t.true(hits.every((h) => h.providers.length === 5))
    t.is(index.search({ keywords: ['movie'] }).length, 50)
    t.is(index.search({ keywords: ['movie'], limit: 1000 }).length, 50)
  })

  test('index: remove by hash and provider, by hash, and every record of a provider', async (t) => {
    const index = await makeIndex()
    index.put(testRecord(HP2, 'alice'))
    index.put(testRecord(HP2, 'bob'))
    index.put(testRecord(HP1, 'bob'))
    index.put(testRecord(LOTR, 'bob'))
    index.put(testRecord(LOTR, 'carol'))
    t.is(index.size, 5)

    t.is(index.remove(testHash(HP2), testPeerId('bob')), 1)
    t.is(index.remove(testHash(HP2), testPeerId('bob')), 0)
    t.deepEqual(
      index.search({ keywords: ['chamber'] }).map((h) => h.providers.map((p) => p.id)),
      [[testPeerId('alice')]],
    )

    t.is(index.removeProvider(testPeerId('bob')), 2)
    t.is(index.removeProvider(testPeerId('bob')), 0)
    t.deepEqual(index.search({ keywords: ['philosopher', 's', 'stone'] }), [])
    t.is(index.size, 2)

    t.is(index.remove(testHash(HP2)), 1)
    t.deepEqual(index.search({ keywords: ['harry'] }), [])
    t.deepEqual(index.get(testHash(HP2)), [])
    t.is(index.size, 1)
    t.is(index.search({ keywords: ['rings'] })[0]?.providers[0]?.id, testPeerId('carol'))
  })

  test('index: a replaced record is found by its new name only', async (t) => {
    const index = await makeIndex()
    const hash = testHash('same')
    index.put(testRecord('old name.bin', 'alice', hash))
    index.put(testRecord('new title.bin', 'alice', hash))
    t.is(index.size, 1)
    t.deepEqual(index.search({ keywords: ['old'] }), [])
    t.deepEqual(
      index.search({ keywords: ['new', 'title'] }).map((h) => h.name),
      ['new title.bin'],
    )
  })

  test('index: records() yields every record; clear() empties', async (t) => {
    const index = await makeIndex()
    index.put(testRecord(HP2, 'alice'))
    index.put(testRecord(HP2, 'bob'))
    index.put(testRecord(LOTR, 'bob'))
    const all = [...index.records()]
    t.is(all.length, 3)
    t.deepEqual(
      all.map((r) => `${r.name}|${r.provider.id}`).sort(),
      [`${HP2}|${testPeerId('alice')}`, `${HP2}|${testPeerId('bob')}`, `${LOTR}|${testPeerId('bob')}`].sort(),
    )
    index.clear()
    t.is(index.size, 0)
    t.deepEqual([...index.records()], [])
    t.deepEqual(index.search({ keywords: ['harry'] }), [])
  })

  test('index: empty or unmatched queries give no hits', async (t) => {
    const index = await makeIndex()
    index.put(testRecord(HP2, 'alice'))
    t.deepEqual(index.search({ keywords: [] }), [])
    t.deepEqual(index.search({ keywords: ['!!!'] }), [])
    t.deepEqual(index.search({}), [])
    t.deepEqual(index.search({ keywords: ['unknownword'] }), [])
  })

  test('index: 20,000 records from 200 providers stay consistent', async (t) => {
    const index = await makeIndex()
    for (let p = 0; p < 200; p++) {
      for (let f = 0; f < 100; f++) index.put(testRecord(`file ${f} batch${p % 10}.dat`, `peer${p}`))
    }
    // 100 distinct names per batch, 10 batches: 1,000 hashes, each with 20 providers.
    t.is(index.size, 20_000)
    const hits = index.search({ keywords: ['file', '7', 'batch3'] })
    t.is(hits.length, 1)
    t.is(hits[0]?.providers.length, 20)
    t.is(index.search({ keywords: ['batch3'], limit: 10 }).length, 10)
    for (let p = 0; p < 100; p++) index.removeProvider(testPeerId(`peer${p}`))
    t.is(index.size, 10_000)
    t.is(index.search({ keywords: ['file', '7', 'batch3'] })[0]?.providers.length, 10)
    for (let p = 100; p < 200; p++) index.removeProvider(testPeerId(`peer${p}`))
    t.is(index.size, 0)
    t.deepEqual(index.search({ keywords: ['file'] }), [])
  })
}
