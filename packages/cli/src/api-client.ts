import { type IncomingMessage, request } from 'node:http'
import { createInterface } from 'node:readline'
import type {
  ApiBrowsePage,
  ApiHit,
  ApiStatus,
  DownloadEvent,
  LoginLink,
  StartDownloadRequest,
} from './api-types.js'
import { CommandError } from './errors.js'
import { formatHostPort, type HostPort, parseHostPort } from './options.js'
import type { SharedFolder } from './share-registry.js'

export interface ApiClientOptions {
  /** Sent as `Authorization: Bearer TOKEN`: the secret in the node's cookie file, which every request needs. */
  token?: string
  /** Milliseconds to wait for the node to answer (not for a stream to end). @default 10000 */
  timeout?: number
}

/** What pause, resume and cancel answer. */
export interface ControlResult {
  hash: string
  state?: string
  cancelled?: boolean
  keepPart?: boolean
}

/** An error the node's API answered with; `name` is the node's error name. */
export class ApiError extends CommandError {
  constructor(
    remoteName: string,
    message: string,
    readonly status: number,
  ) {
    super(message)
    this.name = remoteName
  }
}

/** Talks to a running `peerkit node` over its HTTP API. */
export class ApiClient {
  readonly address: HostPort
  private readonly timeout: number

  constructor(
    api: string,
    private readonly options: ApiClientOptions = {},
  ) {
    this.address = parseHostPort(api)
    this.timeout = options.timeout ?? 10_000
  }

  async status(): Promise<ApiStatus> {
    return (await this.json('GET', '/status')) as ApiStatus
  }

  /** A page of another peer's shared files (`peer`: a PeerId the node knows, or an address). */
  async browse(peer: string, options: { after?: string; limit?: number } = {}): Promise<ApiBrowsePage> {
    const params = new URLSearchParams({ peer })
    if (options.after !== undefined) params.set('after', options.after)
    if (options.limit !== undefined) params.set('limit', String(options.limit))
    return (await this.json('GET', `/browse?${params}`)) as ApiBrowsePage
  }

  async stats(): Promise<Record<string, unknown>> {
    return (await this.json('GET', '/stats')) as Record<string, unknown>
  }

  /** Hits as the node finds them. */
  async *search(query: string, options: { timeout?: number; limit?: number } = {}): AsyncGenerator<ApiHit> {
    const params = new URLSearchParams({ q: query })
    if (options.timeout !== undefined) params.set('timeout', String(options.timeout))
    if (options.limit !== undefined) params.set('limit', String(options.limit))
    for await (const line of this.lines(`/search?${params}`)) {
      const error = (line as { error?: { name: string; message: string } }).error
      if (error) throw new ApiError(error.name, `the node's search failed: ${error.message}`, 200)
      yield line as ApiHit
    }
  }

  /** Asks the node to download `hash` to `out` (an absolute path on the node's machine). */
  async startDownload(body: StartDownloadRequest): Promise<{ hash: string; path: string; started: boolean }> {
    return (await this.json('POST', '/downloads', body)) as { hash: string; path: string; started: boolean }
  }

  /**
   * The download's progress as it happens, ending with a `done` or `error`
   * event for output `out` (the path `startDownload` answered; its first
   * output when not given).
   */
  async *downloadEvents(hash: string, out?: string): AsyncGenerator<DownloadEvent> {
    for await (const line of this.lines(`/downloads/${hash}/events${outQuery(out)}`))
      yield line as DownloadEvent
  }

  async download(hash: string, out?: string): Promise<DownloadEvent> {
    return (await this.json('GET', `/downloads/${hash}${outQuery(out)}`)) as DownloadEvent
  }

  /** A fresh one-time link that signs a browser in to the node's page. */
  async loginLink(): Promise<LoginLink> {
    return (await this.json('POST', '/login-links')) as LoginLink
  }

  async shares(): Promise<SharedFolder[]> {
    return (await this.json('GET', '/shares')) as SharedFolder[]
  }

