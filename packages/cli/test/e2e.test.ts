import { readFile, writeFile } from 'node:fs/promises'
import { isAbsolute, join } from 'node:path'
import test from 'ava'
import { type Daemon, nodeArgs, runBin, startDaemon } from './helpers/bin.js'
import { MOVIE, MOVIE_SIZE, shareFolder, tempDir } from './helpers/files.js'
import { FAST_OPTIONS, OVERLAYS } from './helpers/overlay-options.js'

interface SearchJson {
  query: string
  hits: Array<{
    hash: string
    name: string
    size: number
    providers: Array<{ id: string; addresses: string[] }>
  }>
}

for (const overlay of OVERLAYS) {
  test(`${overlay}: three \`peerkit node\` processes; search and get --json from a fourth`, async (t) => {
    const dir = await tempDir(t, `e2e-${overlay}`)
    const config = join(dir, 'config.json')
    await writeFile(config, JSON.stringify({ overlay, options: FAST_OPTIONS[overlay] ?? {} }))
    const daemons: Daemon[] = []
    t.teardown(async () => {
      for (const d of daemons.reverse()) await d.stop()
    })
    const start = async (args: string[]) => {
      const d = await startDaemon(args)
      daemons.push(d)
      return d
    }
    const first = (d: Daemon, key: string) => d.lines.get(key)?.[0] ?? ''

    let bootstrap: string[] = []
    if (overlay === 'central') {
      const directory = await start(['directory', '--listen', 'tcp://127.0.0.1:0', '--log-level', 'warn'])
      bootstrap = directory.lines.get('listen') ?? []
      t.regex(bootstrap[0] ?? '', /^tcp:\/\/127\.0\.0\.1:\d+$/)
    }
    const node = (share: string | undefined, join: string[]) =>
      start(
        nodeArgs(
          overlay,
          undefined,
          '--config',
          config,
          ...(join.length ? ['--bootstrap', ...join] : []),
          ...(share ? ['--share', share] : []),
        ),
      )
    const a = await shareFolder(dir, 'a')
    const b = await shareFolder(dir, 'b')
    const nodeA = await node(a.dir, bootstrap)
    const joinVia = overlay === 'central' ? bootstrap : (nodeA.lines.get('listen') ?? [])
    const nodeB = await node(b.dir, joinVia)
    const nodeC = await node(
      undefined,
      overlay === 'central' ? bootstrap : [...joinVia, ...(nodeB.lines.get('listen') ?? [])],
    )
    for (const d of [nodeA, nodeB, nodeC]) {
      t.regex(first(d, 'api'), /^http:\/\/127\.0\.0\.1:\d+$/)
      t.regex(first(d, 'listen'), /^tcp:\/\/127\.0\.0\.1:\d+$/)
      t.regex(first(d, 'peer'), /^[A-Za-z0-9_-]{43}$/)
    }
    const api = first(nodeC, 'api')
    const providers = [first(nodeA, 'peer'), first(nodeB, 'peer')].sort()

    // Search until both providers are known (the overlay may still be settling).
    let found: SearchJson | undefined
    for (let attempt = 0; attempt < 12; attempt++) {
      const r = await runBin(['search', 'harry', 'potter', '--api', api, '--json', '--timeout', '2000'])
      t.is(r.code, 0, r.stderr)
      found = JSON.parse(r.stdout) as SearchJson
      if (found.hits[0]?.providers.length === 2) break
      await new Promise((r) => setTimeout(r, 300))
    }
    t.is(found?.query, 'harry potter')
    t.is(found?.hits.length, 1)
    const hit = found?.hits[0]
    if (!hit) return t.fail(`no hit for "harry potter" on ${overlay}`)
    t.is(hit.name, MOVIE)
    t.is(hit.size, MOVIE_SIZE)
    t.regex(hit.hash, /^[0-9a-f]{64}$/)
    t.deepEqual(hit.providers.map((p) => p.id).sort(), providers)
    for (const p of hit.providers ?? []) t.true(p.addresses.every((x) => x.startsWith('tcp://127.0.0.1:')))

    const got = await runBin(['get', hit.hash, '--api', api, '--out', 'downloaded.mkv', '--json'], {
      cwd: dir,
    })
    t.is(got.code, 0, got.stderr)
    const result = JSON.parse(got.stdout) as {
      hash: string
      path: string
      size: number
      verified: boolean
      elapsedMs: number
      sources: Array<{ id: string; bytes: number }>
    }
    t.is(result.hash, hit.hash)
    t.is(result.path, join(dir, 'downloaded.mkv'))
    t.true(isAbsolute(result.path))
    t.is(result.size, MOVIE_SIZE)
    t.true(result.verified)
    t.true(Number.isInteger(result.elapsedMs) && result.elapsedMs >= 0)
    t.is(
      result.sources.reduce((s, x) => s + x.bytes, 0),
      MOVIE_SIZE,
    )
    for (const s of result.sources) t.true(providers.includes(s.id))
    t.true((await readFile(result.path)).equals(a.movie))

    const status = await runBin(['status', '--api', api, '--json'])
    t.is(status.code, 0)
    const s = JSON.parse(status.stdout)
    t.is(s.id, first(nodeC, 'peer'))
    t.is(s.overlay, overlay)
    t.is(typeof s.role, 'string')
    t.deepEqual(s.addresses, nodeC.lines.get('listen'))
    t.true(Array.isArray(s.neighbors) && s.neighbors.length > 0)
    for (const n of s.neighbors) t.true(typeof n.id === 'string' && Array.isArray(n.addresses))
    t.is(s.shares, 1, 'the finished download is shared back')
    t.deepEqual(
      s.downloads.map((d: Record<string, unknown>) => [d.hash, d.bytes, d.size, d.state]),
      [[hit.hash, MOVIE_SIZE, MOVIE_SIZE, 'done']],
    )

    // A clean shutdown on SIGTERM.
    t.is(await nodeC.stop(), 0)
  })
}
