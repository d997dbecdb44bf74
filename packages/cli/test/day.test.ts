import { appendFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import { ApiClient, type ApiHit, type DownloadEvent } from '../src/index.js'
import { type Daemon, nodeArgs, runBin, startDaemon } from './helpers/bin.js'
import { tempDir } from './helpers/files.js'
import { FAST_OPTIONS, OVERLAYS } from './helpers/overlay-options.js'

/**
 * A day of use, compressed, against real `peerkit node` processes on TCP, on
 * each overlay. The nodes run on the real clock (a process takes no virtual
 * one): the day is short because its timers are scaled down by options, the
 * same code paths with smaller numbers (the overlays' FAST_OPTIONS, a 200 ms
 * settle time for changed files, a download rate that makes a download last
 * seconds). PEERKIT_LONG_ATTACKS=1 runs more rounds of changes.
 */
const ROUNDS = process.env.PEERKIT_LONG_ATTACKS ? 4 : 1
const RATE = 1_000_000
const MiB = 1024 * 1024

const bytes = (n: number, seed: number) => {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = (i * 131 + seed * 7 + (i >> 11)) & 0xff
  return b
}

/** Waits (real processes) until `check` answers something truthy, at most `ms`; undefined after. */
async function until<T>(check: () => Promise<T | undefined | false>, ms = 30_000): Promise<T | undefined> {
  const end = Date.now() + ms
  for (;;) {
    const v = await check().catch(() => undefined)
    if (v) return v
    if (Date.now() > end) return undefined
    await new Promise((r) => setTimeout(r, 250))
  }
}

interface Node {
  daemon: Daemon
  client: ApiClient
  api: string
  data: string
  id: string
  listen: string[]
}

async function searchAll(client: ApiClient, query: string): Promise<ApiHit[]> {
  const hits: ApiHit[] = []
  for await (const hit of client.search(query, { timeout: 1500 })) hits.push(hit)
  return hits
}

/**
 * The first hit of a search that `match` accepts, without waiting for the
 * search's time limit once it has come (a search collects hits for its whole
 * `timeout`; the checks that something is no longer found still wait for it).
 */
async function firstHit(client: ApiClient, query: string, match: (hit: ApiHit) => boolean) {
  for await (const hit of client.search(query, { timeout: 1500 })) if (match(hit)) return hit
  return undefined
}

/** Whether a search for `hash` finds `id` as a provider, as soon as it does. */
async function provides(client: ApiClient, hash: string, id: string): Promise<boolean> {
  return (await firstHit(client, hash, (hit) => hit.providers.some((p) => p.id === id))) !== undefined
}

/** Providers of `hash` the node finds, by id. */
async function providersOf(client: ApiClient, hash: string): Promise<string[]> {
  const ids = new Set<string>()
  for (const hit of await searchAll(client, hash)) for (const p of hit.providers) ids.add(p.id)
  return [...ids].sort()
}

/** Follows a download of the node to `out` until it ends; the last event. */
async function finish(client: ApiClient, hash: string, out: string): Promise<DownloadEvent | undefined> {
  let last: DownloadEvent | undefined
  for await (const e of client.downloadEvents(hash, out)) last = e
  return last
}

async function day(t: ExecutionContext, overlay: string): Promise<void> {
  const dir = await tempDir(t, `day-${overlay}`)
  // Each node's config file holds everything: overlay, its fast timers, a download rate, a short settle time.
  const config = join(dir, 'config.json')
  await writeFile(
    config,
    JSON.stringify({
      overlay,
      options: {
        ...(FAST_OPTIONS[overlay] ?? {}),
        'transfer:default': { downloadRate: RATE, providerWait: 60_000, maxActiveDownloads: 1 },
      },
      shareSettleTime: 200,
    }),
  )
  const daemons = new Set<Daemon>()
  t.teardown(async () => {
    for (const d of daemons) await d.stop()
  })
  let bootstrap: string[] = []
  if (overlay === 'central') {
    const directory = await startDaemon(['directory', '--listen', 'tcp://127.0.0.1:0', '--log-level', 'warn'])
    daemons.add(directory)
    bootstrap = directory.lines.get('listen') ?? []
  }
  const start = async (name: string, via: string[], listen = 'tcp://127.0.0.1:0'): Promise<Node> => {
    const data = join(dir, `${name}-data`)
    const args = nodeArgs(overlay, data, '--config', config, ...(via.length ? ['--bootstrap', ...via] : []))
    args[args.indexOf('tcp://127.0.0.1:0')] = listen
    const daemon = await startDaemon(args, 30_000)
    daemons.add(daemon)
    const api = (daemon.lines.get('api')?.[0] ?? '').slice('http://'.length)
    const token = (await readFile(join(data, 'api.cookie'), 'utf8')).trim()
    return {
      daemon,
      client: new ApiClient(api, { token }),
      api,
      data,
      id: daemon.lines.get('peer')?.[0] ?? '',
      listen: daemon.lines.get('listen') ?? [],
    }
  }
  // A generous bound: a command process can take many seconds to start on a loaded machine.
  const cli = (node: Node, ...args: string[]) =>
    runBin([...args, '--api', node.api, '--data', node.data], { cwd: dir, timeout: 90_000 })

  // Morning: Alice shares her films folder with `peerkit share add`; Bob and Carol join.
  const films = join(dir, 'films')
  await mkdir(films, { recursive: true })
  await writeFile(join(films, 'holiday.mkv'), bytes(300_000, 1))
  let alice = await start('alice', bootstrap)
  const via = overlay === 'central' ? bootstrap : alice.listen
  const bob = await start('bob', via)
  const carol = await start('carol', overlay === 'central' ? bootstrap : [...via, ...bob.listen])
  const added = await cli(alice, 'share', 'add', 'films')
  t.is(added.code, 0, added.stderr)
  const aliceListen = alice.listen[0] as string

  const dl = join(dir, 'downloads')
  await mkdir(dl, { recursive: true })
  for (let round = 0; round < ROUNDS; round++) {
    // A new file appears in the shared folder: found and downloaded by Carol, verified; Carol shares it back.
    const song = bytes(200_000 + round, 10 + round)
    await writeFile(join(films, `song-${round}.flac`), song)
    const songHit = await until(() =>
      firstHit(carol.client, `song ${round}`, (h) => h.name === `song-${round}.flac`),
    )
    if (!songHit) return t.fail(`${overlay}: round ${round}: the new file is not found`)
    const songOut = join(dl, `carol-song-${round}.flac`)
    await carol.client.startDownload({ hash: songHit.hash, out: songOut })
    t.is((await finish(carol.client, songHit.hash, songOut))?.type, 'done')
    t.true((await readFile(songOut)).equals(song))
    t.truthy(
      await until(async () => (await carol.client.shares()).some((f) => f.path === songOut && f.download)),
      'Carol shares the download back',
    )

    // A file is changed: hashed again; the old hash is withdrawn, the new one found and downloaded.
    const before = (await alice.client.shares())[0]?.files.find((f) => f.name === 'holiday.mkv')?.hash
    await appendFile(join(films, 'holiday.mkv'), `edit ${round}`)
    const changed = await until(async () => {
      const h = (await alice.client.shares())[0]?.files.find((f) => f.name === 'holiday.mkv')?.hash
      return h !== before ? h : undefined
    })
    if (!changed) return t.fail(`${overlay}: round ${round}: the changed file is not hashed again`)
    t.truthy(
      await until(async () => !(await providersOf(carol.client, before as string)).includes(alice.id)),
      'the old hash is no longer offered by Alice',
    )
    const holidayOut = join(dl, `carol-holiday-${round}.mkv`)
    t.truthy(await until(() => provides(carol.client, changed, alice.id)))
    await carol.client.startDownload({ hash: changed, out: holidayOut })
    t.is((await finish(carol.client, changed, holidayOut))?.type, 'done')
    t.true((await readFile(holidayOut)).equals(await readFile(join(films, 'holiday.mkv'))))

    // A file is deleted: Alice no longer offers it; Carol (who downloaded it) still does.
    await rm(join(films, `song-${round}.flac`))
    t.truthy(
      await until(async () => {
        const ids = await providersOf(bob.client, songHit.hash)
        return ids.includes(carol.id) && !ids.includes(alice.id)
      }),
      `${overlay}: after the delete only Carol provides the song`,
    )
  }

  // Afternoon: `peerkit pause`, `resume` and `cancel` drive one of Bob's downloads while another waits
  // in the queue (maxActiveDownloads 1). They act on a download of 32 MiB (32 s at RATE), never
  // downloaded whole: a `peerkit` process takes seconds to start on a loaded machine, and twice a
  // download of 8 MiB had ended before `peerkit pause` or `peerkit cancel` came ('no running download').
  const long = bytes(32 * MiB, 6)
  await writeFile(join(films, 'long.mkv'), long)
  const longHit = await until(() => firstHit(bob.client, 'long', (h) => h.name === 'long.mkv'))
  const holiday = await until(() =>
    firstHit(bob.client, 'holiday', (h) => h.providers.some((p) => p.id === alice.id)),
  )
  if (!longHit || !holiday) return t.fail(`${overlay}: long.mkv or holiday.mkv not found`)
  const longOut = join(dl, 'bob-long.mkv')
  const holidayOut = join(dl, 'bob-holiday-queued.mkv')
  await bob.client.startDownload({ hash: longHit.hash, out: longOut })
  t.truthy(
    await until(
      async () =>
        (await bob.client.download(longHit.hash, longOut)).type === 'progress' &&
        (await bytesNow(bob, longHit.hash)) > 0,
    ),
  )
  const paused = await cli(bob, 'pause', longHit.hash, '--json')
  t.is(paused.code, 0, `${paused.stderr} ${JSON.stringify(await bob.client.download(longHit.hash, longOut))}`)
  t.like(JSON.parse(paused.stdout), { state: 'paused' })
  // A chunk already on its way as the pause came may still land (the transfer documents it, at most its
  // window): the bytes must stop moving within three 1 s looks. A download the pause did not stop never
  // does: at RATE a 64 KiB chunk lands every 65 ms.
  let held = await bytesNow(bob, longHit.hash)
  let quiet = false
  for (let look = 0; look < 3 && !quiet; look++) {
    await new Promise((r) => setTimeout(r, 1000)) // real processes: no event says "nothing arrived"
    const now = await bytesNow(bob, longHit.hash)
    quiet = now === held
    held = now
  }
  t.true(quiet, `nothing arrives while paused (bytes still moving at ${held})`)
  t.true(held < long.length)
  t.is((await cli(bob, 'resume', longHit.hash)).code, 0)
  t.truthy(await until(async () => (await bytesNow(bob, longHit.hash)) > held), 'it runs again once resumed')
  await bob.client.startDownload({ hash: holiday.hash, out: holidayOut })
  t.truthy(
    await until(
      async () =>
        (await bob.client.status()).downloads.find((d) => d.hash === holiday.hash)?.state === 'queued',
    ),
    'the second download is queued (maxActiveDownloads 1)',
  )
  const cancelled = await cli(bob, 'cancel', longHit.hash)
  t.is(
    cancelled.code,
    0,
    `${cancelled.stderr} ${JSON.stringify(await bob.client.download(longHit.hash, longOut))}`,
  )
  t.like(await finish(bob.client, longHit.hash, longOut), { type: 'error', error: { name: 'AbortError' } })
  t.is(
    (await finish(bob.client, holiday.hash, holidayOut))?.type,
    'done',
    'the queued one runs once the slot is free',
  )
  const leftovers = (await readdir(dl)).filter((f) => f.startsWith('bob-long'))
  t.deepEqual(leftovers, [], 'the cancelled download leaves no .part')

  // A download paused and resumed (through the API the commands call, so no process start to race)
  // ends complete and verified.
  const big = bytes(4 * MiB, 5)
  await writeFile(join(films, 'big.iso'), big)
  const bigHit = await until(() => firstHit(bob.client, 'big iso', (h) => h.name === 'big.iso'))
  if (!bigHit) return t.fail(`${overlay}: big.iso not found`)
  const bigOut = join(dl, 'bob-big.iso')
  await bob.client.startDownload({ hash: bigHit.hash, out: bigOut })
  t.truthy(await until(async () => (await bytesNow(bob, bigHit.hash)) > 0))
  t.like(await bob.client.pause(bigHit.hash), { state: 'paused' })
  t.true((await bytesNow(bob, bigHit.hash)) < big.length)
  t.not((await bob.client.resume(bigHit.hash)).state, 'paused')
  t.is((await finish(bob.client, bigHit.hash, bigOut))?.type, 'done')
  t.true((await readFile(bigOut)).equals(big))

  // An overwrite is refused without --force, the file untouched.
  await writeFile(join(dl, 'notes.txt'), 'mine')
  const refused = await cli(bob, 'get', bigHit.hash, '--out', join(dl, 'notes.txt'))
  t.is(refused.code, 1)
  t.regex(refused.stderr, /--force/)
  t.is(await readFile(join(dl, 'notes.txt'), 'utf8'), 'mine')

  // Evening: a download that waits for its provider to come back. Carol starts one of a file only
  // Alice has; Alice stops (the download waits), comes back on the same address with the same data
  // folder (her shares come back from DATA/shares.json), and the download completes.
  const late = bytes(3 * MiB, 9)
  await writeFile(join(films, 'late.mkv'), late)
  const lateHit = await until(() => firstHit(carol.client, 'late', (h) => h.name === 'late.mkv'))
  if (!lateHit) return t.fail(`${overlay}: late.mkv not found`)
  const lateOut = join(dl, 'carol-late.mkv')
  await carol.client.startDownload({ hash: lateHit.hash, out: lateOut })
  t.truthy(await until(async () => (await bytesNow(carol, lateHit.hash)) > 0))
  t.is(await alice.daemon.stop(), 0)
  daemons.delete(alice.daemon)
  t.truthy(
    await until(
      async () =>
        (await carol.client.status()).downloads.find((d) => d.hash === lateHit.hash)?.state === 'waiting',
    ),
    `${overlay}: the download waits for a provider`,
  )
  // Meanwhile Bob gets the holiday film from Carol, who downloaded it: the downloader is now a provider.
  const last = (await carol.client.shares()).find((f) => f.path.includes('carol-holiday'))?.files[0]
  t.truthy(last, 'Carol shares the holiday film she downloaded')
  if (last) {
    // Alice may have been the overlay's hub (supernode, a chord neighbour): the network finds Carol again first.
    t.truthy(
      await until(() => provides(bob.client, last.hash, carol.id)),
      `${overlay}: with Alice gone, Bob finds Carol as a provider`,
    )
    const fromCarol = join(dl, 'bob-holiday.mkv')
    await bob.client.startDownload({ hash: last.hash, out: fromCarol })
    const end = await finish(bob.client, last.hash, fromCarol)
    t.is(end?.type, 'done', JSON.stringify(end))
    if (end?.type === 'done')
      t.deepEqual(
        end.result.sources.map((s) => s.id),
        [carol.id],
      )
  }
  alice = await start('alice', bootstrap.length ? bootstrap : [...bob.listen], aliceListen)
  t.deepEqual(
    (await alice.client.shares()).map((f) => f.path),
    [films],
    'the shares come back after a restart',
  )
  const lateEnd = await finish(carol.client, lateHit.hash, lateOut)
  t.is(lateEnd?.type, 'done', JSON.stringify(lateEnd))
  t.true((await readFile(lateOut)).equals(late))
  const list = await cli(alice, 'share', 'list')
  t.regex(list.stdout, /films: \d+ files/, `exit ${list.code}: ${list.stderr}`)
}

async function bytesNow(node: Node, hash: string): Promise<number> {
  return (await node.client.status()).downloads.find((d) => d.hash === hash)?.bytes ?? 0
}

// Serial: each day runs four or five node processes; four days at once would starve each other on a small machine.
for (const overlay of OVERLAYS)
  test.serial(`${overlay}: a day of use with real peerkit node processes`, (t) => day(t, overlay))
