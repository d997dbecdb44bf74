import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { type AddressInfo, isIP } from 'node:net'
import { isAbsolute, join } from 'node:path'
import {
  type ContentHash,
  type Hit,
  InvalidOptionsError,
  isContentHash,
  MAX_BROWSE_PAGE,
  type Peer,
} from '@peerkit/core'
import { z } from 'zod'
import type {
  ApiBrowsePage,
  ApiDownloadUpdate,
  ApiHit,
  ApiStatus,
  DownloadEvent,
  LoginLink,
} from './api-types.js'
import { DownloadTracker, toErrorBody } from './download-tracker.js'
import type { Logger } from './logger.js'
import { DEFAULT_SEARCH_TIMEOUT, formatHostPort, isLoopback, MAX_SEARCH_TIMEOUT } from './options.js'
import { checkTarget, kindOf, safeFileName } from './output-path.js'
import { ShareRegistry } from './share-registry.js'
import type { WebAsset } from './web-assets.js'
import { type WebSessionOptions, WebSessions } from './web-sessions.js'

/** Largest request body the API reads, in bytes. */
export const MAX_BODY = 64 * 1024
/** Progress lines per second, at most, on a download's event stream. */
const PROGRESS_PER_SECOND = 10
/** Milliseconds to look for a file's name when `out` is a folder and no providerTimeout is given. */
const NAME_TIMEOUT = 10_000

export interface ApiServerOptions {
  host: string
  port: number
  /**
   * Required on every request as `Authorization: Bearer TOKEN`, on loopback
   * too: any local user can reach a loopback port. `peerkit node` makes a
   * fresh one each run and writes it to its cookie file (mode 0600).
   */
  token: string
  logger?: Logger
  /** The shared folders (`/shares`); `peerkit node` records its `--share` folders in it. @default a new one */
  shares?: ShareRegistry
  /** Share each finished download back (through `shares`, as a download). @default false (`peerkit node`: true unless --no-share-downloads) */
  shareDownloads?: boolean
  /** The web page's files (loadWebAssets()); without them `/` answers 404. */
  web?: Map<string, WebAsset>
  /** Login links and browser sessions: lifetimes and how many at once. */
  sessions?: WebSessionOptions
}

/** Headers on every answer: no framing, no sniffing, no caching, no referrer, scripts from the node only. */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'cross-origin-resource-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
}

const shareBody = z.object({ path: z.string().refine(isAbsolute, 'an absolute path') }).strict()

/** How a request proved it may be served. */
type Credential = 'bearer' | 'session'

const startBody = z
  .object({
    hash: z.string().refine(isContentHash, 'a content hash of 64 hexadecimal digits'),
    out: z.string().refine(isAbsolute, 'an absolute path'),
    force: z.boolean().optional(),
    providerTimeout: z.number().int().positive().max(600_000).optional(),
  })
  .strict()

class HttpError extends Error {
  constructor(
    readonly status: number,
    override readonly name: string,
    message: string,
  ) {
    super(message)
  }
}

/**
 * The local HTTP API of `peerkit node` (node:http): status, streaming search
 * and downloads, as JSON and NDJSON. See docs/cli.md for the routes.
 */
export class ApiServer {
  private readonly server: Server
  private readonly tracker: DownloadTracker
  private readonly streams = new Set<AbortController>()
  readonly shares: ShareRegistry
  readonly sessions: WebSessions

