import type { ChildProcess } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { HostCommandError } from './errors.js'
import type { Host } from './host.js'

/** What a `peerkit node` or `peerkit directory` printed before `ready`. */
export interface PeerInfo {
  /** The PeerId (`peer …` or `directory …`). */
  id: string
  /** `listen …` lines. */
  listen: string[]
  /** `HOST:PORT` of the HTTP API (`api http://…`), nodes only. */
  api?: string
  /** From `overlay NAME role ROLE`, nodes only. */
  role?: string
}

/** A provider as the CLI's JSON shows it. */
export interface ProviderJson {
  id: string
  addresses: string[]
}

/** `peerkit search --json`. */
export interface SearchJson {
  query: string
  hits: { hash: string; name: string; size: number; providers: ProviderJson[]; hops?: number }[]
}

/** `peerkit get --json`. */
export interface GetJson {
  hash: string
  path: string
  size: number
  verified: boolean
  elapsedMs: number
  sources: { id: string; bytes: number }[]
}

/** `peerkit status --json`. */
export interface StatusJson {
  id: string
  overlay: string
  role: string
  addresses: string[]
  neighbors: ProviderJson[]
  shares: number
  downloads: { hash: string; bytes: number; size: number; state: string; path?: string }[]
}

const STDERR_TAIL = 4000

/**
 * One `peerkit node` (or `directory`) process inside a host's namespace. Its
 * API listens on the namespace's own loopback, so `search`, `get` and
 * `status` run the `peerkit` command inside the same namespace.
 */
export class PeerProcess {
  readonly [Symbol.toStringTag] = '@peerkit/hosts:PeerProcess'
  /** Resolves with the exit code (or the signal name) once the process is gone. */
  readonly exited: Promise<number | string>
  private stderrTail: string
  private exitedValue: number | string | undefined

