import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type FileRecord,
  INDEX_FACTORY,
  indexes,
  keywords,
  PEER_CONFIG,
  parsePeerConfig,
} from '@peerkit/core'
import { TestClock } from '@peerkit/core/testing'
import { MemoryIndex } from '@peerkit/index-memory'
import test, { type ExecutionContext } from 'ava'
import { container } from 'tsyringe'
import { LmdbIndex, lmdbIndex, parseLmdbIndexOptions } from '../src/index.js'

async function folder(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'peerkit-lmdb-test-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

function record(name: string, n: number): FileRecord {
  return {
    hash: n.toString(16).padStart(64, '0'),
    name,
    size: n,
    chunkSize: 65_536,
    keywords: keywords(name),
    provider: { id: 'p'.repeat(43), addresses: [] },
  }
}

test('registers as "lmdb": named indexes live in DATADIR/index and reopen; unnamed ones are in memory', async (t) => {
  const dir = await folder(t)
  t.true(indexes.has('lmdb'))
  const c = container.createChildContainer()
  c.register(PEER_CONFIG, {
    useValue: parsePeerConfig({ overlay: 'flooding', transport: 'memory', dataDir: dir }),
  })
  indexes.get('lmdb')(undefined)(c)
  const make = c.resolve(INDEX_FACTORY)
  t.true(make() instanceof MemoryIndex)
  const shares = make('shares')
  t.true(shares instanceof LmdbIndex)
  await shares.open()
  await shares.put(record('kept.txt', 1))
  await shares.close()
  t.true((await readdir(join(dir, 'index'))).includes('data.mdb'))
  const again = make('shares')
  await again.open()
  t.is(await again.count(), 1)
  const other = make('chord')
  await other.open()
  t.is(await other.count(), 0, 'another name is another store')
  await other.close()
  await again.close()
})

test('without a data folder or a path the factory is refused, naming what to set', (t) => {
  const c = container.createChildContainer()
  c.register(PEER_CONFIG, { useValue: parsePeerConfig({ overlay: 'flooding', transport: 'memory' }) })
  lmdbIndex()(c)
  t.throws(() => c.resolve(INDEX_FACTORY), {
    name: 'InvalidOptionsError',
    message: /dataDir.*options\.lmdb\.path/,
  })
})

test('options: checked and named', (t) => {
  t.is(parseLmdbIndexOptions({}).sync, true)
  t.throws(() => lmdbIndex({ sync: 'yes' }), { name: 'InvalidOptionsError', message: /lmdb\.sync/ })
  t.throws(() => lmdbIndex({ mapsize: 1 }), { name: 'InvalidOptionsError', message: /mapsize/ })
  t.throws(() => lmdbIndex({ pageSize: 0 }), { name: 'InvalidOptionsError', message: /lmdb\.pageSize/ })
})

test('calls before open() or after close() are refused with NotStartedError; open() again reopens', async (t) => {
  const dir = await folder(t)
  const index = new LmdbIndex(dir, 'x', parseLmdbIndexOptions({}))
  await t.throwsAsync(index.put(record('a.txt', 1)), { name: 'NotStartedError', message: /open\(\)/ })
  await index.open()
  await index.put(record('a.txt', 1))
  await index.close()
  await t.throwsAsync(index.count(), { name: 'NotStartedError' })
  await index.open()
  t.is(await index.count(), 1)
  await index.close()
})

test('records() pages through a store larger than a page, writes in between taking effect in order', async (t) => {
  const dir = await folder(t)
  const index = new LmdbIndex(dir, 'paged', parseLmdbIndexOptions({ pageSize: 7, sync: false }))
  await index.open()
  t.teardown(() => index.close())
  await Promise.all(Array.from({ length: 50 }, (_, i) => index.put(record(`file ${i}.bin`, i + 1))))
  let seen = 0
  for await (const r of index.records()) {
    seen++
    t.true(r.name.startsWith('file '))
  }
  t.is(seen, 50)
  t.is(await index.count(), 50)
})

test('a lapsed record is purged at the next read, before anything sees it', async (t) => {
  const dir = await folder(t)
  const clock = new TestClock(5_000)
  const index = new LmdbIndex(dir, 'lapse', parseLmdbIndexOptions({ sync: false }), { clock })
  await index.open()
  t.teardown(() => index.close())
  await index.put(record('soon gone.txt', 1), { expiresAt: 6_000 })
  await index.put(record('stays.txt', 2))
  await clock.advance(1_000)
  t.deepEqual((await index.search({ keywords: ['gone'] })).length, 0)
  t.is(await index.count(), 1)
  t.is(await index.expire(), 0, 'already purged by the read')
})
