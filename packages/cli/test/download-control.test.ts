import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import type { ApiHit, DownloadEvent } from '../src/api-types.js'
import { sampleBytes } from '../src/demo/sample-files.js'
import { ApiClient, runCli } from '../src/index.js'
import { type Daemon, nodeArgs, runBin, startDaemon } from './helpers/bin.js'
import { captureIo } from './helpers/capture-io.js'
import { MOVIE, shareFolder, tempDir } from './helpers/files.js'
import { inProcessNet } from './helpers/in-process.js'
import { FAST_OPTIONS } from './helpers/overlay-options.js'

/** Bound on every wait for an event. */
const WAIT = 20_000
/** Bytes/s the real-process test's downloader fetches at: 64 KiB chunks verify about three times a second. */
const RATE = 200_000
/** The file the real-process test's commands act on. */
const LONG = 'Long.Recording.iso'

/** A provider of the movie and a downloader capped at `rate` bytes/s, so a download lasts seconds. */
async function setup(t: ExecutionContext, label: string, rate: number) {
  const net = await inProcessNet(t, 'flooding')
  const root = await tempDir(t, label)
  const { dir, movie } = await shareFolder(root, 'src')
  await net.node({ share: [dir] })
  const node = await net.node({ overlayOptions: { 'transfer:default': { downloadRate: rate } } })
  const client = new ApiClient(node.apiUrl.slice('http://'.length), { token: node.token })
  let found: ApiHit | undefined
  for (let i = 0; i < 20 && !found; i++)
    for await (const hit of client.search('harry potter', { timeout: 1000 }))
      if (hit.name === MOVIE) {
        found = hit
        break // found: no need to wait out the search's time limit
      }
  if (!found) throw new Error('the downloader does not find the file')
  return { node, client, movie, hash: found.hash, out: join(root, 'out') }
}

/** The download's event stream, read into a list; `next(pred)` waits (bounded) for a matching event. */
function follow(t: ExecutionContext, client: ApiClient, hash: string) {
  const seen: DownloadEvent[] = []
  const waiters = new Set<() => void>()
  const stream = client.downloadEvents(hash)
  const reading = (async () => {
    for await (const e of stream) {
      seen.push(e)
      for (const w of waiters) w()
    }
  })()
  t.teardown(() => void stream.return(undefined))
  return {
    seen,
    reading,
    /** The first event from index `from` on that matches, or undefined after `ms`. */
    next(pred: (e: DownloadEvent) => boolean, from = 0, ms = WAIT): Promise<DownloadEvent | undefined> {
      return new Promise((resolve) => {
        const check = () => {
          const e = seen.slice(from).find(pred)
          if (!e) return false
          waiters.delete(check)
          clearTimeout(timer)
          resolve(e)
          return true
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          resolve(undefined)
        }, ms)
        waiters.add(check)
        check()
      })
    },
  }
}

/** The verified bytes as the node's last progress of the download says (`GET /downloads/:hash`). */
async function bytesOf(client: ApiClient, hash: string): Promise<number> {
  const e = await client.download(hash)
  return e.type === 'progress' ? e.bytes : -1
}

/**
 * The bytes of a paused download once they settle, and whether they did. A chunk already on its way as
 * the pause came can still land after the `paused` event: once its progress came between reading the
 * bytes and watching for progress, once the bytes grew by a chunk with no progress event for 1.5 s (1 of
 * 6 runs). Settled: 1.5 s with no progress past the bytes read and the same bytes read again after. A
 * download the pause did not stop never settles in 3 tries (a chunk lands every 0.3-0.5 s).
 */
async function settle(events: ReturnType<typeof follow>, client: ApiClient, hash: string) {
  for (let i = 0; i < 3; i++) {
    const from = events.seen.length // before the bytes are read: a progress past them cannot slip in between
    const before = await bytesOf(client, hash)
    const moved = await events.next((e) => e.type === 'progress' && e.bytes > before, from, 1500)
    if (!moved && (await bytesOf(client, hash)) === before) return { before, quiet: true, from }
  }
  return { before: await bytesOf(client, hash), quiet: false, from: events.seen.length }
}

