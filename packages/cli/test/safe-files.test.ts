import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ContentHash } from '@peerkit/core'
import test, { type ExecutionContext } from 'ava'
import { ApiClient, runCli, safeFileName } from '../src/index.js'
import { captureIo } from './helpers/capture-io.js'
import { MOVIE, shareFolder, tempDir } from './helpers/files.js'
import { inProcessNet } from './helpers/in-process.js'

/** Alice shares the movie; Bob runs the downloads; `get` runs as the command line would, in `dir`. */
async function setup(t: ExecutionContext, label: string, overlay = 'central', overlayOptions = {}) {
  const dir = await tempDir(t, label)
  const { dir: shared, movie } = await shareFolder(dir, 'alice')
  const net = await inProcessNet(t, overlay)
  const alice = await net.node({ share: [shared], overlayOptions })
  const bob = await net.node({ overlayOptions })
  const client = new ApiClient(bob.apiUrl, { token: bob.token })
  let hash = ''
  for (let i = 0; i < 20 && !hash; i++) {
    for await (const hit of client.search('harry potter', { timeout: 1000, limit: 1 })) hash = hit.hash
  }
  const get = async (...args: string[]) => {
    const c = captureIo({ cwd: dir })
    const code = await runCli(['get', ...args, '--api', bob.apiUrl, '--token', bob.token], c.io)
    return { code, stdout: c.stdout(), stderr: c.stderr() }
  }
  return { dir, movie, hash, client, get, alice }
}

test('get never replaces a file without --force, and replaces it with --force', async (t) => {
  const { dir, movie, hash, get } = await setup(t, 'force')
  const notes = join(dir, 'notes.txt')
  await writeFile(notes, 'my notes')
  const refused = await get(hash, '--out', 'notes.txt')
  t.is(refused.code, 1)
  t.is(
    refused.stderr,
    `peerkit: ${notes} exists — pass --force (force: true) to replace it, or choose another --out\n`,
  )
  t.is(await readFile(notes, 'utf8'), 'my notes')
  t.false(
    (await readdir(dir)).some((n) => n.includes('.peerkit')),
    'no download was started',
  )
  const forced = await get(hash, '--out', 'notes.txt', '--force')
  t.is(forced.code, 0, forced.stderr)
  t.true((await readFile(notes)).equals(movie))
  // A file at the staging name is not replaced either.
  await writeFile(join(dir, 'film.mkv.peerkit'), 'mine')
  const staged = await get(hash, '--out', 'film.mkv')
  t.is(staged.code, 1)
  t.regex(
    staged.stderr,
    /film\.mkv\.peerkit exists .* rename it to film\.mkv if it is the download, or move it away/,
  )
  t.is(await readFile(join(dir, 'film.mkv.peerkit'), 'utf8'), 'mine')
})

test('--out naming a folder saves the file inside it under its name; a missing folder is an error', async (t) => {
  const { dir, movie, hash, get } = await setup(t, 'folder')
  await mkdir(join(dir, 'dl'))
  const got = await get(hash, '--out', 'dl', '--json')
  t.is(got.code, 0, got.stderr)
  t.is(JSON.parse(got.stdout).path, join(dir, 'dl', MOVIE))
  t.true((await readFile(join(dir, 'dl', MOVIE))).equals(movie))
  t.deepEqual(await readdir(join(dir, 'dl')), [MOVIE], 'nothing else is left in the folder')
  const again = await get(hash, '--out', 'dl')
  t.is(again.code, 1)
  t.regex(again.stderr, new RegExp(`${MOVIE.replace(/\./g, '\\.')} exists — pass --force`))
  const missing = join(dir, 'no', 'such', 'dir')
  const lost = await get(hash, '--out', join(missing, 'x.mkv'))
  t.is(lost.code, 1)
  t.is(
    lost.stderr,
    `peerkit: the folder ${missing} does not exist — create it first, or choose another --out\n`,
  )
  await t.throwsAsync(stat(join(dir, 'no')), { code: 'ENOENT' }, 'no folder was created')
})

