import { appendFile, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ContentHash, PeerRef } from '@peerkit/core'
import test from 'ava'
import { ApiClient, runCli } from '../src/index.js'
import { captureIo } from './helpers/capture-io.js'
import { tempDir } from './helpers/files.js'
import { inProcessNet } from './helpers/in-process.js'

/** Waits (real time: file-system events) until `check` holds, at most `ms`. */
async function until(check: () => boolean | Promise<boolean>, ms = 15_000): Promise<boolean> {
  const end = Date.now() + ms
  for (;;) {
    if (await check()) return true
    if (Date.now() > end) return false
    await new Promise((r) => setTimeout(r, 50))
  }
}

const bytes = (n: number, seed: number) =>
  Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff))

test('a shared folder follows the disk: new files published, changed ones re-hashed (the old hash withdrawn), deleted ones unshared and no longer served; hidden files and symlinks left out and listed', async (t) => {
  const dir = await tempDir(t, 'live')
  const shared = join(dir, 'shared')
  await mkdir(join(shared, '.ssh'), { recursive: true })
  await writeFile(join(shared, 'film.mkv'), bytes(200_000, 1))
  await writeFile(join(shared, '.hidden.secret.txt'), 'secret')
  await writeFile(join(shared, 'old.iso.part'), 'a download that never finished')
  await writeFile(join(shared, '.ssh', 'id_ed25519'), 'key')
  await symlink(join(shared, 'film.mkv'), join(shared, 'link.mkv'))
  const net = await inProcessNet(t, 'central')
  const alice = await net.node({ share: [shared] })
  const bob = await net.node({})
  const registry = alice.api.shares
  const fileOf = (name: string) => registry.list()[0]?.files.find((f) => f.name === name)
  const [folder] = registry.list()
  t.deepEqual(
    folder?.files.map((f) => f.name),
    ['film.mkv'],
  )
  t.deepEqual(
    folder?.skipped.map((s) => [s.path.slice(shared.length + 1), s.reason]),
    [
      ['.hidden.secret.txt', 'hidden'],
      ['.ssh', 'hidden'],
      ['link.mkv', 'symlink'],
      ['old.iso.part', 'ignored'],
    ],
  )
  const aliceRef: PeerRef = { id: alice.peer.id, addresses: alice.peer.addresses() }
  const fetchFrom = (hash: ContentHash, name: string) =>
    bob.peer.download(hash, { to: join(dir, `bob-${name}`), providers: [aliceRef] }).done

  // A new file: published once it has settled, found by another peer, downloadable.
  await writeFile(join(shared, 'new-song.flac'), bytes(100_000, 2))
  t.true(await until(() => fileOf('new-song.flac') !== undefined), 'the new file is shared')
  await registry.settled()
  const song = fileOf('new-song.flac') as { hash: ContentHash }
  const found: string[] = []
  for await (const hit of bob.peer.search('song', { timeout: 2000 })) found.push(hit.name)
  t.deepEqual(found, ['new-song.flac'])
  t.deepEqual(await readFile((await fetchFrom(song.hash, 'song')).path), bytes(100_000, 2))

  // A changed file: hashed again, published under its new hash; the old hash is neither listed nor served.
  const old = fileOf('film.mkv') as { hash: ContentHash }
  await appendFile(join(shared, 'film.mkv'), 'a new ending')
  t.true(await until(() => fileOf('film.mkv')?.hash !== old.hash), 'the changed file is hashed again')
  await registry.settled()
  const changed = fileOf('film.mkv') as { hash: ContentHash; size: number }
  t.is(changed.size, 200_000 + 'a new ending'.length)
  await t.throwsAsync(fetchFrom(old.hash, 'old-film'), { message: /not shared here|changed on the provider/ })
  t.is(
    (await readFile((await fetchFrom(changed.hash, 'film')).path)).length,
    changed.size,
    'the new version downloads',
  )
  const oldHits: string[] = []
  for await (const hit of bob.peer.search(old.hash, { timeout: 1000 })) oldHits.push(hit.hash)
  t.deepEqual(oldHits, [], 'the old hash is no longer published')

  // A deleted file: unshared, no longer served.
  await rm(join(shared, 'new-song.flac'))
  t.true(await until(() => fileOf('new-song.flac') === undefined), 'the deleted file is unshared')
  await registry.settled()
  await t.throwsAsync(fetchFrom(song.hash, 'song-again'), { message: /not shared here/ })
  t.is(alice.peer.status().shares, 1)

  // A new hidden file stays out, and so does a download in progress (its .part, sidecar and staging file).
  await writeFile(join(shared, '.new-secret'), 'x')
  await writeFile(join(shared, 'film2.mkv.peerkit.part'), bytes(70_000, 7))
  await writeFile(join(shared, 'film2.mkv.peerkit.part.json'), '{}')
  await writeFile(join(shared, 'marker.txt'), 'y')
  t.true(await until(() => fileOf('marker.txt') !== undefined))
  await registry.settled()
  t.deepEqual(
    registry
      .list()[0]
      ?.files.map((f) => f.name)
      .sort(),
    ['film.mkv', 'marker.txt'],
  )
})