test('pause stops the download (no progress, bytes unchanged), resume completes it verified', async (t) => {
  const { client, movie, hash, out } = await setup(t, 'ctl-pause', 150_000)
  const { mkdir } = await import('node:fs/promises')
  await mkdir(out)
  await client.startDownload({ hash, out: join(out, 'copy.mkv') })
  const events = follow(t, client, hash)
  t.truthy(await events.next((e) => e.type === 'progress' && e.bytes > 0), 'it runs')
  const paused = await client.pause(hash)
  t.is(paused.state, 'paused')
  t.truthy(
    await events.next((e) => e.type === 'state' && e.state === 'paused'),
    'the state event says paused',
  )
  // At 150 kB/s a running download reports progress every few ms: once settled, none may come while paused.
  const { before, quiet } = await settle(events, client, hash)
  t.true(quiet, 'no progress while paused')
  t.true(before > 0 && before < movie.length, `${before} bytes when paused`)
  t.is(await bytesOf(client, hash), before, 'bytes unchanged while paused')
  t.like(
    (await client.status()).downloads.find((d) => d.hash === hash),
    { state: 'paused' },
  )
  const resumed = await client.resume(hash)
  t.not(resumed.state, 'paused')
  const done = await events.next((e) => e.type === 'done' || e.type === 'error')
  t.like(done, { type: 'done', result: { verified: true, size: movie.length } })
  t.true((await readFile(join(out, 'copy.mkv'))).equals(movie), 'the file is the shared one')
  // Cleared: the finished download is forgotten.
  t.deepEqual(await client.clearFinished(), { cleared: 1 })
  t.deepEqual((await client.status()).downloads, [])
  const again = await client.pause(hash).catch((e: Error) => e)
  t.is((again as Error).name, 'NotFoundError')
  t.regex((again as Error).message, /peerkit status/)
})

test('cancel removes the .part; cancel --keep-part (DELETE ?keep=1) keeps it; the CLI commands and their exit codes', async (t) => {
  const { client, hash, out } = await setup(t, 'ctl-cancel', 100_000)
  const { mkdir } = await import('node:fs/promises')
  await mkdir(out)
  const api = client.address.host === '127.0.0.1' ? `127.0.0.1:${client.address.port}` : ''
  const token = (client as unknown as { options: { token: string } }).options.token
  const cli = async (...args: string[]) => {
    const c = captureIo()
    const code = await runCli([...args, '--api', api, '--token', token], c.io)
    return { code, stdout: c.stdout(), stderr: c.stderr() }
  }

  // Cancel through the CLI: the .part goes.
  await client.startDownload({ hash, out: join(out, 'a.mkv') })
  let events = follow(t, client, hash)
  t.truthy(await events.next((e) => e.type === 'progress' && e.bytes > 0))
  const paused = await cli('pause', hash, '--json')
  t.is(paused.code, 0, paused.stderr)
  t.like(JSON.parse(paused.stdout), { hash, state: 'paused' })
  const resumed = await cli('resume', hash)
  t.is(resumed.code, 0, resumed.stderr)
  t.regex(resumed.stdout, new RegExp(`^resumed ${hash}`))
  const cancelled = await cli('cancel', hash)
  t.is(cancelled.code, 0, cancelled.stderr)
  t.regex(cancelled.stdout, /cancelled .*\.part is removed/)
  t.like(await events.next((e) => e.type === 'error'), { type: 'error', error: { name: 'AbortError' } })
  t.like(
    (await client.status()).downloads.find((d) => d.hash === hash),
    { state: 'cancelled' },
  )
  t.deepEqual(
    (await readdir(out)).filter((f) => f.startsWith('a.mkv')),
    [],
    'nothing of the cancelled download is left',
  )
  // Unknown download: exit 1, says how to list them; a bad hash: exit 2.
  const unknown = await cli('cancel', hash)
  t.is(unknown.code, 1)
  t.regex(unknown.stderr, /no running download .*peerkit status/)
  t.is((await cli('pause', 'not-a-hash')).code, 2)

  // Cancel keeping the .part (API: DELETE ?keep=1).
  t.deepEqual(await client.clearFinished(), { cleared: 1 })
  await client.startDownload({ hash, out: join(out, 'b.mkv') })
  events = follow(t, client, hash)
  t.truthy(await events.next((e) => e.type === 'progress' && e.bytes > 0))
  t.like(await client.cancel(hash, { keepPart: true }), { cancelled: true, keepPart: true })
  t.like(await events.next((e) => e.type === 'error'), { type: 'error', error: { name: 'AbortError' } })
  const left = (await readdir(out)).filter((f) => f.startsWith('b.mkv'))
  t.true(
    left.some((f) => f.endsWith('.part')),
    `the .part is kept: ${left.join(', ')}`,
  )
})

