import { mkdir, readFile, stat } from 'node:fs/promises'
import { request } from 'node:http'
import { join } from 'node:path'
import test from 'ava'
import { ApiClient, type ApiHit, type DownloadEvent, HitSet, runCli } from '../src/index.js'
import { captureIo } from './helpers/capture-io.js'
import { MOVIE, MOVIE_SIZE, shareFolder, tempDir } from './helpers/files.js'
import { inProcessNet } from './helpers/in-process.js'

/** Collects a search, merged by hash, retrying briefly while the network settles. */
async function searchMerged(
  client: ApiClient,
  query: string,
  want: (hits: ApiHit[]) => boolean,
): Promise<ApiHit[]> {
  let hits: ApiHit[] = []
  for (let attempt = 0; attempt < 5; attempt++) {
    const set = new HitSet()
    for await (const hit of client.search(query, { timeout: 1500 })) set.add(hit)
    hits = set.hits()
    if (want(hits)) return hits
    await new Promise((r) => setTimeout(r, 200))
  }
  return hits
}

test('status, search and download through the API of real peers', async (t) => {
  const dir = await tempDir(t, 'api')
  const { dir: shared, movie } = await shareFolder(dir, 'alice')
  const net = await inProcessNet(t, 'central')
  const alice = await net.node({ share: [shared] })
  const bob = await net.node({})
  const client = new ApiClient(bob.apiUrl, { token: bob.token })

  const status = await client.status()
  t.deepEqual(Object.keys(status).sort(), [
    'addresses',
    'connections',
    'connectivity',
    'downloads',
    'id',
    'neighbors',
    'overlay',
    'role',
    'shares',
  ])
  t.is(status.id, bob.peer.id)
  t.is(status.overlay, 'central')
  t.deepEqual(status.addresses, bob.peer.addresses())
  t.is(status.shares, 0)
  t.deepEqual(status.downloads, [])
  // Bob's connection to the directory, outbound, over plain TCP.
  t.true(
    (status.connections ?? []).some((c) => c.direction === 'outbound'),
    JSON.stringify(status.connections),
  )
  t.is((await new ApiClient(alice.apiUrl, { token: alice.token }).status()).shares, 2)

  const hits = await searchMerged(client, 'harry potter', (h) => h.length > 0)
  t.deepEqual(
    hits.map((h) => h.name),
    [MOVIE],
  )
  const [hit] = hits
  t.is(hit?.size, MOVIE_SIZE)
  t.deepEqual(
    hit?.providers.map((p) => p.id),
    [alice.peer.id],
  )

  await mkdir(join(dir, 'bob'))
  const out = join(dir, 'bob', 'movie.mkv')
  const started = await client.startDownload({ hash: hit?.hash ?? '', out })
  t.deepEqual(started, { hash: hit?.hash, path: out, started: true })
  const events: DownloadEvent[] = []
  for await (const e of client.downloadEvents(hit?.hash ?? '')) events.push(e)
  const last = events[events.length - 1]
  t.is(last?.type, 'done')
  if (last?.type !== 'done') return
  t.is(last.result.path, out)
  t.is(last.result.size, MOVIE_SIZE)
  t.true(last.result.verified)
  t.is(
    last.result.sources.reduce((a, s) => a + s.bytes, 0),
    MOVIE_SIZE,
  )
  t.deepEqual(
    last.result.sources.map((s) => s.id),
    [alice.peer.id],
  )
  t.true((await readFile(out)).equals(movie))
  t.deepEqual(await client.download(hit?.hash ?? ''), last)
  const after = await client.status()
  t.deepEqual(
    after.downloads.map((d) => ({ hash: d.hash, state: d.state, bytes: d.bytes, size: d.size })),
    [{ hash: hit?.hash, state: 'done', bytes: MOVIE_SIZE, size: MOVIE_SIZE }],
  )
})

test('the API refuses bad requests with a named error', async (t) => {
  const net = await inProcessNet(t, 'central')
  const node = await net.node({})
  const client = new ApiClient(node.apiUrl, { token: node.token })
  const hash = 'a'.repeat(64)
  await t.throwsAsync(client.download(hash), { name: 'NotFoundError', message: /no download of a{64}/ })
  await t.throwsAsync(client.startDownload({ hash: 'zz', out: '/tmp/x' }), {
    name: 'InvalidOptionsError',
    message: /^hash:/,
  })
  await t.throwsAsync(client.startDownload({ hash, out: 'relative/x' }), {
    name: 'InvalidOptionsError',
    message: /^out: an absolute path/,
  })
  await t.throwsAsync(
    async () => {
      for await (const _ of client.search('   ')) t.fail()
    },
    { name: 'InvalidOptionsError', message: /q: a search query is required/ },
  )
  await t.throwsAsync(
    async () => {
      for await (const _ of client.search('x', { timeout: 0 })) t.fail()
    },
    { name: 'InvalidOptionsError', message: /timeout must be an integer from 1/ },
  )
  const raw = (method: string, path: string, headers: Record<string, string>, body?: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const { port } = new URL(node.apiUrl)
      const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
        let text = ''
        res.on('data', (d) => (text += d))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
      })
      req.on('error', reject)
      req.end(body)
    })
  const auth = { authorization: `Bearer ${node.token}` }
  const noType = await raw('POST', '/downloads', auth, JSON.stringify({ hash, out: '/tmp/x' }))
  t.is(noType.status, 415)
  const notJson = await raw('POST', '/downloads', { ...auth, 'content-type': 'application/json' }, '{')
  t.is(notJson.status, 400)
  t.regex(notJson.body, /not valid JSON/)
  const rebound = await raw('GET', '/status', {
    host: 'evil.example:4680',
    authorization: `Bearer ${node.token}`,
  })
  t.is(rebound.status, 403)
  const unknown = await raw('GET', '/nope', auth)
  t.is(unknown.status, 404)
  t.deepEqual(JSON.parse(unknown.body), { error: { name: 'NotFoundError', message: 'no route GET /nope' } })
})

