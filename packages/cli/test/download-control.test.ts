import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import type { ApiHit, DownloadEvent } from '../src/api-types.js'
import { ApiClient, runCli } from '../src/index.js'
import { type Daemon, nodeArgs, runBin, startDaemon } from './helpers/bin.js'
import { captureIo } from './helpers/capture-io.js'
import { MOVIE, shareFolder, tempDir } from './helpers/files.js'
import { inProcessNet } from './helpers/in-process.js'
import { FAST_OPTIONS } from './helpers/overlay-options.js'

/** Bound on every wait for an event. */
const WAIT = 20_000

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
  const before = await bytesOf(client, hash)
  t.true(before > 0 && before < movie.length, `${before} bytes when paused`)
  // At 150 kB/s a running download reports progress every few ms: none may come while paused (bounded wait).
  const after = events.seen.length
  const progressed = await events.next((e) => e.type === 'progress' && e.bytes > before, after, 1500)
  t.is(progressed, undefined, 'no progress while paused')
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
  t.timeout(90_000)
  const dir = await tempDir(t, 'ctl-bin')
  // 700 kB at 60 kB/s: about 12 s, so `peerkit pause` (a process that takes seconds to start on a loaded machine) finds it running.
  const options = { ...(FAST_OPTIONS.flooding ?? {}), 'transfer:default': { downloadRate: 60_000 } }
  const config = join(dir, 'config.json')
  await writeFile(config, JSON.stringify({ overlay: 'flooding', options }))
  const daemons: Daemon[] = []
  t.teardown(async () => {
    for (const d of daemons.reverse()) await d.stop()
  })
  const { dir: shared, movie } = await shareFolder(dir, 'src')
  const provider = await startDaemon(nodeArgs('flooding', undefined, '--config', config, '--share', shared))
  daemons.push(provider)
  const data = join(dir, 'data')
  const downloader = await startDaemon(
    nodeArgs('flooding', data, '--config', config, '--bootstrap', ...(provider.lines.get('listen') ?? [])),
  )
  daemons.push(downloader)
  const api = (downloader.lines.get('api')?.[0] ?? '').slice('http://'.length)
  const client = new ApiClient(api, { token: (await readFile(join(data, 'api.cookie'), 'utf8')).trim() })
  let hash: string | undefined
  for (let i = 0; i < 20 && !hash; i++)
    for await (const hit of client.search('harry potter', { timeout: 1000 }))
      if (hit.name === MOVIE) {
        hash = hit.hash
        break // found: no need to wait out the search's time limit
      }
  if (!hash) return t.fail('the downloader does not find the file')
  const h = hash
  const bin = (...args: string[]) => runBin([...args, h, '--api', api, '--data', data], { cwd: dir })

  // A `peerkit get` follows the download; pause and resume it from other processes.
  const get = runBin(['get', h, '--out', 'film.mkv', '--json', '--api', api, '--data', data], { cwd: dir })
  let events: ReturnType<typeof follow> | undefined
  for (let i = 0; i < 300 && !events; i++) {
    // The get process starts the download: follow it once the node has it (bounded: 30 s, a loaded machine starts processes slowly).
    if ((await client.status()).downloads.some((d) => d.hash === h)) events = follow(t, client, h)
    else await new Promise((r) => setTimeout(r, 100))
  }
  if (!events) return t.fail('the get did not start the download')
  t.truthy(await events.next((e) => e.type === 'progress' && e.bytes > 0), 'it runs')
  const paused = await bin('pause', '--json')
  t.is(paused.code, 0, paused.stderr)
  t.like(JSON.parse(paused.stdout), { hash: h, state: 'paused' })
  t.truthy(await events.next((e) => e.type === 'state' && e.state === 'paused'))
  const before = await bytesOf(client, h)
  const from = events.seen.length
  t.is(await events.next((e) => e.type === 'progress' && e.bytes > before, from, 1500), undefined)
  t.is(await bytesOf(client, h), before, 'bytes unchanged while paused')
  t.true(before < movie.length)
  const resumed = await bin('resume')
  t.is(resumed.code, 0, resumed.stderr)
  const got = await get
  t.is(got.code, 0, got.stderr)
  t.like(JSON.parse(got.stdout), { hash: h, size: movie.length, verified: true })
  t.true((await readFile(join(dir, 'film.mkv'))).equals(movie))

  // Nothing runs now: cancel says so (exit 1, how to list them); a bad hash is bad usage (2).
  const none = await bin('cancel')
  t.is(none.code, 1)
  t.regex(none.stderr, /peerkit status/)
  const bad = await runBin(['resume', 'abc', '--api', api, '--data', data])
  t.is(bad.code, 2)

  // Cancel a download a `peerkit get` follows: the get fails with AbortError, the .part is gone.
  await client.clearFinished()
  const get2 = runBin(['get', h, '--out', 'again.mkv', '--api', api, '--data', data], { cwd: dir })
  events = undefined
  for (let i = 0; i < 300 && !events; i++) {
    if ((await client.status()).downloads.some((d) => d.hash === h)) events = follow(t, client, h)
    else await new Promise((r) => setTimeout(r, 100))
  }
  if (!events) return t.fail('the second get did not start the download')
  t.truthy(await events.next((e) => e.type === 'progress' && e.bytes > 0))
  const cancelled = await bin('cancel')
  t.is(cancelled.code, 0, cancelled.stderr)
  const failed = await get2
  t.is(failed.code, 1)
  t.regex(failed.stderr, /AbortError|cancel/i)
  t.deepEqual(
    (await readdir(dir)).filter((f) => f.startsWith('again.mkv')),
    [],
    'no .part left',
  )
})
