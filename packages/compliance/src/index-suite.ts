import { createHash } from 'node:crypto'
import {
  type Clock,
  type ContentHash,
  type FileRecord,
  type Index,
  keywords,
  type PeerId,
} from '@peerkit/core'
import { TestClock } from '@peerkit/core/testing'
import type { ExecutionContext, TestFn } from 'ava'

/**
 * Makes a fresh, empty Index for one test, reading time from `clock` (records
 * put with `expiresAt` lapse by it). The suite opens and closes it.
 */
export type MakeIndex = (components: { clock: Clock }) => Index | Promise<Index>

/** A content hash derived from a label. */
export function testHash(label: string): ContentHash {
  return createHash('sha256').update(label).digest('hex')
}

/** A well-formed PeerId derived from a label (no key behind it: the index does not check). */
export function testPeerId(label: string): PeerId {
  return createHash('sha256').update(`peer:${label}`).digest().toString('base64url').slice(0, 43)
}

/** A FileRecord for `name`, provided by the peer labelled `provider`; the hash defaults to one derived from the name. */
export function testRecord(name: string, provider: string, hash: ContentHash = testHash(name)): FileRecord {
  return {
    hash,
    name,
    size: name.length * 1000,
    chunkSize: 65_536,
    keywords: keywords(name),
    provider: { id: testPeerId(provider), addresses: [`memory://${provider}`] },
  }
}

