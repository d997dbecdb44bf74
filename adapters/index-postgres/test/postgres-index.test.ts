import { keywords } from '@peerkit/core'
import { TestClock } from '@peerkit/core/testing'
import test from 'ava'
import pg from 'pg'
import { MIGRATIONS, PostgresIndex } from '../src/index.js'
import { sharedServer } from './helpers/server.js'

const server = sharedServer(test)

const record = (name: string, provider = 'T2-8xGq3jRkQ0pV7bT1n3cW9yZs5uH4mE6aL2dF0kJc', hash = name) => ({
  hash: Buffer.from(hash).toString('hex').padEnd(64, '0').slice(0, 64),
  name,
  size: 1,
  chunkSize: 65_536,
  keywords: keywords(name),
  provider: { id: provider, addresses: ['tcp://10.0.0.7:4001'] },
})

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<T>(sql)).rows
  } finally {
    await client.end()
  }
}

test('eight servers opening one fresh database at once migrate it once (advisory lock), and again is a no-op', async (t) => {
  const url = await (await server()).createDatabase()
  const indexes = Array.from({ length: 8 }, () => new PostgresIndex({ url, name: 'directory' }))
  await Promise.all(indexes.map((i) => i.open()))
  t.teardown(() => Promise.all(indexes.map((i) => i.close())))
  const versions = await query<{ version: number }>(url, 'SELECT version FROM peerkit.schema_version')
  t.deepEqual(
    versions.map((v) => v.version),
    MIGRATIONS.map((_, i) => i + 1),
  )
  await indexes[0]?.put(record('One.Registry.mkv'))
  t.is(
    (await indexes[7]?.search({ keywords: ['registry'] }))?.length,
    1,
    'every server sees the same records',
  )
  const again = new PostgresIndex({ url, name: 'directory' })
  await again.open()
  t.teardown(() => again.close())
  t.is((await query(url, 'SELECT version FROM peerkit.schema_version')).length, MIGRATIONS.length)
})

test('a schema newer than this package is refused at open, naming both versions', async (t) => {
  const url = await (await server()).createDatabase()
  const first = new PostgresIndex({ url, name: 'directory' })
  await first.open()
  await first.close()
  await query(url, `INSERT INTO peerkit.schema_version (version) VALUES (${MIGRATIONS.length + 1})`)
  const index = new PostgresIndex({ url, name: 'directory' })
  await t.throwsAsync(index.open(), {
    name: 'PostgresIndexError',
    message: new RegExp(`version ${MIGRATIONS.length + 1}, newer than this @peerkit/index-postgres knows`),
  })
})

test('names and queries made of SQL, LIKE and tsquery syntax are data: nothing else matches, nothing breaks', async (t) => {
  const url = await (await server()).createDatabase()
  const index = new PostgresIndex({ url, name: 'directory' }, { clock: new TestClock(1_000_000) })
  await index.open()
  t.teardown(() => index.close())
  const hostile = [
    "x'); DROP TABLE peerkit.records; --.mkv",
    '100% _real_ \\ backslash.mkv',
    "it's:* & !not | (quoted).mkv",
  ]
  for (const [i, name] of hostile.entries()) await index.put(record(name, undefined, `h${i}`))
  await index.put(record('Innocent.Bystander.mkv'))
  for (const kws of [['%'], ['_'], ['\\'], ["'"], [':*'], ['&'], ['!'], ["x'"], ['%', 'real']]) {
    const hits = await index.search({ keywords: kws })
    t.false(
      hits.some((h) => h.name === 'Innocent.Bystander.mkv'),
      `${JSON.stringify(kws)} does not match everything`,
    )
  }
  t.deepEqual(
    (await index.search({ keywords: ['drop', 'table'] })).map((h) => h.name),
    [hostile[0]],
  )
  t.deepEqual(
    (await index.search({ keywords: ['real', 'backslash'] })).map((h) => h.name),
    [hostile[1]],
  )
  t.deepEqual(
    (await index.search({ keywords: ['it', 'quoted'] })).map((h) => h.name),
    [hostile[2]],
  )
  t.is(await index.count(), 4, 'the table is still there, with every record')
})

test('renew() moves a provider’s expiring registrations, never revives a lapsed one, leaves unexpiring ones', async (t) => {
  const url = await (await server()).createDatabase()
  const clock = new TestClock(1_000_000)
  const index = new PostgresIndex({ url, name: 'directory' }, { clock })
  await index.open()
  t.teardown(() => index.close())
  const alice = 'T2-8xGq3jRkQ0pV7bT1n3cW9yZs5uH4mE6aL2dF0kJc'
  const bob = 'Bob8xGq3jRkQ0pV7bT1n3cW9yZs5uH4mE6aL2dF0kJc'
  await index.put(record('alice.one.mkv', alice), { expiresAt: clock.now() + 1000 })
  await index.put(record('alice.two.mkv', alice), { expiresAt: clock.now() + 1000 })
  await index.put(record('alice.kept.mkv', alice))
  await index.put(record('bob.one.mkv', bob), { expiresAt: clock.now() + 1000 })
  t.is(await index.renew(alice, clock.now() + 5000), 2)
  await clock.advance(2000)
  t.deepEqual(
    (await index.search({ keywords: ['one'] })).map((h) => h.name),
    ['alice.one.mkv'],
    "bob's lapsed, alice's renewed",
  )
  t.is(await index.renew(bob, clock.now() + 5000), 0, 'a lapsed registration is not revived')
  await clock.advance(3000)
  t.deepEqual(
    (await index.search({ keywords: ['alice'] })).map((h) => h.name),
    ['alice.kept.mkv'],
  )
})

