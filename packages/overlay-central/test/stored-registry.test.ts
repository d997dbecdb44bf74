import '@peerkit/index-postgres'
import { heapAfterGc } from '@peerkit/compliance'
import { collect, type FileRecord } from '@peerkit/core'
import { type PostgresServer, startPostgres } from '@peerkit/index-postgres/testing'
import test, { type ExecutionContext } from 'ava'
import { ask, login, realAndSybils, recordOf, type TcpDirectory, tcpDirectory } from './helpers/tcp-attack.js'

// A directory on PostgreSQL keeps its registrations in the database (a stored registry): nothing per
// registered file in its heap, the accounting of each peer's records read back from the rows, and the
// range fold done by the search (providers counted by address range). A real server, one database a test.

let server: Promise<PostgresServer> | undefined
test.after.always(async () => {
  if (server) await (await server).stop()
})

async function pgDirectory(t: ExecutionContext, options = {}): Promise<TcpDirectory> {
  server ??= startPostgres()
  const url = await (await server).createDatabase()
  return tcpDirectory(t, options, { index: 'postgres', components: { postgres: { url } } })
}

const FILES = 20_000

test('on PostgreSQL the directory holds no heap per registered file; re-registering, unregistering and logging out are accounted from the rows', async (t) => {
  const net = await pgDirectory(t, {
    maxRecordsPerPeer: FILES,
    maxBytesPerPeer: FILES * 2000,
    maxBytesPerAddress: FILES * 2000,
  })
  const dir = net.directory.server
  const peer = await net.raw('127.0.1.1')
  await login(net, peer)
  const batch = (from: number, n: number): FileRecord[] =>
    Array.from({ length: n }, (_, i) => recordOf(peer, `stored.file.${from + i}.part${(from + i) % 7}.mkv`))
  // The first batch warms the pool, the prepared statements and the code paths.
  await ask(net, peer, { type: 'register', records: batch(0, 1000) })
  const before = heapAfterGc()
  for (let i = 1000; i < FILES; i += 1000) await ask(net, peer, { type: 'register', records: batch(i, 1000) })
  const perFile = (heapAfterGc() - before) / (FILES - 1000)
  t.log(`directory + client heap per registered file: ${perFile.toFixed(0)} B`)
  t.true(perFile < 150, `heap per registered file ${perFile.toFixed(0)} B (a memory index: about 1,500)`)
  t.is(dir.recordsOf(peer.id), FILES)
  t.is(dir.size, FILES)
  const usage = dir.usage({ peer: peer.id })

  const again = await ask(net, peer, { type: 'register', records: batch(0, 1000) })
  t.deepEqual(again, { type: 'register', total: FILES }, 'registered again: nothing new')
  t.deepEqual(dir.usage({ peer: peer.id }), usage, 'and nothing charged twice')

  const gone = batch(0, 500).map((r) => r.hash)
  t.deepEqual(await ask(net, peer, { type: 'unregister', hashes: gone }), {
    type: 'unregister',
    removed: 500,
    total: FILES - 500,
  })
  t.is(dir.usage({ peer: peer.id }).records, FILES - 500)
  t.true(dir.usage({ peer: peer.id }).bytes < usage.bytes)

  const searcher = await net.node('127.0.2.1')
  const names = async (term: string) =>
    (await collect(searcher.overlay.search({ keywords: ['stored', term], limit: 1000 }))).map((h) => h.name)
  t.true((await names('777')).includes('stored.file.777.part0.mkv'))
  const hundred = await names('100')
  t.true(hundred.includes('stored.file.1000.part6.mkv'))
  t.false(hundred.includes('stored.file.100.part2.mkv'), 'an unregistered file is not found')

  await ask(net, peer, { type: 'logout' })
  t.deepEqual(dir.usage(), { records: 0, bytes: 0 })
  t.deepEqual(await names('777'), [], 'logged out: its rows are gone')
})

test('on PostgreSQL three Sybil keys in one address range do not outrank the real file; providers in two ranges outrank them', async (t) => {
  const net = await pgDirectory(t)
  const { real, fake } = await realAndSybils(net)
  const searcher = await net.node('127.0.2.1')
  const hits = await collect(searcher.overlay.search({ keywords: ['ubuntu', 'desktop'], limit: 1 }))
  t.deepEqual(
    hits.map((h) => [h.hash, h.providers.length]),
    [[real.hash, 1]],
    'three keys of one range count once: the real file (sorted first by name) stays first',
  )
  const other = await net.node('127.0.42.1')
  await other.overlay.publish([recordOf(other, 'Ubuntu Desktop 24.04 (mirror).iso', { content: 'malware' })])
  const again = await collect(searcher.overlay.search({ keywords: ['ubuntu', 'desktop'], limit: 1 }))
  t.deepEqual(
    again.map((h) => [h.hash, h.providers.length]),
    [[fake.hash, 4]],
    'two ranges outrank one, and every provider is listed',
  )
})

test('on PostgreSQL a batch over maxRecordsPerPeer is refused whole, naming the option; a batch re-registering what it holds is not', async (t) => {
  const net = await pgDirectory(t, { maxRecordsPerPeer: 150 })
  const peer = await net.raw('127.0.1.1')
  await login(net, peer)
  const records = Array.from({ length: 200 }, (_, i) => recordOf(peer, `limited ${i}.txt`))
  await ask(net, peer, { type: 'register', records: records.slice(0, 100) })
  const err = await t.throwsAsync(ask(net, peer, { type: 'register', records: records.slice(100) }))
  t.is(err?.name, 'RateLimitError')
  t.regex(err?.message ?? '', /maxRecordsPerPeer/)
  t.is(net.directory.server.recordsOf(peer.id), 100, 'nothing of the refused batch applied')
  t.deepEqual(await ask(net, peer, { type: 'register', records: records.slice(0, 100) }), {
    type: 'register',
    total: 100,
  })
  const searcher = await net.node('127.0.2.1')
  t.is((await collect(searcher.overlay.search({ keywords: ['limited'], limit: 1000 }))).length, 100)
})
