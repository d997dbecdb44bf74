import { request } from 'node:http'
import { join } from 'node:path'
import test from 'ava'
import type { ApiHit } from '../src/api-types.js'
import { ApiClient, runCli } from '../src/index.js'
import { WebSessions } from '../src/web-sessions.js'
import { captureIo } from './helpers/capture-io.js'
import { MOVIE, shareFolder, tempDir } from './helpers/files.js'
import { inProcessNet } from './helpers/in-process.js'

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** One raw request to the node's API: no credential unless given in `headers`. */
function raw(
  api: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: unknown,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(api)
    const all = body === undefined ? headers : { 'content-type': 'application/json', ...headers }
    const req = request({ host: hostname, port, method, path, headers: all, timeout: 10_000 }, (res) => {
      let text = ''
      res.on('data', (d) => (text += d))
      // A stream (/events) that answered 200 is enough to see: stop reading it.
      if (res.statusCode === 200 && path === '/events') {
        res.destroy()
        return resolve({ status: 200, headers: res.headers, body: '' })
      }
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }))
    })
    req.on('error', reject)
    req.end(body === undefined ? undefined : JSON.stringify(body))
  })
}

/** Every page, asset and route of the node, with a body where it takes one. */
const ROUTES: Array<[string, string, unknown?]> = [
  ['GET', '/'],
  ['GET', '/assets/app.js'],
  ['GET', '/assets/app.css'],
  ['GET', '/assets/missing.js'],
  ['GET', '/status'],
  ['GET', '/stats'],
  ['GET', '/search?q=harry'],
  ['GET', '/downloads'],
  ['POST', '/downloads', { hash: 'a'.repeat(64), out: '/tmp/x' }],
  ['GET', `/downloads/${'a'.repeat(64)}`],
  ['GET', `/downloads/${'a'.repeat(64)}/events`],
  ['DELETE', `/downloads/${'a'.repeat(64)}`],
  ['DELETE', `/downloads/${'a'.repeat(64)}?keep=1`],
  ['POST', `/downloads/${'a'.repeat(64)}/pause`],
  ['POST', `/downloads/${'a'.repeat(64)}/resume`],
  ['POST', '/downloads/clear'],
  ['GET', '/events'],
  ['GET', '/shares'],
  ['POST', '/shares', { path: '/etc' }],
  ['DELETE', '/shares?path=/etc'],
  ['POST', '/login-links'],
  ['POST', '/logout'],
  ['GET', '/login'],
  ['GET', '/login?token=not-a-token'],
  ['GET', '/no-such-page'],
]

test('nothing is reachable without the credential: every page, asset and route answers 401', async (t) => {
  const net = await inProcessNet(t, 'flooding')
  const node = await net.node({})
  const wrongCookie = { cookie: `${node.api.cookieName}=forged-session-id` }
  for (const [method, path, body] of ROUTES) {
    const variants: Array<Record<string, string>> = [{}, { authorization: 'Bearer wrong' }, wrongCookie]
    for (const headers of variants) {
      const r = await raw(node.apiUrl, method, path, headers, body)
      t.is(r.status, 401, `${method} ${path} with ${JSON.stringify(headers)}`)
      t.notRegex(r.body, /<script|peerkit node<\/title>/, 'no page in a refusal')
    }
  }
  // Nothing was done: no share added.
  t.deepEqual(node.api.shares.list(), [])
  // With the secret, the page and its files are served, with a policy that allows scripts from the node only.
  const auth = { authorization: `Bearer ${node.token}` }
  const page = await raw(node.apiUrl, 'GET', '/', auth)
  t.is(page.status, 200)
  t.regex(page.body, /<script type="module" src="\/assets\/app\.js">/)
  t.regex(String(page.headers['content-security-policy']), /script-src 'self'.*frame-ancestors 'none'/)
  t.is((await raw(node.apiUrl, 'GET', '/assets/app.js', auth)).status, 200)
  t.is((await raw(node.apiUrl, 'GET', '/assets/../../package.json', auth)).status, 404)
})