  private constructor(
    readonly host: Host,
    readonly child: ChildProcess,
    readonly info: PeerInfo,
    stderr: string,
    /** The node's data folder (its API cookie is `api.cookie` in it). */
    readonly data?: string,
  ) {
    this.stderrTail = stderr
    this.exited = new Promise((resolve) => {
      const done = (code: number | null, signal: string | null) => {
        this.exitedValue = code ?? signal ?? -1
        resolve(this.exitedValue)
      }
      if (child.exitCode !== null || child.signalCode !== null) done(child.exitCode, child.signalCode)
      else child.once('exit', done)
    })
    child.stderr?.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString()).slice(-STDERR_TAIL)
    })
  }

  /** Spawns the process (already started in `host`) and waits for `ready`. */
  static async started(
    host: Host,
    child: ChildProcess,
    timeout: number,
    data?: string,
  ): Promise<PeerProcess> {
    let stderr = ''
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-STDERR_TAIL)
    })
    const info = await new Promise<PeerInfo>((resolve, reject) => {
      const partial: PeerInfo = { id: '', listen: [] }
      const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
      const fail = (why: string) => {
        clearTimeout(timer)
        lines.close()
        child.kill('SIGKILL')
        reject(new HostCommandError(`peerkit on ${host.name} ${why}; stderr: ${stderr.trim() || '(empty)'}`))
      }
      const timer = setTimeout(() => fail(`printed no 'ready' within ${timeout} ms`), timeout)
      child.once('exit', (code, signal) => fail(`exited (${code ?? signal}) before 'ready'`))
      lines.on('line', (line) => {
        const [key, ...rest] = line.trim().split(/\s+/)
        const value = rest.join(' ')
        if (key === 'peer' || key === 'directory') partial.id = value
        else if (key === 'listen') partial.listen.push(value)
        else if (key === 'api') partial.api = value.replace(/^http:\/\//, '')
        else if (key === 'overlay') partial.role = rest[2]
        else if (key === 'ready') {
          clearTimeout(timer)
          child.removeAllListeners('exit')
          resolve(partial)
        }
      })
    })
    return new PeerProcess(host, child, info, stderr, data)
  }

  get id(): string {
    return this.info.id
  }

  /** The first `listen` address, e.g. `tcp://10.77.0.11:4001`. */
  get address(): string {
    const a = this.info.listen[0]
    if (!a) throw new HostCommandError(`peerkit on ${this.host.name} listens on nothing`)
    return a
  }

  get running(): boolean {
    return this.exitedValue === undefined
  }

  /** The last few KB the process wrote to stderr (its log). */
  get log(): string {
    return this.stderrTail
  }

  /** Sends `signal` (default SIGKILL: a crash) and waits until the process is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.running) return
    this.child.kill(signal)
    await this.exited
  }

  /** SIGTERM (the node leaves cleanly), then SIGKILL after `grace` ms. */
  async stop(grace = 5000): Promise<void> {
    if (!this.running) return
    this.child.kill('SIGTERM')
    const timer = setTimeout(() => this.child.kill('SIGKILL'), grace)
    await this.exited
    clearTimeout(timer)
  }

  /** `peerkit search QUERY --json --timeout MS` inside the host. */
  async search(query: string, timeout = 2000): Promise<SearchJson> {
    return JSON.parse(await this.cli(['search', query, '--json', '--timeout', String(timeout)])) as SearchJson
  }

  /** `peerkit get HASH --out PATH --json` inside the host. */
  async get(hash: string, out: string, providerTimeout = 10_000): Promise<GetJson> {
    const args = ['get', hash, '--out', out, '--json', '--provider-timeout', String(providerTimeout)]
    return JSON.parse(await this.cli(args)) as GetJson
  }

  /** `peerkit status --json` inside the host. */
  async status(): Promise<StatusJson> {
    return JSON.parse(await this.cli(['status', '--json'])) as StatusJson
  }

  /** The same document through the API with curl (cheap enough to poll). */
  async statusApi(): Promise<StatusJson> {
    return JSON.parse(await this.api('/status')) as StatusJson
  }

  /** A raw API request (`GET path`) inside the host, through curl when many must be cheap. */
  async api(path: string): Promise<string> {
    const token = await this.apiToken()
    const auth = token ? ['-H', `Authorization: Bearer ${token}`] : []
    return this.host.exec('curl', [
      '-sS',
      '--fail-with-body',
      '--max-time',
      '30',
      ...auth,
      `http://${this.apiAddress()}${path}`,
    ])
  }

  /** The secret every API request needs: the node's cookie file (`api.cookie` in its data folder). */
  async apiToken(): Promise<string | undefined> {
    return this.data ? (await readFile(join(this.data, 'api.cookie'), 'utf8')).trim() : undefined
  }

  /**
   * The same search through the API with curl (cheap enough to poll): the NDJSON
   * lines merged by hash. A failure line rejects with its name and message.
   */
  async searchApi(query: string, timeout = 1000): Promise<SearchJson> {
    const body = await this.api(`/search?q=${encodeURIComponent(query)}&timeout=${timeout}`)
    const hits = new Map<string, SearchJson['hits'][number]>()
    for (const line of body.split('\n')) {
      if (!line.trim()) continue
      const doc = JSON.parse(line) as SearchJson['hits'][number] & {
        error?: { name: string; message: string }
      }
      if (doc.error)
        throw new HostCommandError(
          `search '${query}' on ${this.host.name}: ${doc.error.name}: ${doc.error.message}`,
        )
      const seen = hits.get(doc.hash)
      if (!seen) hits.set(doc.hash, { ...doc, providers: [...doc.providers] })
      else
        for (const p of doc.providers) if (!seen.providers.some((q) => q.id === p.id)) seen.providers.push(p)
    }
    return { query, hits: [...hits.values()] }
  }

  /** Runs `peerkit ARGS --api HOST:PORT` inside the host and resolves its stdout. */
  cli(args: readonly string[]): Promise<string> {
    return this.host.exec(this.host.network.options.nodePath, [
      this.host.network.options.peerkitBin,
      ...args,
      '--api',
      this.apiAddress(),
      ...(this.data ? ['--data', this.data] : []),
    ])
  }

  private apiAddress(): string {
    if (!this.info.api) throw new HostCommandError(`peerkit on ${this.host.name} has no API (a directory?)`)
    return this.info.api
  }
}