  /** Shares a folder (an absolute path on the node's machine) and answers its files. */
  async share(path: string): Promise<SharedFolder> {
    return (await this.json('POST', '/shares', { path })) as SharedFolder
  }

  async unshare(path: string): Promise<void> {
    await this.json('DELETE', `/shares?${new URLSearchParams({ path })}`)
  }

  /** Cancels the running download of `hash`; its `.part` is removed unless `keepPart`. */
  async cancel(hash: string, options: { keepPart?: boolean } = {}): Promise<ControlResult> {
    const keep = options.keepPart ? '?keep=1' : ''
    return (await this.json('DELETE', `/downloads/${hash}${keep}`)) as ControlResult
  }

  /** Pauses the running download of `hash` (its `.part` stays). */
  async pause(hash: string): Promise<ControlResult> {
    return (await this.json('POST', `/downloads/${hash}/pause`)) as ControlResult
  }

  /** Resumes the paused download of `hash`. */
  async resume(hash: string): Promise<ControlResult> {
    return (await this.json('POST', `/downloads/${hash}/resume`)) as ControlResult
  }

  /** Forgets the finished downloads (done, failed, cancelled); answers how many. */
  async clearFinished(): Promise<{ cleared: number }> {
    return (await this.json('POST', '/downloads/clear')) as { cleared: number }
  }

  private async json(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await this.send(method, path, body)
    const text = await readAll(res)
    return parseJson(text, path)
  }

  private async *lines(path: string): AsyncGenerator<unknown> {
    const res = await this.send('GET', path)
    res.setTimeout(0)
    const rl = createInterface({ input: res, crlfDelay: Number.POSITIVE_INFINITY })
    try {
      for await (const line of rl) if (line.trim()) yield parseJson(line, path)
    } finally {
      rl.close()
      res.destroy()
    }
  }

  private send(method: string, path: string, body?: unknown): Promise<IncomingMessage> {
    const where = formatHostPort(this.address)
    const payload = body === undefined ? undefined : JSON.stringify(body)
    const headers: Record<string, string> = { accept: 'application/json' }
    if (payload !== undefined) headers['content-type'] = 'application/json'
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`
    return new Promise((resolve, reject) => {
      const req = request(
        { host: this.address.host, port: this.address.port, method, path, headers, timeout: this.timeout },
        (res) => {
          req.setTimeout(0)
          if ((res.statusCode ?? 500) < 400) return resolve(res)
          readAll(res).then((text) => {
            const err = (parseJsonOr(text) as { error?: { name?: string; message?: string } })?.error
            reject(
              new ApiError(
                err?.name ?? 'ApiError',
                err?.message ?? `the node answered ${res.statusCode} to ${method} ${path}`,
                res.statusCode ?? 500,
              ),
            )
          }, reject)
        },
      )
      req.on('timeout', () =>
        req.destroy(
          new CommandError(
            `the node's API at ${where} did not answer within ${this.timeout} ms — is it busy or stuck?`,
          ),
        ),
      )
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err instanceof CommandError) return reject(err)
        if (err.code?.startsWith('HPE_') || err.code === 'ECONNRESET')
          return reject(
            new CommandError(
              `${where} answered, but not as a peerkit node's HTTP API (${err.code}) — is it the peer's own port? ` +
                'Give --api the address `peerkit node` printed as `api http://HOST:PORT` (default 127.0.0.1:4680)',
              { cause: err },
            ),
          )
        reject(
          new CommandError(
            `cannot reach the node's API at ${where} (${err.code ?? err.message}) — is \`peerkit node --api ${where}\` running?`,
            { cause: err },
          ),
        )
      })
      req.end(payload)
    })
  }
}

function outQuery(out: string | undefined): string {
  return out === undefined ? '' : `?${new URLSearchParams({ out })}`
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    res.on('data', (c: Buffer) => chunks.push(c))
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    res.on('error', reject)
  })
}

function parseJsonOr(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined // an error answer that is not JSON: the caller falls back to the HTTP status
  }
}

function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new CommandError(
      `the node's answer to ${path} is not JSON — is that address a peerkit node's API?`,
      {
        cause: err,
      },
    )
  }
}