test('a login link works once and gives an HttpOnly SameSite=Strict cookie; CSRF and DNS rebinding are refused', async (t) => {
  const net = await inProcessNet(t, 'flooding')
  const node = await net.node({})
  const shared = await tempDir(t, 'web-share')
  const { host, port } = new URL(node.apiUrl)
  const login = new URL(node.webUrl)
  t.is(login.origin, node.apiUrl)
  t.is(login.pathname, '/login')

  // A rebound name (evil.example resolving to 127.0.0.1) cannot even spend the link.
  t.is(
    (await raw(node.apiUrl, 'GET', login.pathname + login.search, { host: `evil.example:${port}` })).status,
    403,
  )
  const first = await raw(node.apiUrl, 'GET', login.pathname + login.search)
  t.is(first.status, 200)
  const setCookie = String(first.headers['set-cookie'])
  t.regex(
    setCookie,
    new RegExp(`^${node.api.cookieName}=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=/;`),
  )
  t.regex(first.body, /http-equiv="refresh" content="0;url=\/"/)
  const again = await raw(node.apiUrl, 'GET', login.pathname + login.search)
  t.is(again.status, 401, 'the link works once')
  t.regex(again.body, /peerkit status --web/)

  const cookie = { cookie: setCookie.split(';')[0] ?? '' }
  t.is((await raw(node.apiUrl, 'GET', '/', cookie)).status, 200)
  t.is((await raw(node.apiUrl, 'GET', '/status', cookie)).status, 200)
  t.is((await raw(node.apiUrl, 'GET', '/', { ...cookie, host: `localhost:${port}` })).status, 200)
  // DNS rebinding: the browser sends the attacker's name as Host (and the cookie only if it were that site's).
  t.is((await raw(node.apiUrl, 'GET', '/status', { ...cookie, host: `evil.example:${port}` })).status, 403)
  t.is((await raw(node.apiUrl, 'GET', '/status', { ...cookie, host: `${host}:1` })).status, 403)
  // CSRF: a state-changing request must carry this very origin.
  const share = { path: shared }
  const origin = `http://${host}`
  const bads: Array<Record<string, string>> = [{}, { origin: 'http://evil.example' }, { origin: 'null' }]
  for (const bad of bads) {
    const r = await raw(node.apiUrl, 'POST', '/shares', { ...cookie, ...bad }, share)
    t.is(r.status, 403, JSON.stringify(bad))
  }
  const crossSite = { ...cookie, origin, 'sec-fetch-site': 'cross-site' }
  t.is((await raw(node.apiUrl, 'POST', '/shares', crossSite, share)).status, 403)
  t.deepEqual(node.api.shares.list(), [], 'no refused request shared anything')
  const ok = await raw(
    node.apiUrl,
    'POST',
    '/shares',
    { ...cookie, origin, 'sec-fetch-site': 'same-origin' },
    share,
  )
  t.is(ok.status, 201, ok.body)
  t.is(node.api.shares.list()[0]?.path, shared)
  // A session cannot mint login links (only the secret's holder can).
  t.is((await raw(node.apiUrl, 'POST', '/login-links', { ...cookie, origin })).status, 403)
  // Signing out ends the session.
  t.is((await raw(node.apiUrl, 'POST', '/logout', { ...cookie, origin })).status, 200)
  t.is((await raw(node.apiUrl, 'GET', '/', cookie)).status, 401)

  // `peerkit status --web` asks for a fresh link with the secret; it signs in once.
  const c = captureIo()
  const api = node.apiUrl.slice('http://'.length)
  t.is(await runCli(['status', '--web', '--api', api, '--token', node.token], c.io), 0, c.stderr())
  const fresh = new URL(c.stdout().trim())
  t.is(fresh.origin, node.apiUrl)
  t.is((await raw(node.apiUrl, 'GET', fresh.pathname + fresh.search)).status, 200)
  t.is((await raw(node.apiUrl, 'GET', fresh.pathname + fresh.search)).status, 401)
  const wrong = captureIo()
  t.is(
    await runCli(['status', '--web', '--api', api, '--token', 'wrong'], wrong.io),
    1,
    'not without the secret',
  )
  t.regex(wrong.stderr(), /needs the secret/)
})

test('login links and sessions are bounded: a flood of links keeps at most maxLoginLinks, the oldest forgotten', (t) => {
  let now = 0
  const sessions = new WebSessions({
    maxLoginLinks: 4,
    maxSessions: 3,
    loginLinkTtl: 1000,
    sessionTtl: 5000,
    now: () => now,
  })
  const first = sessions.loginToken()
  const tokens = Array.from({ length: 1000 }, () => sessions.loginToken())
  t.is(sessions.size.links, 4)
  t.is(sessions.redeem(first), undefined, 'the oldest link was forgotten')
  const ids = tokens.slice(-3).map((tok) => sessions.redeem(tok))
  t.true(ids.every((id) => id !== undefined && sessions.valid(id)))
  const late = sessions.loginToken()
  now += 1001
  t.is(sessions.redeem(late), undefined, 'an expired link does not work')
  now -= 1001
  const more = sessions.redeem(sessions.loginToken())
  t.is(sessions.size.sessions, 3)
  t.false(sessions.valid(ids[0] ?? ''), 'the oldest session ended to make room')
  t.true(sessions.valid(more ?? ''))
  now += 5001
  t.false(sessions.valid(more ?? ''), 'a session ends after sessionTtl')
})

