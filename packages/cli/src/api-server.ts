import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { isAbsolute, join } from 'node:path'
import { type ContentHash, type Hit, InvalidOptionsError, isContentHash, type Peer } from '@peerkit/core'
import { z } from 'zod'
import type { ApiHit, ApiStatus, DownloadEvent } from './api-types.js'
import { DownloadTracker, toErrorBody } from './download-tracker.js'
import type { Logger } from './logger.js'
import { DEFAULT_SEARCH_TIMEOUT, formatHostPort, isLoopback, MAX_SEARCH_TIMEOUT } from './options.js'
import { checkTarget, kindOf, safeFileName } from './output-path.js'

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
}

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

  constructor(
    private readonly peer: Peer,
    private readonly options: ApiServerOptions,
  ) {
    if (!options.token)
      throw new InvalidOptionsError('the API needs a token (options.token), on loopback too')
    this.tracker = new DownloadTracker(peer)
    this.server = createServer((req, res) => {
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
    this.authorize(req)
    const url = new URL(req.url ?? '/', 'http://api')
    const parts = url.pathname.split('/').filter(Boolean)
    this.options.logger?.debug('api request', { method: req.method, path: url.pathname })
    const route = routeOf(req.method ?? 'GET', parts)
    switch (route) {
      case 'GET /status':
        return this.json(res, 200, this.status())
      case 'GET /stats':
        return this.json(res, 200, this.peer.overlay.stats())
      case 'GET /search':
        return this.search(url, res)
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
      shares: s.shares,
      downloads: s.downloads.map((d) => ({
        hash: d.hash,
        bytes: d.bytes,
        size: d.size,
        state: d.state,
        path: this.tracker.outputOf(d.path) ?? d.path,
      })),
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
    if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) {
      throw new HttpError(415, 'InvalidOptionsError', 'POST /downloads takes an application/json body')
    }
    const parsed = startBody.safeParse(await readJson(req))
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      throw new HttpError(400, 'InvalidOptionsError', `${issue?.path.join('.') || 'body'}: ${issue?.message}`)
    }
    const { hash, out, providerTimeout, force = false } = parsed.data
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
      if (event.type !== 'progress') abort.abort()
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

  private authorize(req: IncomingMessage): void {
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
    if (!timingSafeEqual(given, want)) {
      throw new HttpError(
        401,
        'AuthenticationError',
        "this API needs the secret in the node's cookie file (Authorization: Bearer SECRET): run the command " +
          "as the node's user, with --data DIR (the node's data folder) or --cookie FILE",
      )
    }
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

/** `GET /downloads/:hash/events` from `['downloads', HASH, 'events']`; the hash stays in `parts[1]`. */
function routeOf(method: string, parts: string[]): string {
  if (parts.length <= 1) return `${method} /${parts[0] ?? ''}`
  if (parts[0] === 'downloads' && parts.length <= 3)
    return `${method} /downloads/:hash${parts[2] ? `/${parts[2]}` : ''}`
  return `${method} /${parts.join('/')}`
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