test('real `peerkit node` processes: `peerkit pause`, `resume` and `cancel` drive a download a `peerkit get` follows', async (t) => {
  const dir = await tempDir(t, 'ctl-bin')
  const options = { ...(FAST_OPTIONS.flooding ?? {}), 'transfer:default': { downloadRate: RATE } }
  const config = join(dir, 'config.json')
  await writeFile(config, JSON.stringify({ overlay: 'flooding', options }))
  const daemons: Daemon[] = []
  t.teardown(async () => {
    for (const d of daemons.reverse()) await d.stop()
  })
  const { dir: shared, movie } = await shareFolder(dir, 'src')
  // The commands act on this one: 32 MiB at RATE is 168 s, so it is still running however slowly a
  // `peerkit pause`, `resume` or `cancel` process starts (the 700 kB movie at 60 kB/s, 12 s, had once ended
  // before `peerkit pause` came); it is cancelled, never downloaded whole.
  await writeFile(join(shared, LONG), sampleBytes(LONG, 32 * 1024 * 1024))
  const provider = await startDaemon(nodeArgs('flooding', undefined, '--config', config, '--share', shared))
  daemons.push(provider)
  const data = join(dir, 'data')
  const downloader = await startDaemon(
    nodeArgs('flooding', data, '--config', config, '--bootstrap', ...(provider.lines.get('listen') ?? [])),
  )
  daemons.push(downloader)
  const api = (downloader.lines.get('api')?.[0] ?? '').slice('http://'.length)
  const client = new ApiClient(api, { token: (await readFile(join(data, 'api.cookie'), 'utf8')).trim() })
  // The provider hashes 32 MiB before it publishes: bounded by a minute, not by a count of searches.
  const find = async (query: string, name: string) => {
    for (const end = Date.now() + 60_000; Date.now() < end; ) {
      for await (const hit of client.search(query, { timeout: 1000 })) {
        if (hit.name === name) return hit.hash // found: no need to wait out the search's time limit
      }
    }
    return undefined
  }
  const long = await find('long', LONG)
  if (!long) return t.fail(`the downloader does not find ${LONG}`)
  // The get of the long download lives until it is cancelled: past runBin's default 30 s on a loaded machine.
  const bin = (...args: string[]) =>
    runBin([...args, '--api', api, '--data', data], { cwd: dir, timeout: 180_000 })

  // A `peerkit get` follows the long download; other processes pause, resume and cancel it.
  const get = bin('get', long, '--out', 'long.iso')
  const events = await followOnceStarted(t, client, long, 60_000)
  if (!events) return t.fail('the get did not start the download')
  t.truthy(await events.next((e) => e.type === 'progress' && e.bytes > 0), 'it runs')
  const paused = await bin('pause', long, '--json')
  t.is(paused.code, 0, paused.stderr)
  t.like(JSON.parse(paused.stdout), { hash: long, state: 'paused' })
  t.truthy(
    await events.next((e) => e.type === 'state' && e.state === 'paused'),
    'the state event says paused',
  )
  // At RATE a running download verifies a 64 KiB chunk every 0.3 s: once settled, none may come while paused.
  const { before, quiet, from } = await settle(events, client, long)
  t.true(quiet, 'no progress while paused')
  t.true(before > 0 && before < 32 * 1024 * 1024, `${before} bytes when paused`)
  t.is(await bytesOf(client, long), before, 'bytes unchanged while paused')
  const resumed = await bin('resume', long)
  t.is(resumed.code, 0, resumed.stderr)
  t.regex(resumed.stdout, new RegExp(`^resumed ${long}`))
  t.truthy(
    await events.next((e) => e.type === 'progress' && e.bytes > before, from),
    'it runs again once resumed',
  )
  const cancelled = await bin('cancel', long)
  t.is(cancelled.code, 0, cancelled.stderr)
  t.regex(cancelled.stdout, /cancelled .*\.part is removed/)
  t.like(await events.next((e) => e.type === 'error'), { type: 'error', error: { name: 'AbortError' } })
  const failed = await get
  t.is(failed.code, 1, 'the get that followed it fails')
  t.regex(failed.stderr, /AbortError|cancel|stopped/i)
  t.deepEqual(
    (await readdir(dir)).filter((f) => f.startsWith('long.iso')),
    [],
    'no .part left',
  )

  // Nothing runs now: cancel says so (exit 1, how to list them); a bad hash is bad usage (2).
  const none = await bin('cancel', long)
  t.is(none.code, 1)
  t.regex(none.stderr, /no running download .*peerkit status/)
  t.is((await bin('resume', 'abc')).code, 2)

  // A `peerkit get` process starts the movie's download itself (nothing to race) and ends with it, verified.
  const hash = await find('harry potter', MOVIE)
  if (!hash) return t.fail('the downloader does not find the movie')
  const got = await bin('get', hash, '--out', 'film.mkv', '--json')
  t.is(got.code, 0, got.stderr)
  t.like(JSON.parse(got.stdout), { hash, size: movie.length, verified: true })
  t.true((await readFile(join(dir, 'film.mkv'))).equals(movie))
})

/** Follows the download of `hash` once the node has it (a `peerkit get` process starts it): undefined after `ms`. */
async function followOnceStarted(t: ExecutionContext, client: ApiClient, hash: string, ms: number) {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if ((await client.status()).downloads.some((d) => d.hash === hash)) return follow(t, client, hash)
    await new Promise((r) => setTimeout(r, 100)) // polls the node: a process start signals nothing to wait on
  }
  return undefined
}