/** Every record the index yields, in a list. */
export async function collectRecords(index: Index): Promise<FileRecord[]> {
  const out: FileRecord[] = []
  for await (const r of index.records()) out.push(r)
  return out
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
  /** A new index on its own virtual clock, opened now and closed when the test ends. */
  async function opened(t: ExecutionContext, clock = new TestClock(1_000_000)): Promise<Index> {
    const index = await makeIndex({ clock })
    await index.open()
    t.teardown(() => index.close())
    return index
  }

  test('index: put, get and size; one record per (hash, provider)', async (t) => {
    const index = await opened(t)
    t.is(await index.count(), 0)
    await index.put(testRecord(HP2, 'alice'))
    await index.put(testRecord(HP2, 'bob'))
    await index.put(testRecord(HP2, 'alice'))
    t.is(await index.count(), 2)
    const got = await index.get(testHash(HP2))
    t.deepEqual(got.map((r) => r.provider.id).sort(), [testPeerId('alice'), testPeerId('bob')].sort())
    t.deepEqual(await index.get(testHash('nothing')), [])
  })

  test('index: all query keywords must match, normalised like names', async (t) => {
    const index = await opened(t)
    for (const name of [HP2, HP1, LOTR]) await index.put(testRecord(name, 'alice'))
    const names = async (kws: string[]) => (await index.search({ keywords: kws })).map((h) => h.name).sort()
    t.deepEqual(await names(['harry', 'potter']), [HP1, HP2].sort())
    t.deepEqual(await names(keywords('HARRY  potter!')), [HP1, HP2].sort())
    t.deepEqual(await names(['harry', 'potter', '2002']), [HP2])
    t.deepEqual(await names(['harry', 'rings']), [])
    t.deepEqual(await names(['harry', 'potter', 'stones']), [], 'no stemming')
    t.deepEqual(await names(['philosophers']), [], 'no stemming')
    t.deepEqual(await names(['the']), [HP1, HP2, LOTR].sort())
  })

  test('index: a term matches as a prefix or a substring (3+ characters; 2 in CJK), as core termMatches says', async (t) => {
    const index = await opened(t)
    const spirited = '千と千尋の神隠し.2001.mkv'
    for (const name of [HP2, HP1, LOTR, spirited, 'Remove.Me.txt']) await index.put(testRecord(name, 'alice'))
    const names = async (kws: string[]) => (await index.search({ keywords: kws })).map((h) => h.name).sort()
    t.deepEqual(await names(['harr']), [HP1, HP2].sort(), 'a prefix')
    t.deepEqual(await names(['harr', 'pot']), [HP1, HP2].sort(), 'every term a prefix')
    t.deepEqual(await names(['ott', 'chamb']), [HP2], 'a substring and a prefix')
    t.deepEqual(await names(['ri']), [LOTR], 'a 2-letter prefix (rings), never a 2-letter substring (harry)')
    t.deepEqual(await names(['mov']), ['Remove.Me.txt'], 'a 3-letter substring')
    t.deepEqual(await names(['神隠']), [spirited], 'a CJK name by 2 characters inside it')
    t.deepEqual(await names(['千尋', 'mkv']), [spirited])
    t.deepEqual(await names(['千']), [spirited], 'one CJK character as a prefix')
    t.deepEqual(await names(['尋']), [], 'one CJK character inside a word is too little')
    t.deepEqual(await names(['harr', 'rings']), [])
    t.deepEqual(await names(['potters']), [], 'a term longer than the word')
    for (let i = 0; i < 600; i++) await index.put(testRecord(`filler${i} movie.mkv`, 'bob'))
    t.deepEqual(
      await names(['mov', 'remo']),
      ['Remove.Me.txt'],
      'the same with a vocabulary of 600 more words',
    )
    t.deepEqual(await names(['神隠']), [spirited])
    t.is((await index.search({ keywords: ['fill', 'ovie'] })).length, 600)
    t.deepEqual(await names(['filler59', 'ovi']).then((n) => n.length), 11, 'filler59 and filler590 … 599')
  })

  test('index: query keywords are normalised by the index too', async (t) => {
    const index = await opened(t)
    await index.put(testRecord(HP2, 'alice'))
    t.deepEqual(
      (await index.search({ keywords: ['HARRY', 'Pötter!'] })).map((h) => h.name),
      [HP2],
    )
  })

  test('index: search by content hash gives one hit with every provider', async (t) => {
    const index = await opened(t)
    const hash = testHash(HP2)
    await index.put(testRecord(HP2, 'alice'))
    await index.put(testRecord('hp2.mkv', 'bob', hash))
    await index.put(testRecord(LOTR, 'carol'))
    const hits = await index.search({ hash })
    t.is(hits.length, 1)
    t.is(hits[0]?.hash, hash)
    t.is(hits[0]?.size, HP2.length * 1000)
    t.deepEqual(hits[0]?.providers.map((p) => p.id).sort(), [testPeerId('alice'), testPeerId('bob')].sort())
    t.deepEqual(await index.search({ hash: testHash('nothing') }), [])
  })

  test('index: a keyword hit lists every provider of the content, even under other names', async (t) => {
    const index = await opened(t)
    const hash = testHash(HP2)
    await index.put(testRecord(HP2, 'alice'))
    await index.put(testRecord('chamber-of-secrets.mkv', 'bob', hash))
    const hits = await index.search({ keywords: ['harry', 'potter'] })
    t.is(hits.length, 1)
    t.is(hits[0]?.name, HP2)
    t.is(hits[0]?.providers.length, 2)
    t.deepEqual(
      (await index.search({ keywords: ['potter', 'chamber', 'secrets'] })).map((h) => h.providers.length),
      [2],
    )
    t.deepEqual((await index.search({ keywords: ['harry', 'chamber', 'secrets', 'mkv'] })).length, 1)
    t.deepEqual(
      (await index.search({ keywords: ['and', 'chamber', 'of', 'secrets', '2002'] })).map((h) => h.name),
      [HP2],
    )
  })

  test('index: keywords split across two providers’ names do not make a match', async (t) => {
    const index = await opened(t)
    const hash = testHash('x')
    await index.put(testRecord('alpha.bin', 'alice', hash))
    await index.put(testRecord('beta.bin', 'bob', hash))
    t.deepEqual(await index.search({ keywords: ['alpha', 'beta'] }), [])
    t.is((await index.search({ keywords: ['alpha'] })).length, 1)
  })

  test('index: hits are ranked more providers first', async (t) => {
    const index = await opened(t)
    const names = ['potter one.mkv', 'potter two.mkv', 'potter three.mkv']
    const providers = [1, 3, 2]
    for (const [i, name] of names.entries()) {
      for (let p = 0; p < (providers[i] as number); p++) await index.put(testRecord(name, `peer${p}`))
    }
    const hits = await index.search({ keywords: ['potter'] })
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
    const index = await opened(t)
    for (let i = 0; i < 50; i++) {
      for (let p = 0; p <= i % 5; p++) await index.put(testRecord(`movie ${i}.mkv`, `peer${p}`))
    }
    const hits = await index.search({ keywords: ['movie'], limit: 7 })
    t.is(hits.length, 7)
    t.true(hits.every((h) => h.providers.length === 5))
    t.is((await index.search({ keywords: ['movie'] })).length, 50)
    t.is((await index.search({ keywords: ['movie'], limit: 1000 })).length, 50)
  })

  test('index: remove by hash and provider, by hash, and every record of a provider', async (t) => {
    const index = await opened(t)
    await index.put(testRecord(HP2, 'alice'))
    await index.put(testRecord(HP2, 'bob'))
    await index.put(testRecord(HP1, 'bob'))
    await index.put(testRecord(LOTR, 'bob'))
    await index.put(testRecord(LOTR, 'carol'))
    t.is(await index.count(), 5)

    t.is(await index.remove(testHash(HP2), testPeerId('bob')), 1)
    t.is(await index.remove(testHash(HP2), testPeerId('bob')), 0)
    t.deepEqual(
      (await index.search({ keywords: ['chamber'] })).map((h) => h.providers.map((p) => p.id)),
      [[testPeerId('alice')]],
    )

    t.is(await index.removeProvider(testPeerId('bob')), 2)
    t.is(await index.removeProvider(testPeerId('bob')), 0)
    t.deepEqual(await index.search({ keywords: ['philosopher', 's', 'stone'] }), [])
    t.is(await index.count(), 2)

    t.is(await index.remove(testHash(HP2)), 1)
    t.deepEqual(await index.search({ keywords: ['harry'] }), [])
    t.deepEqual(await index.get(testHash(HP2)), [])
    t.is(await index.count(), 1)
    t.is((await index.search({ keywords: ['rings'] }))[0]?.providers[0]?.id, testPeerId('carol'))
  })

  test('index: a replaced record is found by its new name only', async (t) => {
    const index = await opened(t)
    const hash = testHash('same')
    await index.put(testRecord('old name.bin', 'alice', hash))
    await index.put(testRecord('new title.bin', 'alice', hash))
    t.is(await index.count(), 1)
    t.deepEqual(await index.search({ keywords: ['old'] }), [])
    t.deepEqual(
      (await index.search({ keywords: ['new', 'title'] })).map((h) => h.name),
      ['new title.bin'],
    )
  })

  test('index: records() yields every record; clear() empties', async (t) => {
    const index = await opened(t)
    await index.put(testRecord(HP2, 'alice'))
    await index.put(testRecord(HP2, 'bob'))
    await index.put(testRecord(LOTR, 'bob'))
    const all = await collectRecords(index)
    t.is(all.length, 3)
    t.deepEqual(
      all.map((r) => `${r.name}|${r.provider.id}`).sort(),
      [`${HP2}|${testPeerId('alice')}`, `${HP2}|${testPeerId('bob')}`, `${LOTR}|${testPeerId('bob')}`].sort(),
    )
    await index.clear()
    t.is(await index.count(), 0)
    t.deepEqual(await collectRecords(index), [])
    t.deepEqual(await index.search({ keywords: ['harry'] }), [])
  })

  test('index: empty or unmatched queries give no hits', async (t) => {
    const index = await opened(t)
    await index.put(testRecord(HP2, 'alice'))
    t.deepEqual(await index.search({ keywords: [] }), [])
    t.deepEqual(await index.search({ keywords: ['!!!'] }), [])
    t.deepEqual(await index.search({}), [])
    t.deepEqual(await index.search({ keywords: ['unknownword'] }), [])
  })

  test('index: 20,000 records from 200 providers stay consistent', async (t) => {
    const index = await opened(t)
    for (let p = 0; p < 200; p++) {
      for (let f = 0; f < 100; f++) await index.put(testRecord(`file ${f} batch${p % 10}.dat`, `peer${p}`))
    }
    // 100 distinct names per batch, 10 batches: 1,000 hashes, each with 20 providers ('77' is a prefix of 77 only).
    t.is(await index.count(), 20_000)
    const hits = await index.search({ keywords: ['file', '77', 'batch3'] })
    t.is(hits.length, 1)
    t.is(hits[0]?.providers.length, 20)
    t.is((await index.search({ keywords: ['batch3'], limit: 10 })).length, 10)
    for (let p = 0; p < 100; p++) await index.removeProvider(testPeerId(`peer${p}`))
    t.is(await index.count(), 10_000)
    t.is((await index.search({ keywords: ['file', '77', 'batch3'] }))[0]?.providers.length, 10)
    for (let p = 100; p < 200; p++) await index.removeProvider(testPeerId(`peer${p}`))
    t.is(await index.count(), 0)
    t.deepEqual(await index.search({ keywords: ['file'] }), [])
  })
  test('index: calls apply in the order they are made, awaited or not', async (t) => {
    const index = await opened(t)
    const hash = testHash(HP2)
    const writes = [
      index.put(testRecord(HP2, 'alice')),
      index.put(testRecord(HP2, 'bob')),
      index.remove(hash, testPeerId('alice')),
      index.put(testRecord('renamed.mkv', 'bob', hash)),
    ]
    const seen = index.get(hash)
    await Promise.all(writes)
    t.deepEqual(
      (await seen).map((r) => `${r.name}|${r.provider.id}`),
      [`renamed.mkv|${testPeerId('bob')}`],
    )
    t.is(await index.count(), 1)
  })

  test('index: a record keeps its fields beyond FileRecord (a signature, an expiry)', async (t) => {
    const index = await opened(t)
    const signed = {
      ...testRecord(HP2, 'alice'),
      expires: 123_456_789,
      signature: 'c2lnbmF0dXJl',
      extra: { n: [1, 2] },
    }
    await index.put(signed)
    t.deepEqual(await index.get(signed.hash), [signed])
    t.deepEqual(await collectRecords(index), [signed])
  })

  test('index: a record lapses at its expiry: not returned, counted or found, then purged', async (t) => {
    const clock = new TestClock(1_000_000)
    const index = await opened(t, clock)
    await index.put(testRecord(HP2, 'alice'), { expiresAt: clock.now() + 1000 })
    await index.put(testRecord(HP2, 'bob'), { expiresAt: clock.now() + 5000 })
    await index.put(testRecord(LOTR, 'carol'))
    t.is(await index.count(), 3)
    await clock.advance(999)
    t.is((await index.search({ keywords: ['harry'] }))[0]?.providers.length, 2)
    await clock.advance(1)
    t.deepEqual(
      (await index.get(testHash(HP2))).map((r) => r.provider.id),
      [testPeerId('bob')],
      'alice lapsed at 1000 ms',
    )
    t.deepEqual(
      (await index.search({ keywords: ['harry'] }))[0]?.providers.map((p) => p.id),
      [testPeerId('bob')],
    )
    t.is(await index.count(), 2)
    t.is((await collectRecords(index)).length, 2)
    await clock.advance(4000)
    t.deepEqual(await index.search({ hash: testHash(HP2) }), [])
    t.is(await index.expire(), 0, 'reads already purged what lapsed, or expire() finds nothing more')
    t.is(await index.count(), 1)
    t.is((await index.search({ keywords: ['rings'] })).length, 1, 'a record without expiry stays')
  })

  test('index: expire() purges lapsed records; a put replaces or clears the expiry', async (t) => {
    const clock = new TestClock(1_000_000)
    const index = await opened(t, clock)
    const now = clock.now()
    await index.put(testRecord(HP2, 'alice'), { expiresAt: now + 100 })
    await index.put(testRecord(HP1, 'alice'), { expiresAt: now + 100 })
    await index.put(testRecord(HP1, 'alice'), { expiresAt: now + 10_000 })
    await index.put(testRecord(LOTR, 'alice'), { expiresAt: now + 100 })
    await index.put(testRecord(LOTR, 'alice'))
    await clock.advance(100)
    const purged = await index.expire()
    t.true(purged <= 1, `at most HP2's record was left to purge (got ${purged})`)
    t.deepEqual((await collectRecords(index)).map((r) => r.name).sort(), [HP1, LOTR].sort())
    await clock.advance(10_000)
    await index.expire()
    t.deepEqual(
      (await collectRecords(index)).map((r) => r.name),
      [LOTR],
    )
    t.is(await index.removeProvider(testPeerId('alice')), 1)
  })

  test('index: close() is idempotent', async (t) => {
    const index = await makeIndex({ clock: new TestClock() })
    await index.open()
    await index.put(testRecord(HP2, 'alice'))
    await index.close()
    await t.notThrowsAsync(index.close())
  })
}