test('peerkit share add, list and remove drive the API; the shares survive a restart (DATA/shares.json); a finished download is shared back', async (t) => {
  const dir = await tempDir(t, 'share-cmd')
  const films = join(dir, 'films')
  const music = join(dir, 'music')
  await mkdir(films, { recursive: true })
  await mkdir(music, { recursive: true })
  await writeFile(join(films, 'a.mkv'), bytes(70_000, 3))
  await writeFile(join(films, '.DS_Store'), 'x')
  await writeFile(join(music, 'b.flac'), bytes(80_000, 4))
  const net = await inProcessNet(t, 'central')
  const data = join(dir, 'alice-data')
  const alice = await net.node({ dataDir: data })
  const client = ['--api', new URL(alice.apiUrl).host, '--token', alice.token]
  const run = async (...args: string[]) => {
    const c = captureIo({ cwd: dir })
    const code = await runCli([...args, ...client], c.io)
    return { code, out: c.stdout(), err: c.stderr() }
  }
  const added = await run('share', 'add', 'films')
  t.is(added.code, 0, added.err)
  t.regex(added.out, /films: 1 file, .*1 left out\n {2}left out \(hidden\): .*\.DS_Store/)
  t.is((await run('share', 'add', 'music')).code, 0)
  const listed = await run('share', 'list', '--json')
  const shares = (JSON.parse(listed.out) as { shares: Array<{ path: string; files: unknown[] }> }).shares
  t.deepEqual(
    shares.map((s) => [s.path, s.files.length]),
    [
      [films, 1],
      [music, 1],
    ],
  )
  t.is((await run('share', 'remove', 'music')).code, 0)
  t.regex((await run('share', 'remove', 'music')).err, /is not shared/)
  t.deepEqual(JSON.parse(await readFile(join(data, 'shares.json'), 'utf8')), {
    version: 1,
    shares: [{ path: films }],
  })

  // A restart with the same data folder shares the same folders again.
  await alice.stop()
  const again = await net.node({ dataDir: data })
  t.deepEqual(
    again.api.shares.list().map((f) => [f.path, f.files.map((x) => x.name)]),
    [[films, ['a.mkv']]],
  )

  // Another peer downloads a.mkv: once verified, it shares it back.
  const bob = await net.node({})
  const bobClient = new ApiClient(bob.apiUrl, { token: bob.token })
  const hash = again.api.shares.list()[0]?.files[0]?.hash as string
  const out = join(dir, 'bob-a.mkv')
  await bobClient.startDownload({ hash, out, providerTimeout: 5000 })
  let end: unknown
  for await (const event of bobClient.downloadEvents(hash, out)) end = event
  t.is((end as { type: string }).type, 'done', JSON.stringify(end))
  t.true(
    await until(() => bob.api.shares.list().some((f) => f.path === out && f.download === true)),
    'the download is shared back',
  )
  t.is(bob.peer.status().shares, 1)

  // The shared download is deleted: it is unshared and leaves the list (and the saved list).
  await rm(out)
  t.true(
    await until(() => !bob.api.shares.list().some((f) => f.path === out)),
    'a deleted shared file leaves the list',
  )
  await bob.api.shares.settled()
  t.is(bob.peer.status().shares, 0)
})