test('attack: 2000 guessed login tokens and forged session cookies get 401 and leave no state; the honest link still works', async (t) => {
  const net = await inProcessNet(t, 'flooding')
  const node = await net.node({})
  const before = process.memoryUsage().heapUsed
  const guesses = Array.from({ length: 2000 }, (_, i) => i)
  const statuses = new Set<number>()
  // Eight at a time, as a local attacker would: random tokens, and random session ids on the cookie.
  for (let i = 0; i < guesses.length; i += 8) {
    const batch = guesses.slice(i, i + 8).map((n) =>
      n % 2
        ? raw(node.apiUrl, 'GET', `/login?token=${n.toString(36).padStart(43, 'x')}`)
        : raw(node.apiUrl, 'GET', '/status', {
            cookie: `${node.api.cookieName}=${n.toString(36).padStart(43, 'y')}`,
          }),
    )
    for (const r of await Promise.all(batch)) statuses.add(r.status)
  }
  t.deepEqual([...statuses], [401])
  t.deepEqual(node.api.sessions.size, { links: 1, sessions: 0 }, 'only the honest link is held')
  const grown = (process.memoryUsage().heapUsed - before) / 1024
  t.log(`2000 guesses: heap ${Math.round(grown)} kB more (the test's own requests included)`)
  t.true(grown < 32 * 1024, `heap grew ${Math.round(grown)} kB`)
  const link = new URL(node.webUrl)
  t.is((await raw(node.apiUrl, 'GET', link.pathname + link.search)).status, 200, 'the honest link works')
})

test('DELETE /downloads/:hash cancels a running download: its outputs end with AbortError, /events says so', async (t) => {
  const net = await inProcessNet(t, 'flooding')
  const { dir, movie } = await shareFolder(await tempDir(t, 'web-cancel'), 'src')
  await net.node({ share: [dir] })
  // 100 kB/s: the 700 kB file takes seconds, so the download is running when cancelled.
  const node = await net.node({ overlayOptions: { 'transfer:default': { downloadRate: 100_000 } } })
  const client = new ApiClient(node.apiUrl.slice('http://'.length), { token: node.token })
  const events = new AbortController()
  t.teardown(() => events.abort())
  const lines: string[] = []
  let opened: () => void = () => {}
  let aborted: () => void = () => {}
  const open = new Promise<void>((resolve) => (opened = resolve))
  const ended = new Promise<void>((resolve) => (aborted = resolve))
  const req = request(
    `${node.apiUrl}/events`,
    { headers: { authorization: `Bearer ${node.token}` }, signal: events.signal },
    (res) => {
      opened() // the stream writes its headers and a first byte at once
      res.on('data', (d) => {
        lines.push(...String(d).split('\n').filter(Boolean))
        if (lines.some((l) => l.includes('AbortError'))) aborted()
      })
    },
  )
  req.on('error', () => aborted()) // aborted at teardown: nothing more to read
  req.end()
  await open
  let found: ApiHit | undefined
  for (let i = 0; i < 20 && !found; i++) {
    for await (const hit of client.search('harry potter', { timeout: 1000 }))
      if (hit.name === MOVIE) found = hit
  }
  const hash = found?.hash
  if (!hash) return t.fail('the downloader does not find the file')
  t.is(found?.size, movie.length)
  const started = await client.startDownload({ hash, out: join(dir, '..', 'copy.mkv') })
  await client.cancel(hash)
  await ended
  const update = JSON.parse(lines.find((l) => l.includes('AbortError')) ?? '{}')
  t.like(update, { hash, path: started.path, event: { type: 'error', error: { name: 'AbortError' } } })
  t.like(await client.download(hash), { type: 'error', error: { name: 'AbortError' } })
  const again = await client.cancel(hash).catch((e: Error) => e)
  t.is((again as Error).name, 'NotFoundError', 'nothing left to cancel')
  t.is((await client.status()).downloads[0]?.state, 'cancelled')
})

test('shares through the API: add two folders, remove one; a file the other folder holds stays shared', async (t) => {
  const net = await inProcessNet(t, 'flooding')
  const root = await tempDir(t, 'web-shares')
  const x = await shareFolder(root, 'x')
  const y = await shareFolder(root, 'y')
  const node = await net.node({ share: [x.dir] })
  const client = new ApiClient(node.apiUrl.slice('http://'.length), { token: node.token })
  // The --share folder is listed; a second folder is added through the API.
  t.deepEqual(
    (await client.shares()).map((f) => [f.path, f.files.length]),
    [[x.dir, 2]],
  )
  const added = await client.share(y.dir)
  t.deepEqual(added.files.map((f) => f.name).sort(), [MOVIE, 'y-notes.txt'])
  t.is(node.peer.status().shares, 3, 'the movie (in both), x-notes and y-notes')
  await client.unshare(`${x.dir}/`) // the same folder, however written
  t.deepEqual(
    (await client.shares()).map((f) => f.path),
    [y.dir],
  )
  const names = (await client.shares()).flatMap((f) => f.files.map((r) => r.name)).sort()
  t.deepEqual(names, [MOVIE, 'y-notes.txt'], 'x-notes is no longer shared; the movie stays, y holds it')
  t.is(node.peer.status().shares, 2, 'and the local index holds those two')
  const missing = await client.unshare(x.dir).catch((e: Error) => e)
  t.is((missing as Error).name, 'NotFoundError')
  const bad = await client.share('relative/path').catch((e: Error) => e)
  t.is((bad as Error).name, 'InvalidOptionsError')
  const gone = await client.share(join(root, 'nope')).catch((e: Error) => e)
  t.regex((gone as Error).message, /does not exist/)
})