test('the API answers only with the secret of its cookie, on loopback too', async (t) => {
  const net = await inProcessNet(t, 'central')
  const node = await net.node({})
  t.is((await stat(node.cookieFile)).mode & 0o777, 0o600)
  t.is((await readFile(node.cookieFile, 'utf8')).trim(), node.token)
  t.regex(node.token, /^[A-Za-z0-9_-]{43}$/)
  await t.throwsAsync(new ApiClient(node.apiUrl).status(), {
    name: 'AuthenticationError',
    message: /needs the secret in the node's cookie file/,
  })
  await t.throwsAsync(new ApiClient(node.apiUrl, { token: `${node.token.slice(0, -1)}x` }).status(), {
    name: 'AuthenticationError',
  })
  t.is((await new ApiClient(node.apiUrl, { token: node.token }).status()).id, node.peer.id)
  const { ApiServer } = await import('../src/index.js')
  t.throws(() => new ApiServer(node.peer, { host: '127.0.0.1', port: 0, token: '' }), {
    name: 'InvalidOptionsError',
  })
  await node.stop()
  await t.throwsAsync(stat(node.cookieFile), { code: 'ENOENT' }, 'the cookie is removed at stop')
})

test('get for a hash nobody has exits 1 and says what to try', async (t) => {
  const dir = await tempDir(t, 'nobody')
  const net = await inProcessNet(t, 'central')
  const node = await net.node({})
  const c = captureIo({ cwd: dir })
  const hash = 'b'.repeat(64)
  const code = await runCli(
    ['get', hash, '--api', node.apiUrl, '--out', 'x.mkv', '--provider-timeout', '300'],
    c.io,
  )
  t.is(code, 1)
  t.regex(
    c.stderr(),
    new RegExp(`no provider of ${hash} could be found or reached .* check the hash with \`peerkit search\``),
  )
  const event = await new ApiClient(node.apiUrl, { token: node.token }).download(hash)
  t.is(event.type, 'error')
})

test('search, get and status through runCli print the documented JSON', async (t) => {
  const dir = await tempDir(t, 'json')
  const { dir: shared, movie } = await shareFolder(dir, 'alice')
  const net = await inProcessNet(t, 'central')
  const alice = await net.node({ share: [shared] })
  const bob = await net.node({})
  const api = bob.apiUrl
  const cli = async (args: string[]) => {
    const c = captureIo({ cwd: dir })
    t.is(await runCli([...args, '--api', api, '--json'], c.io), 0, c.stderr())
    return JSON.parse(c.stdout())
  }
  const found = await cli(['search', 'HARRY', 'potter', '--timeout', '2000'])
  t.is(found.query, 'HARRY potter')
  t.is(found.hits.length, 1)
  const [hit] = found.hits
  t.deepEqual(Object.keys(hit).sort(), ['chunkSize', 'hash', 'name', 'providers', 'size'])
  t.deepEqual(hit.providers, [{ id: alice.peer.id, addresses: alice.peer.addresses() }])
  const text = captureIo()
  t.is(await runCli(['search', 'harry', 'potter', '--api', api], text.io), 0)
  t.is(text.stdout(), `${hit.hash}  700.0 kB  ${MOVIE}  (1 provider)\n`)
  t.regex(text.stderr(), /^1 file found in \d+ ms; fetch one with: peerkit get HASH --out FILE\n$/)
  const none = captureIo()
  t.is(await runCli(['search', 'nothing', 'matches', 'this', '--api', api, '--timeout', '500'], none.io), 0)
  t.is(none.stdout(), '')
  t.regex(none.stderr(), /no file matches "nothing matches this" .* try fewer keywords or a longer --timeout/)
  await mkdir(join(dir, 'sub'))
  const got = await cli(['get', hit.hash, '--out', 'sub/hp.mkv'])
  t.deepEqual(Object.keys(got).sort(), ['elapsedMs', 'hash', 'path', 'size', 'sources', 'verified'])
  t.is(got.path, join(dir, 'sub', 'hp.mkv'))
  t.true(got.verified)
  t.deepEqual(got.sources, [{ id: alice.peer.id, bytes: MOVIE_SIZE }])
  t.true((await readFile(got.path)).equals(movie))
  const status = await cli(['status'])
  t.is(status.id, bob.peer.id)
  t.deepEqual(
    status.downloads.map((d: { hash: string; state: string }) => [d.hash, d.state]),
    [[hit.hash, 'done']],
  )
})