  constructor(
    private readonly peer: Peer,
    private readonly options: ApiServerOptions,
  ) {
    if (!options.token)
      throw new InvalidOptionsError('the API needs a token (options.token), on loopback too')
    this.tracker = new DownloadTracker(peer)
    this.shares = options.shares ?? new ShareRegistry(peer)
    this.sessions = new WebSessions(options.sessions)
    if (options.shareDownloads)
      this.tracker.subscribeAll((hash, event, out) => this.shareBack(hash, event, out))
    this.server = createServer((req, res) => {
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v)
      this.route(req, res).catch((err) => this.fail(res, err))
    })
  }

  /** Listens; resolves with the base URL (`http://127.0.0.1:PORT`), the real port when asked for 0. */
  listen(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject)
        resolve(this.url)
      })
    })
  }

  get url(): string {
    const a = this.server.address() as AddressInfo | null
    return `http://${formatHostPort({ host: this.options.host, port: a?.port ?? this.options.port })}`
  }

  /** The session cookie's name: cookies are not kept apart by port, so each node's port is in its name. */
  get cookieName(): string {
    return `peerkit-session-${new URL(this.url).port}`
  }

  /** A fresh one-time login link to the web page (`/login?token=…`). */
  loginLink(): LoginLink {
    const token = this.sessions.loginToken()
    return { url: `${this.url}/login?token=${token}`, expiresIn: this.sessions.loginLinkTtl }
  }

  /** Ends open streams, aborts running downloads and closes the server. */
  async close(): Promise<void> {
    for (const s of this.streams) s.abort()
    this.tracker.close()
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve())
      this.server.closeAllConnections()
    })
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://api')
    if (url.pathname === '/login' && req.method === 'GET') return this.login(req, url, res)
    const credential = this.authorize(req)
    const parts = url.pathname.split('/').filter(Boolean)
    this.options.logger?.debug('api request', { method: req.method, path: url.pathname })
    const route = routeOf(req.method ?? 'GET', parts)
    const asset = req.method === 'GET' ? this.options.web?.get(url.pathname) : undefined
    if (asset) {
      res.writeHead(200, { 'content-type': asset.type, 'content-length': asset.body.length })
      return void res.end(asset.body)
    }
    switch (route) {
      case 'POST /login-links':
        if (credential !== 'bearer')
          throw new HttpError(403, 'AuthenticationError', 'a login link needs the API secret, not a session')
        return this.json(res, 201, this.loginLink())
      case 'POST /logout':
        this.sessions.end(sessionOf(req, this.cookieName) ?? '')
        res.setHeader('set-cookie', `${this.cookieName}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`)
        return this.json(res, 200, { ended: true })
      case 'GET /shares':
        return this.json(res, 200, this.shares.list())
      case 'POST /shares':
        return this.addShare(req, res)
      case 'DELETE /shares':
        return this.removeShare(url, res)
      case 'DELETE /downloads/:hash':
        return this.cancelDownload(parts[1] ?? '', url.searchParams.get('keep') === '1', res)
      case 'POST /downloads/:hash/pause':
      case 'POST /downloads/:hash/resume':
        return this.control(parts[1] ?? '', parts[2] as 'pause' | 'resume', res)
      case 'POST /downloads/:hash':
        if (parts[1] !== 'clear') throw new HttpError(404, 'NotFoundError', `no route POST ${url.pathname}`)
        return this.json(res, 200, { cleared: this.tracker.clearFinished() })
      case 'GET /events':
        return this.allEvents(res)
      case 'GET /status':
        return this.json(res, 200, this.status())
      case 'GET /stats':
        return this.json(res, 200, this.peer.overlay.stats())
      case 'GET /search':
        return this.search(url, res)
      case 'GET /browse':
        return this.json(res, 200, await this.browse(url))
      case 'GET /downloads':
        return this.json(res, 200, this.status().downloads)
      case 'POST /downloads':
        return this.startDownload(req, res)
      case 'GET /downloads/:hash':
        return this.json(res, 200, this.downloadSnapshot(parts[1] ?? '', outParam(url)))
      case 'GET /downloads/:hash/events':
        return this.downloadEvents(parts[1] ?? '', outParam(url), res)
      default:
        throw new HttpError(404, 'NotFoundError', `no route ${req.method} ${url.pathname}`)
    }
  }

  private status(): ApiStatus {
    const s = this.peer.status()
    return {
      id: s.id,
      overlay: s.overlay,
      role: s.role,
      addresses: s.addresses,
      neighbors: s.neighbors.map((n) => ({ id: n.id, addresses: [...n.addresses] })),
      connections: s.connections.map((c) => ({
        peer: c.peer,
        direction: c.direction,
        ...(c.path === undefined ? {} : { path: c.path }),
      })),
      connectivity: { ...s.connectivity },
      shares: s.shares,
      downloads: s.downloads.map((d) => ({
        hash: d.hash,
        bytes: d.bytes,
        size: d.size,
        state: d.state,
        path: this.tracker.outputOf(d.path) ?? d.path,
        ...(d.reason === undefined ? {} : { reason: d.reason }),
      })),
    }
  }

  /** A page of another peer's shared files (`peer` is a PeerId or an address; `after`, `limit`, `timeout`). */
  private async browse(url: URL): Promise<ApiBrowsePage> {
    const peer = url.searchParams.get('peer')?.trim()
    if (!peer)
      throw new HttpError(
        400,
        'InvalidOptionsError',
        'peer: a PeerId or an address (tcp://HOST:PORT) is required',
      )
    const after = url.searchParams.get('after') ?? undefined
    const limit = intParam(url, 'limit', 1, MAX_BROWSE_PAGE)
    const timeout = intParam(url, 'timeout', 1, MAX_SEARCH_TIMEOUT)
    const page = await this.peer.browse(peer, { after, limit, timeout })
    return {
      peer: { id: page.peer.id, addresses: [...page.peer.addresses] },
      files: page.files,
      total: page.total,
      ...(page.next === undefined ? {} : { next: page.next }),
    }
  }

  private async search(url: URL, res: ServerResponse): Promise<void> {
    const q = url.searchParams.get('q')?.trim()
    if (!q) throw new HttpError(400, 'InvalidOptionsError', 'q: a search query is required')
    const timeout = intParam(url, 'timeout', 1, MAX_SEARCH_TIMEOUT) ?? DEFAULT_SEARCH_TIMEOUT
    const limit = intParam(url, 'limit', 1, 10_000)
    const abort = this.stream(res)
    res.writeHead(200, { 'content-type': 'application/x-ndjson' })
    try {
      for await (const hit of this.peer.search(q, { timeout, limit, signal: abort.signal })) {
        const line: ApiHit = {
          hash: hit.hash,
          name: hit.name,
          size: hit.size,
          chunkSize: hit.chunkSize,
          providers: hit.providers.map((p) => ({ id: p.id, addresses: [...p.addresses] })),
        }
        if (hit.hops !== undefined) line.hops = hit.hops
        res.write(`${JSON.stringify(line)}\n`)
      }
    } catch (err) {
      if (!abort.signal.aborted) res.write(`${JSON.stringify({ error: toErrorBody(err) })}\n`)
    } finally {
      this.streams.delete(abort)
      res.end()
    }
  }

  private async startDownload(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const {
      hash,
      out,
      providerTimeout,
      force = false,
    } = parseBody(startBody, await readJsonBody(req, 'POST /downloads'))
    // For a folder, a provider's hit gives the name, and its size and chunking for the download to check.
    const hit =
      (await kindOf(out)) === 'folder' ? await this.hitOf(hash, providerTimeout ?? NAME_TIMEOUT) : undefined
    const path = hit ? join(out, safeFileName(hit.name, hash)) : out
    if (this.tracker.snapshot(hash, path)?.type !== 'progress') await checkTarget(path, force)
    const { started } = this.tracker.start(hash, path, {
      providerTimeout,
      force,
      size: hit?.size,
      chunkSize: hit?.chunkSize,
    })
    this.options.logger?.info(started ? 'download started' : 'download already running', { hash, path })
    this.json(res, started ? 201 : 200, { hash, path, started })
  }

  /** A provider's hit for `hash`: the file's name (for an output folder), size and chunk size. */
  private async hitOf(hash: ContentHash, timeout: number): Promise<Hit> {
    for await (const hit of this.peer.search(hash, { timeout, limit: 1 })) if (hit.hash === hash) return hit
    throw new HttpError(
      404,
      'NotFoundError',
      `no provider of ${hash} gave its name within ${timeout} ms, so it cannot be saved in a folder — ` +
        'give --out a file name, or check the hash with `peerkit search`',
    )
  }

  private async addShare(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { path } = parseBody(shareBody, await readJsonBody(req, 'POST /shares'))
    if ((await kindOf(path)) === 'none')
      throw new HttpError(400, 'InvalidOptionsError', `path: ${path} does not exist`)
    const folder = await this.shares.add(path)
    this.options.logger?.info('shared', { path, files: folder.files.length, skipped: folder.skippedCount })
    this.json(res, 201, folder)
  }

  private async removeShare(url: URL, res: ServerResponse): Promise<void> {
    const path = url.searchParams.get('path') ?? ''
    if (!(await this.shares.remove(path)))
      throw new HttpError(404, 'NotFoundError', `path: ${path || '(none given)'} is not shared`)
    this.options.logger?.info('unshared', { path })
    this.json(res, 200, { path, removed: true })
  }

  /** A download finished at `out`: shared back, so this node is a provider of it from now on. */
  private shareBack(hash: ContentHash, event: DownloadEvent, out: string | undefined): void {
    if (event.type !== 'done' || out === undefined) return
    if (this.shares.follows(out)) return // saved into a shared folder: its watcher shares it
    this.shares.add(out, { download: true }).then(
      () => this.options.logger?.info('download shared back', { path: out, hash }),
      (err: unknown) =>
        this.options.logger?.warn('could not share a finished download back', { path: out, err }),
    )
  }

  private cancelDownload(hash: string, keepPart: boolean, res: ServerResponse): void {
    if (!isContentHash(hash) || !this.tracker.cancel(hash, keepPart)) throw noDownload(hash)
    this.options.logger?.info('download cancelled', { hash, keepPart })
    this.json(res, 200, { hash, cancelled: true, keepPart })
  }

  /** `POST /downloads/:hash/pause` and `/resume`. */
  private control(hash: string, action: 'pause' | 'resume', res: ServerResponse): void {
    if (!isContentHash(hash) || !this.tracker[action](hash)) throw noDownload(hash)
    this.options.logger?.info(action === 'pause' ? 'download paused' : 'download resumed', { hash })
    this.json(res, 200, { hash, state: this.tracker.state(hash) })
  }

  /** Every download's progress (at most PROGRESS_PER_SECOND per download) and how it ended, as NDJSON. */
  private allEvents(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' })
    res.write('\n') // the headers and a first byte now, so the page knows the stream is open
    const abort = this.stream(res)
    const lastWrite = new Map<string, number>()
    const stop = this.tracker.subscribeAll((hash, event, out) => {
      const now = Date.now()
      if (event.type === 'progress') {
        if (now - (lastWrite.get(hash) ?? 0) < 1000 / PROGRESS_PER_SECOND) return
        lastWrite.set(hash, now)
      } else lastWrite.delete(hash)
      const line: ApiDownloadUpdate = out === undefined ? { hash, event } : { hash, path: out, event }
      res.write(`${JSON.stringify(line)}\n`)
    })
    abort.signal.addEventListener('abort', () => {
      stop()
      this.streams.delete(abort)
      res.end()
    })
  }

  /**
   * `GET /login?token=…`: spends a one-time login token for a session cookie
   * (HttpOnly, SameSite=Strict), then sends the browser on to the page with a
   * same-origin refresh, so the Strict cookie goes with that next request.
   */
  private login(req: IncomingMessage, url: URL, res: ServerResponse): void {
    this.checkBrowserHost(req)
    const id = this.sessions.redeem(url.searchParams.get('token') ?? '')
    if (!id) {
      throw new HttpError(
        401,
        'AuthenticationError',
        "this login link is unknown, used or expired — run `peerkit status --web` (as the node's user) for a fresh one",
      )
    }
    this.options.logger?.info('web login')
    const maxAge = Math.floor(this.sessions.sessionTtl / 1000)
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'set-cookie': `${this.cookieName}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAge}`,
    })
    res.end(
      '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=/">' +
        '<title>peerkit: signed in</title></head><body><p>Signed in. <a href="/">Open the page</a>.</p></body></html>',
    )
  }

  /**
   * For a browser (a session cookie): the Host header must name this API's own
   * address or a loopback name (or, on a wildcard address, an IP), on its
   * port: a DNS-rebound name is refused.
   */
  private checkBrowserHost(req: IncomingMessage): void {
    const header = req.headers.host ?? ''
    const host = hostOf(header)
    const port = /:(\d+)$/.exec(header)?.[1]
    const wildcard = this.options.host === '0.0.0.0' || this.options.host === '::'
    const named = isLoopback(host) || host === this.options.host || (wildcard && isIP(host) !== 0)
    if (!named || port !== new URL(this.url).port) {
      throw new HttpError(403, 'AuthenticationError', `host ${header} is not this node's page`)
    }
  }

  private downloadSnapshot(hash: string, out: string | undefined): DownloadEvent {
    const snapshot = this.tracker.snapshot(hash, out)
    if (!snapshot) {
      throw new HttpError(
        404,
        'NotFoundError',
        `no download of ${hash}${out ? ` to ${out}` : ''} on this node`,
      )
    }
    return snapshot
  }

  private downloadEvents(hash: string, out: string | undefined, res: ServerResponse): void {
    const first = this.downloadSnapshot(hash, out)
    res.writeHead(200, { 'content-type': 'application/x-ndjson' })
    res.write(`${JSON.stringify(first)}\n`)
    if (first.type !== 'progress') return void res.end()
    const abort = this.stream(res)
    let lastWrite = 0
    const stop = this.tracker.subscribe(hash, out, (event) => {
      const now = Date.now()
      if (event.type === 'progress' && now - lastWrite < 1000 / PROGRESS_PER_SECOND) return
      lastWrite = now
      res.write(`${JSON.stringify(event)}\n`)
      if (event.type === 'done' || event.type === 'error') abort.abort()
    })
    abort.signal.addEventListener('abort', () => {
      stop()
      this.streams.delete(abort)
      res.end()
    })
  }

  /** An AbortController that fires when the client goes away or the server closes. */
  private stream(res: ServerResponse): AbortController {
    const abort = new AbortController()
    this.streams.add(abort)
    res.on('close', () => abort.abort())
    return abort
  }

  private authorize(req: IncomingMessage): Credential {
    const host = hostOf(req.headers.host ?? '')
    if (isLoopback(this.options.host) && !isLoopback(host)) {
      // A loopback API answers loopback names only (no DNS rebinding from a web page).
      throw new HttpError(403, 'AuthenticationError', `host ${host} is not served here`)
    }
    // Both sides hashed to the same length, so the comparison takes the same time whatever was sent.
    const given = createHash('sha256')
      .update(/^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '')
      .digest()
    const want = createHash('sha256').update(this.options.token).digest()
    if (timingSafeEqual(given, want)) return 'bearer'
    const session = sessionOf(req, this.cookieName)
    if (session !== undefined && this.sessions.valid(session)) {
      this.checkBrowserHost(req)
      const method = req.method ?? 'GET'
      // CSRF: besides SameSite=Strict, a state-changing request must come from this very origin.
      const sameOrigin =
        req.headers.origin === `http://${req.headers.host}` &&
        (req.headers['sec-fetch-site'] ?? 'same-origin') === 'same-origin'
      if (method !== 'GET' && method !== 'HEAD' && !sameOrigin) {
        throw new HttpError(
          403,
          'AuthenticationError',
          `${method} from origin ${req.headers.origin ?? '(none)'} refused: not this node's page`,
        )
      }
      return 'session'
    }
    throw new HttpError(
      401,
      'AuthenticationError',
      "this API needs the secret in the node's cookie file (Authorization: Bearer SECRET): run the command " +
        "as the node's user, with --data DIR (the node's data folder) or --cookie FILE; " +
        'in a browser, open the login link `peerkit node` printed (or `peerkit status --web`)',
    )
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body))
  }

  private fail(res: ServerResponse, err: unknown): void {
    const status = err instanceof HttpError ? err.status : statusOf(err)
    if (status >= 500) this.options.logger?.error('api error', { error: (err as Error)?.message })
    if (res.headersSent) return void res.end()
    this.json(res, status, { error: toErrorBody(err) })
  }
}

