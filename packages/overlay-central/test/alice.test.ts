import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { collect, createPeer, type Hit, type Peer } from '@peerkit/core'
import test from 'ava'
import '@peerkit/index-memory'
import '@peerkit/transfer'
import '@peerkit/transport-tcp'
import { type CentralOverlay, createDirectoryServer, type DirectoryServerHandle } from '../src/index.js'
import { until } from './helpers/net.js'

/** Heartbeats slow enough that a CPU-starved client is not dropped for silence (a vanished one still is, within 5 s). */
const SERVER = { heartbeatInterval: 1000, dropAfter: 5000 }
/** How long a wait over real sockets may take before the test fails: a safety bound, not a claim (claims are in virtual time). */
const WAIT = 20_000
const MOVIE = 'Harry.Potter.and.the.Chamber.of.Secrets.(2002).mkv'

async function directoryAt(listen: string): Promise<DirectoryServerHandle> {
  const directory = await createDirectoryServer({ transport: 'tcp', listen: [listen], options: SERVER })
  await directory.start()
  return directory
}

async function peerIn(
  t: { teardown(fn: () => unknown): void },
  dir: string,
  name: string,
  bootstrap: string[],
) {
  const peer = await createPeer({
    overlay: 'central',
    transport: 'tcp',
    listen: ['tcp://127.0.0.1:0'],
    bootstrap,
    dataDir: join(dir, name, 'data'),
    options: { central: { reconnectMin: 50, reconnectMax: 300 } },
    // A safety bound for a starved machine: a dial that takes longer fails the test.
    network: { dialTimeout: 30_000 },
  })
  t.teardown(() => peer.stop())
  await peer.start()
  return peer
}

const central = (peer: Peer) => peer.overlay as CentralOverlay

async function searchAll(peer: Peer, query: string): Promise<Hit[]> {
  return collect(peer.search(query, { timeout: WAIT }))
}

test('alice over TCP: registers, finds harry potter at bob and carol, downloads it byte-identical while serving bob', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'peerkit-central-alice-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const movie = randomBytes(1_500_000)
  const song = randomBytes(700_000)
  for (const who of ['alice', 'bob', 'carol']) await mkdir(join(dir, who, 'share'), { recursive: true })
  await writeFile(join(dir, 'alice', 'share', 'Alice.Song.mp3'), song)
  await writeFile(join(dir, 'bob', 'share', MOVIE), movie)
  // The same bytes under another name (one that matches the search too: a name that does not is
  // hidden behind bob's in the registry's range fold; see range-folded-index.test.ts).
  await writeFile(join(dir, 'carol', 'share', 'Harry.Potter.2002.copy.mkv'), movie)

  let directory = await directoryAt('tcp://127.0.0.1:0')
  t.teardown(() => directory.stop())
  const address = directory.addresses()[0] as string
  t.regex(address, /^tcp:\/\/127\.0\.0\.1:\d+$/)

  const bob = await peerIn(t, dir, 'bob', [address])
  const carol = await peerIn(t, dir, 'carol', [address])
  const alice = await peerIn(t, dir, 'alice', [address])
  await bob.share(join(dir, 'bob', 'share'))
  await carol.share(join(dir, 'carol', 'share'))
  const [aliceSong] = await alice.share(join(dir, 'alice', 'share'))
  t.is(directory.server.size, 3)

  const hits = await searchAll(alice, 'harry potter')
  t.is(hits.length, 1)
  const hit = hits[0] as Hit
  t.is(hit.name, MOVIE)
  t.deepEqual(hit.providers.map((p) => p.id).sort(), [bob.id, carol.id].sort())
  for (const p of hit.providers) t.regex(p.addresses[0] as string, /^tcp:\/\/127\.0\.0\.1:\d+$/)
  t.deepEqual(
    (await collect(alice.providers(hit.hash, { timeout: 5000 }))).map((p) => p.id).sort(),
    [bob.id, carol.id].sort(),
  )

  // Alice downloads the movie while Bob downloads her song from her.
  const songHit = (await searchAll(bob, 'alice song'))[0] as Hit
  t.is(songHit.hash, aliceSong?.hash as string)
  const [movieResult, songResult] = await Promise.all([
    alice.download(hit.hash, { to: join(dir, 'alice', 'got', MOVIE) }).done,
    bob.download(songHit.hash, { to: join(dir, 'bob', 'got', 'Alice.Song.mp3') }).done,
  ])
  t.true((await readFile(join(dir, 'alice', 'got', MOVIE))).equals(movie))
  t.true((await readFile(join(dir, 'bob', 'got', 'Alice.Song.mp3'))).equals(song))
  t.true(movieResult.verified)
  t.deepEqual(
    songResult.sources.map((s) => s.id),
    [alice.id],
  )
  t.true(movieResult.sources.every((s) => s.id === bob.id || s.id === carol.id))

  // The directory dies and comes back on the same address: everyone registers again by themselves.
  await directory.stop()
  t.true(await until(WAIT, () => !central(alice).connected), 'alice notices')
  await t.throwsAsync(searchAll(alice, 'harry potter'), { name: 'PeerUnreachableError' })
  directory = await directoryAt(address)
  t.true(
    await until(WAIT, () => [alice, bob, carol].every((p) => central(p).connected)),
    'every peer reconnects',
  )
  // Logged in first, then registered: wait until a search shows both providers again (one search
  // every 500 ms at most: searches have a rate limit of 10 a second).
  let again: Hit[] = []
  let last = 0
  t.true(
    await until(WAIT, async () => {
      if (Date.now() - last < 500) return false
      last = Date.now()
      again = await searchAll(alice, 'harry potter')
      return again[0]?.providers.length === 2
    }),
    'and registers again',
  )
  t.is(directory.server.size, 3)
  t.deepEqual(again[0]?.providers.map((p) => p.id).sort(), [bob.id, carol.id].sort())

  // Carol vanishes without goodbye: gone from the registry, then from the results.
  const since = Date.now()
  await carol.network.stop()
  t.true(await until(WAIT, () => directory.server.recordsOf(carol.id) === 0), 'carol is dropped')
  const now = await searchAll(alice, 'harry potter')
  t.is(now.length, 1)
  t.deepEqual(
    now[0]?.providers.map((p) => p.id),
    [bob.id],
    'carol is gone from the results',
  )
  // How soon is asserted in virtual time (central-overlay.test.ts); here, over real sockets, only that it happens.
  t.log(`carol's records gone ${Date.now() - since} ms after she vanished`)
})