test('one download per output: another hash to an output in use is refused; a second output of a hash gets its own file', async (t) => {
  // On flooding with slow rings, a download of a hash nobody has keeps looking for providers (4 s here),
  // and its output stays in use meanwhile.
  const { dir, movie, hash, client, get } = await setup(t, 'busy', 'flooding', {
    flooding: { ringTimeout: 1000 },
  })
  const ghost = 'c'.repeat(64)
  const busy = join(dir, 'busy.bin')
  await client.startDownload({ hash: ghost, out: busy, providerTimeout: 4000 })
  const refused = await get(hash, '--out', 'busy.bin')
  t.is(refused.code, 1)
  t.is(
    refused.stderr,
    `peerkit: ${busy} is the output of the running download of ${ghost} — wait for it to end (peerkit status), or choose another --out\n`,
  )
  // The same hash to a second output while it runs: it ends as the download does, never "done" without the file.
  const second = await get(ghost, '--out', 'second.bin')
  t.is(second.code, 1)
  t.regex(second.stderr, /no provider of c{64} could be found/)
  await t.throwsAsync(stat(join(dir, 'second.bin')), { code: 'ENOENT' })

  // Two outputs of a real download at once: both files, each its own copy.
  const [a, b] = await Promise.all([
    get(hash, '--out', 'a.mkv', '--json'),
    get(hash, '--out', 'b.mkv', '--json'),
  ])
  t.is(a.code, 0, a.stderr)
  t.is(b.code, 0, b.stderr)
  t.is(JSON.parse(a.stdout).path, join(dir, 'a.mkv'))
  t.is(JSON.parse(b.stdout).path, join(dir, 'b.mkv'))
  t.true((await readFile(join(dir, 'a.mkv'))).equals(movie))
  t.true((await readFile(join(dir, 'b.mkv'))).equals(movie))
  t.not((await stat(join(dir, 'a.mkv'))).ino, (await stat(join(dir, 'b.mkv'))).ino, 'copies, not one file')
  t.deepEqual(
    (await readdir(dir)).filter((n) => n.includes('.peerkit')),
    [],
    'no staging file is left behind',
  )
})

test('a second output of a hash that is still looking for providers joins it and gets its own copy', async (t) => {
  const { dir, movie, hash, client, get, alice } = await setup(t, 'join', 'flooding', {
    flooding: { ringTimeout: 1000 },
  })
  // Alice stops sharing: a download of the movie keeps looking for providers until she shares it again.
  await alice.peer.unshare([hash as ContentHash])
  const first = await client.startDownload({ hash, out: join(dir, 'first.mkv'), providerTimeout: 15_000 })
  t.true(first.started)
  const second = get(hash, '--out', 'second.mkv', '--json')
  // Bounded wait until the node has taken the second output on (404 until then).
  let joined: string | undefined
  for (const deadline = Date.now() + 10_000; !joined && Date.now() < deadline; ) {
    const e = await client.download(hash, join(dir, 'second.mkv')).catch(() => undefined) // 404: not yet
    joined = e?.type
    if (!joined) await new Promise((r) => setTimeout(r, 20))
  }
  t.is(joined, 'progress', 'the second output joined the running download')
  await alice.peer.share(join(dir, 'alice'))
  const got = await second
  t.is(got.code, 0, got.stderr)
  t.is(JSON.parse(got.stdout).path, join(dir, 'second.mkv'))
  const events = []
  for await (const e of client.downloadEvents(hash, join(dir, 'first.mkv'))) events.push(e)
  t.is(events.at(-1)?.type, 'done')
  t.true((await readFile(join(dir, 'first.mkv'))).equals(movie))
  t.true((await readFile(join(dir, 'second.mkv'))).equals(movie))
  const status = await client.status()
  t.is(status.downloads.filter((d) => d.hash === hash).length, 1, 'one download served both outputs')
})

test('safeFileName keeps a remote name inside the folder and visible', (t) => {
  const hash = 'ab'.repeat(32)
  t.is(safeFileName('Harry.Potter.mkv', hash), 'Harry.Potter.mkv')
  t.is(safeFileName('../../etc/passwd', hash), '_.._etc_passwd')
  t.is(safeFileName('..', hash), hash.slice(0, 16))
  t.is(safeFileName('.bashrc', hash), 'bashrc')
  t.is(safeFileName('a\\b/c', hash), 'a_b_c')
  t.is(safeFileName('evil\x1b[2J\nfake line.txt', hash), 'evil[2Jfake line.txt')
  t.is(safeFileName('doc\u202etxt.exe', hash), 'doctxt.exe')
  t.is(safeFileName('  \x00 ', hash), hash.slice(0, 16))
  t.is(Buffer.byteLength(safeFileName('é'.repeat(300), hash)), 200)
})