function noDownload(hash: string): HttpError {
  return new HttpError(
    404,
    'NotFoundError',
    `no running download of ${hash} on this node — list them with \`peerkit status\``,
  )
}

/** `GET /downloads/:hash/events` from `['downloads', HASH, 'events']`; the hash stays in `parts[1]`. */
function routeOf(method: string, parts: string[]): string {
  if (parts.length <= 1) return `${method} /${parts[0] ?? ''}`
  if (parts[0] === 'downloads' && parts.length <= 3)
    return `${method} /downloads/:hash${parts[2] ? `/${parts[2]}` : ''}`
  return `${method} /${parts.join('/')}`
}

/** The session id in the request's cookie `name`, if any. */
function sessionOf(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=')
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim()
  }
  return undefined
}

function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new HttpError(400, 'InvalidOptionsError', `${issue?.path.join('.') || 'body'}: ${issue?.message}`)
  }
  return parsed.data
}

async function readJsonBody(req: IncomingMessage, route: string): Promise<unknown> {
  if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) {
    throw new HttpError(415, 'InvalidOptionsError', `${route} takes an application/json body`)
  }
  return readJson(req)
}

function statusOf(err: unknown): number {
  switch ((err as Error | undefined)?.name) {
    case 'InvalidOptionsError':
      return 400
    case 'NotFoundError':
      return 404
    case 'OutputError':
      return 409
    case 'NotStartedError':
      return 503
    case 'UnsupportedProtocolError':
      return 403 // a peer that does not let others browse its files
    case 'PeerUnreachableError':
      return 502
    default:
      return 500
  }
}

/** The `out` query parameter: which output of a download the client follows. */
function outParam(url: URL): string | undefined {
  return url.searchParams.get('out') ?? undefined
}

function hostOf(header: string): string {
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(header)
  if (m) return m[1] ?? ''
  return header.replace(/:\d+$/, '')
}

function intParam(url: URL, name: string, min: number, max: number): number | undefined {
  const raw = url.searchParams.get(name)
  if (raw === null) return undefined
  const n = Number(raw)
  if (!/^\d+$/.test(raw) || n < min || n > max) {
    throw new HttpError(
      400,
      'InvalidOptionsError',
      `${name} must be an integer from ${min} to ${max} (got '${raw}')`,
    )
  }
  return n
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY) throw new HttpError(413, 'InvalidOptionsError', `body larger than ${MAX_BODY} bytes`)
    chunks.push(chunk as Buffer)
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new HttpError(400, 'InvalidOptionsError', 'body is not valid JSON')
  }
}