test('renew() of a lease that lapsed but was not purged yet revives none of its records; what is registered after lives under the new lease', async (t) => {
  const url = await (await server()).createDatabase()
  const clock = new TestClock(1_000_000)
  // No purge runs on its own here: only a read past the known expiry would start one.
  const index = new PostgresIndex({ url, name: 'directory', purgeInterval: 3_600_000 }, { clock })
  await index.open()
  t.teardown(() => index.close())
  const carol = 'Carol8xGq3jRkQ0pV7bT1n3cW9yZs5uH4mE6aL2dF0kJ'
  await index.register([{ record: record('carol.old.mkv', carol), bytes: 10 }], {
    fold: 'A',
    expiresAt: clock.now() + 1000,
  })
  t.is(await index.renew(carol, clock.now() + 1000), 1)
  await clock.advance(2000)
  t.is(await index.renew(carol, clock.now() + 5000), 0, 'nothing lived under the lapsed lease')
  t.deepEqual(await index.usage(carol), { records: 0, bytes: 0 })
  t.deepEqual(await index.search({ keywords: ['carol'] }), [], 'the lapsed record stays gone')
  await index.register([{ record: record('carol.new.mkv', carol), bytes: 10 }], {
    fold: 'A',
    expiresAt: clock.now() + 1000,
  })
  await clock.advance(2000)
  t.deepEqual(
    (await index.search({ keywords: ['carol'] })).map((h) => h.name),
    ['carol.new.mkv'],
    'registered under the live lease: it lapses with the lease, not at its own expiry',
  )
})

test('a directory’s registry: register gives back its bytes (registered, usage, unregister), relocate moves a provider, registers of many providers run at once, a hash ranks by its ranges', async (t) => {
  const url = await (await server()).createDatabase()
  const clock = new TestClock(1_000_000)
  const index = new PostgresIndex({ url, name: 'directory', poolSize: 8 }, { clock })
  await index.open()
  t.teardown(() => index.close())
  const key = (i: number) =>
    `P${String(i).padStart(3, '0')}xGq3jRkQ0pV7bT1n3cW9yZs5uH4mE6aL2dF0kJc`.slice(0, 43)
  // 40 providers at once, 48 records each; 20 of range A register one more file, one of A and one of B another.
  await Promise.all(
    Array.from({ length: 40 }, (_, p) =>
      index.register(
        [
          ...Array.from({ length: 48 }, (_, i) => ({
            record: record(`own ${p} ${i}.mkv`, key(p)),
            bytes: 100 + i,
          })),
          ...(p < 20 ? [{ record: record('shared.one.range.mkv', key(p)), bytes: 7 }] : []),
          ...(p % 20 === 0 ? [{ record: record('shared.two.ranges.mkv', key(p)), bytes: 7 }] : []),
        ],
        { fold: p < 20 ? 'A' : 'B', expiresAt: clock.now() + 10_000 },
      ),
    ),
  )
  t.is(await index.count(), 40 * 48 + 20 + 2)
  const p0 = key(0)
  const held = await index.registered(p0, [record('own 0 3.mkv').hash, record('own 0 99.mkv').hash])
  t.deepEqual([...held], [[record('own 0 3.mkv').hash, 103]])
  t.deepEqual(await index.usage(p0), { records: 50, bytes: 48 * 100 + (47 * 48) / 2 + 14 })
  t.deepEqual(await index.unregister(p0, [record('own 0 3.mkv').hash, record('own 0 99.mkv').hash]), [103])
  t.is((await index.usage(p0)).records, 49)
  const ranked = await index.search({ keywords: ['shared'], limit: 1 })
  t.is(ranked[0]?.name, 'shared.two.ranges.mkv', 'two providers of two ranges outrank 20 of one range')
  t.is(ranked[0]?.providers.length, 2)
  t.is(await index.relocate(p0, 'C', { id: p0, addresses: ['tcp://10.9.9.9:1'] }), 49)
  t.is(
    await index.relocate(p0, 'C', { id: p0, addresses: ['tcp://10.9.9.9:1'] }),
    0,
    'already there: no row rewritten',
  )
  const moved = (await index.search({ keywords: ['own', '0', '5'] })).find((h) => h.name === 'own 0 5.mkv')
  t.deepEqual(moved?.providers, [{ id: p0, addresses: ['tcp://10.9.9.9:1'] }])
  t.is((await index.unregister(p0)).length, 49)
  await clock.advance(20_000)
  t.deepEqual(await index.usage(key(1)), { records: 0, bytes: 0 }, 'lapsed: nothing counted')
})
