/**
 * Benchmark of the directory at scale (`npm run bench:directory`): registrations
 * per second and searches per second with 10^5 and 10^6 registered files, for
 * today's in-memory directory and for one, two and four directory servers on
 * one PostgreSQL, in the same run; memory per registered file in each (the
 * servers' heap, and the database's table and index size).
 *
 * Each directory server is a process of its own (bench/directory-server.ts);
 * 100 clients in this process register over TCP on loopback, spread
 * round-robin over the servers, then 32 of them search at once for `SECONDS`.
 * PostgreSQL is a throwaway server (`startPostgres`), one database per run.
 *
 * The registering clients speak the protocol by hand and make each batch as
 * they send it, so this process holds no record; each configuration is a
 * run of its own (its database dropped after it), so 10^7 runs in parts, one
 * command a configuration (the in-memory one needs about 16 GB of heap:
 * PEERKIT_BENCH_SERVER_HEAP sets the servers' --max-old-space-size in MB):
 *
 *   npm run bench:directory
 *   node packages/overlay-central/dist/bench/directory.js [sizes=100000,1000000] [seconds=10] [configs=memory,pg1,pg2,pg4]
 *   node packages/overlay-central/dist/bench/directory.js 10000000 10 pg4   # one part of 10^7
 *
 * `--seed` fills each store to the size in-process first (PostgreSQL: one
 * database for every configuration, through `PostgresIndex.register` with
 * the GIN indexes built after the load; in memory: the server's own register
 * handler, for the 100 logged-in clients), then measures a window of
 * `--window=N` (100,000) more registrations over the network, and the
 * searches, at that size:
 *
 *   node packages/overlay-central/dist/bench/directory.js 10000000 10 pg1,pg2,pg4 --seed
 *   PEERKIT_BENCH_SERVER_HEAP=15500 flock /tmp/peerkit-bigmem.lock \
 *     node packages/overlay-central/dist/bench/directory.js 10000000 10 memory --seed
 *
 * PEERKIT_BENCH_PROF=DIR writes each server's CPU profile there.
 */
import 'reflect-metadata'
import '@peerkit/transport-tcp'
import '@peerkit/index-memory'
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { createInterface, type Interface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { collect, Identity, type PeerRef, type Query } from '@peerkit/core'
import { MIGRATIONS, PostgresIndex } from '@peerkit/index-postgres'
import { startPostgres } from '@peerkit/index-postgres/testing'
import pg from 'pg'
import { container } from 'tsyringe'
import { CENTRAL, sourceOf } from '../src/index.js'
import { recordBytes } from '../src/registry-budget.js'
import { createNode, type Node } from '../test/helpers/net.js'
import { rawLoginTo } from '../test/helpers/raw.js'
import { makeQueries, recordsFor } from './records.js'

const ARGS = process.argv.slice(2).filter((a) => !a.startsWith('--'))
const FLAGS = new Map(
  process.argv
    .slice(2)
    .filter((a) => a.startsWith('--'))
    .map((a) => [a.slice(2).split('=')[0] as string, a.split('=')[1] ?? '']),
)
const SIZES = (ARGS[0] ?? '100000,1000000').split(',').map(Number)
const SECONDS = Number(ARGS[1] ?? 10)
const CONFIGS = (ARGS[2] ?? 'memory,pg1,pg2,pg4').split(',')
/** `--seed`: each store is filled to the size in-process first, then a window of this many more goes over the network. */
const SEEDED = FLAGS.has('seed')
const WINDOW = Number(FLAGS.get('window') || 100_000)
/** Providers of the records seeded into PostgreSQL (10,000 files each at 10^7), four to an address range. */
const SEED_PROVIDERS = Number(FLAGS.get('providers') || 1000)
const CLIENTS = 100
const SEARCHERS = 32
const LIMIT = 50
const BATCH = 1000

interface ServerProcess {
  child: ChildProcess
  ref: PeerRef
  ask(line: string): Promise<number>
}

const SERVER = fileURLToPath(new URL('./directory-server.js', import.meta.url))
const children = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL')
})

async function startServer(index: string, url?: string): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    [
      `--max-old-space-size=${process.env.PEERKIT_BENCH_SERVER_HEAP ?? 16000}`,
      ...(process.env.PEERKIT_BENCH_PROF
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PEERKIT_BENCH_PROF}`]
        : []),
      SERVER,
      index,
      ...(url ? [url] : []),
    ],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  )
  children.add(child)
  child.once('exit', () => children.delete(child))
  const lines: Interface = createInterface({ input: child.stdout as NodeJS.ReadableStream })
  const waiting: ((line: string) => void)[] = []
  lines.on('line', (line) => waiting.shift()?.(line))
  const next = () => new Promise<string>((resolve) => waiting.push(resolve))
  const [, address = '', id = ''] = (await next()).split(' ')
  return {
    child,
    ref: { id, addresses: [address] },
    async ask(line) {
      const answer = next()
      child.stdin?.write(`${line}\n`)
      return Number((await answer).split(' ')[1])
    },
  }
}

async function stopServer(s: ServerProcess): Promise<void> {
  const exited = new Promise<void>((resolve) => {
    if (s.child.exitCode !== null) resolve()
    else s.child.once('exit', () => resolve())
  })
  s.child.stdin?.write('stop\n')
  const timer = setTimeout(() => s.child.kill('SIGKILL'), 10_000)
  await exited
  clearTimeout(timer)
}

/**
 * CPU time (ms) of the database's processes serving `database` (their titles
 * name it: backends, autovacuum workers), sampled every second: a backend that
 * ends (an idle pooled connection closed) keeps its last sample. On a machine
 * shared with other work, registrations per CPU second are the figure that
 * does not move with the load.
 */
function databaseCpu(database: string): { ms(): number; stop(): void } {
  const seen = new Map<number, number>()
  const tick = Number(execFileSync('getconf', ['CLK_TCK']).toString()) || 100
  const sample = () => {
    for (const entry of readdirSync('/proc')) {
      const pid = Number(entry)
      if (!Number.isInteger(pid)) continue
      try {
        if (!readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes(database)) continue
        const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
        seen.set(pid, ((Number(fields[11]) + Number(fields[12])) * 1000) / tick)
      } catch {
        // The process ended between the listing and the read: its last sample stands.
      }
    }
  }
  sample()
  const timer = setInterval(sample, 1000)
  return {
    ms() {
      sample()
      return [...seen.values()].reduce((a, b) => a + b, 0)
    },
    stop: () => clearInterval(timer),
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')

async function run(size: number, config: string, url: string | undefined): Promise<string> {
  // --seed: the store holds `size` records before the measured window (PostgreSQL: seeded before, shared by the
  // configurations; in memory: the server fills itself once its clients are logged in); the window is measured.
  const servers: ServerProcess[] = []
  const count = config === 'memory' ? 1 : Number(config.slice(2))
  for (let i = 0; i < count; i++)
    servers.push(await startServer(config === 'memory' ? 'memory' : 'postgres', url))
  const heap0 = await Promise.all(servers.map((s) => s.ask('heap')))
  const dbCpu = url ? databaseCpu(new URL(url).pathname.slice(1)) : undefined
  const cpu = async () => (await Promise.all(servers.map((s) => s.ask('cpu')))).reduce((a, b) => a + b, 0)
  const node = (c: number, started: boolean) => {
    const server = servers[c % servers.length] as ServerProcess
    return createNode(
      {
        overlay: 'central',
        transport: 'tcp',
        listen: ['tcp://127.0.0.1:0'],
        options: { central: { directories: server.ref.addresses, heartbeatInterval: 600_000 } },
        // A register batch waits behind the 99 other clients' on a loaded machine.
        network: { requestTimeout: started ? 60_000 : 600_000 },
      },
      container,
    )
  }
  // The registering clients speak the protocol by hand (hello, login, register batches of 1,000 made as they
  // go), so this process holds no record: a central overlay keeps every record it publishes.
  const clients: Node[] = []
  for (let c = 0; c < CLIENTS; c++) {
    const client = node(c, false)
    await client.network.start()
    await rawLoginTo((servers[c % servers.length] as ServerProcess).ref, client, {
      addresses: client.addresses(),
    })
    clients.push(client)
  }
  const seeded = SEEDED ? Math.ceil(size / CLIENTS) * CLIENTS : 0
  if (SEEDED && !url) {
    const t = Date.now()
    const cpuBefore = await cpu()
    const n = await (servers[0] as ServerProcess).ask(
      `seed ${seeded / CLIENTS} ${clients.map((c) => c.id).join(',')}`,
    )
    const s = (Date.now() - t) / 1000
    process.stderr.write(
      `${config}: seeded ${fmt(n)} records in-process in ${fmt(s)} s (${fmt(n / s)}/s, ${fmt(n / (((await cpu()) - cpuBefore) / 1000))} per CPU-s of the directory)\n`,
    )
  }
  // The measured registrations: all of them, or with --seed the window after the seeded ones (names continue).
  const per = Math.ceil((SEEDED ? WINDOW : size) / CLIENTS)
  const first = SEEDED && !url ? seeded / CLIENTS : 0
  const total = per * CLIENTS
  const names: string[] = []
  const windowProviders = clients.map((c) => c.id)

  const db = url ? new pg.Client({ connectionString: url }) : undefined
  // A connection the server ends (a restart, another process's pg_terminate_backend) fails the next count, not the run.
  db?.on('error', (err) => process.stderr.write(`the bench's database connection failed: ${err.message}\n`))
  await db?.connect()
  // Seeded, the window's rows are counted by their providers (a count of 10^7 rows takes seconds).
  const held = async () =>
    db
      ? Number(
          (
            await (SEEDED
              ? db.query(
                  'SELECT count(*) AS n FROM peerkit.records WHERE index_name = $1 AND provider = ANY($2)',
                  ['directory', windowProviders],
                )
              : db.query('SELECT count(*) AS n FROM peerkit.records'))
          ).rows[0].n,
        )
      : (await Promise.all(servers.map((s) => s.ask('records')))).reduce((a, b) => a + b, 0) -
        (url ? 0 : seeded)
  const cpu0 = await cpu()
  const db0 = dbCpu?.ms() ?? 0
  let t0 = Date.now()
  let sent = 0
  // A run at 10^7 takes long: its progress goes to stderr each minute (a run stopped early still says its rate).
  const progress = setInterval(() => {
    const s = (Date.now() - t0) / 1000
    process.stderr.write(
      `${config} ${fmt(total)}: ${fmt(sent)} registered in ${fmt(s)} s (${fmt(sent / s)}/s)\n`,
    )
  }, 60_000)
  await Promise.all(
    clients.map(async (client, c) => {
      const server = (servers[c % servers.length] as ServerProcess).ref
      for (let from = first; from < first + per; from += BATCH) {
        const ref = { id: client.id, addresses: client.addresses() }
        const records = recordsFor(ref, c, from, Math.min(BATCH, first + per - from))
        if (from === first) names.push(...records.slice(0, 20).map((r) => r.name))
        for (let attempt = 1; ; attempt++) {
          try {
            await client.network.request(server, CENTRAL, { type: 'register', records })
            break
          } catch (err) {
            // As a client would: a batch the directory failed (its database overloaded) is sent again.
            if (attempt >= 5) throw err
            process.stderr.write(`a register batch failed (attempt ${attempt}): ${(err as Error).message}\n`)
            await new Promise((r) => setTimeout(r, 1000 * attempt))
          }
        }
        sent += records.length
      }
    }),
  )
  clearInterval(progress)
  const registerDeadline = Date.now() + 3_600_000
  while ((await held()) < total) {
    if (Date.now() > registerDeadline)
      throw new Error(`only ${await held()} of ${total} registered an hour after the last was sent`)
    await new Promise((r) => setTimeout(r, 100))
  }
  const registerMs = Date.now() - t0
  const serverCpu = (await cpu()) - cpu0
  const databaseCpuMs = (dbCpu?.ms() ?? 0) - db0
  dbCpu?.stop()
  const queries = makeQueries(names, LIMIT)
  const searchers: Node[] = []
  for (let c = 0; c < SEARCHERS; c++) {
    const searcher = node(c, true)
    await searcher.start()
    searchers.push(searcher)
  }

  let answered = 0
  let hits = 0
  const deadline = Date.now() + SECONDS * 1000
  t0 = Date.now()
  await Promise.all(
    searchers.map(async (node, s) => {
      let i = s * 61
      while (Date.now() < deadline) {
        const got = await collect(node.overlay.search(queries[i++ % queries.length] as Query))
        hits += got.length
        answered++
      }
    }),
  )
  const searchMs = Date.now() - t0
  const heap1 = await Promise.all(servers.map((s) => s.ask('heap')))
  // Over every record the servers hold: seeded in PostgreSQL, they hold only what the window sent them.
  const heapPerRecord = heap1.reduce((a, b, i) => a + b - (heap0[i] ?? 0), 0) / (total + (url ? 0 : seeded))
  let dbPerRecord = ''
  if (db) {
    const { rows } = await db.query("SELECT pg_total_relation_size('peerkit.records') AS b")
    dbPerRecord = `${fmt(Number(rows[0].b) / (seeded + total))} B`
    // Seeded, the next configuration starts from the same registry: the window's rows go.
    if (SEEDED)
      await db.query('DELETE FROM peerkit.records WHERE index_name = $1 AND provider = ANY($2)', [
        'directory',
        windowProviders,
      ])
  }
  // Stopped by their own hand (a CPU profile, PEERKIT_BENCH_PROF, is written at exit), killed if they linger.
  await Promise.all(servers.map((s) => stopServer(s)))
  await Promise.allSettled([...clients, ...searchers].map((n) => n.stop()))
  await db?.end()
  const label =
    config === 'memory' ? 'in-memory, 1 server' : `PostgreSQL, ${count} server${count > 1 ? 's' : ''}`
  const perCpuSecond = (ms: number) => (ms > 0 ? fmt(total / (ms / 1000)) : '–')
  const files = SEEDED ? `${fmt(seeded)} + ${fmt(total)}` : fmt(total)
  return `| ${files} | ${label} | ${fmt(total / (registerMs / 1000))} | ${perCpuSecond(serverCpu)} | ${url ? perCpuSecond(databaseCpuMs) : '–'} | ${fmt(answered / (searchMs / 1000))} | ${(hits / Math.max(1, answered)).toFixed(1)} | ${fmt(heapPerRecord)} B | ${dbPerRecord || '–'} |`
}

/**
 * Fills the database at `url` with `size` registrations (--seed) of
 * SEED_PROVIDERS providers, four to an address range, as a directory writes
 * them: through `PostgresIndex.register` (the rows, the keywords' terms and
 * lexemes, the range and the accounted bytes a directory gives it), batches
 * of 1,000 of one provider, eight at once. The bulk-load procedure: the two
 * GIN indexes (trigrams, lexemes) are dropped for the load, the table is
 * vacuumed and analysed, and the indexes are built again with the
 * migration's own statements.
 */
async function seedPostgres(url: string, size: number): Promise<void> {
  const index = new PostgresIndex({
    url,
    name: 'directory',
    poolSize: 8,
    connectTimeout: 600_000,
    statementTimeout: 0,
  })
  await index.open()
  const db = new pg.Client({ connectionString: url })
  await db.connect()
  const t = Date.now()
  await db.query('DROP INDEX peerkit.records_terms_trgm, peerkit.records_lexemes')
  const providers = Array.from({ length: SEED_PROVIDERS }, (_, i) => {
    const identity = Identity.fromSeed(createHash('sha256').update(`bench-provider-${i}`).digest())
    const range = i >> 2
    const address = `tcp://10.${(range >> 8) & 255}.${range & 255}.${(i & 3) + 2}:4001`
    return { ref: { id: identity.peerId, addresses: [address] }, fold: sourceOf(address).prefix }
  })
  const per = Math.ceil(size / SEED_PROVIDERS)
  // A day's lease: what a directory with that registrationTtl writes; the rows outlive every configuration's run.
  const expiresAt = Date.now() + 86_400_000
  let done = 0
  let next = 0
  const batches = Math.ceil(per / BATCH) * SEED_PROVIDERS
  const progress = setInterval(() => {
    const s = (Date.now() - t) / 1000
    process.stderr.write(`seed: ${fmt(done)} rows in ${fmt(s)} s (${fmt(done / s)}/s)\n`)
  }, 60_000)
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let b = next++; b < batches; b = next++) {
        const p = b % SEED_PROVIDERS
        const from = Math.floor(b / SEED_PROVIDERS) * BATCH
        const provider = providers[p] as (typeof providers)[number]
        const records = recordsFor(provider.ref, CLIENTS + p, from, Math.min(BATCH, per - from)).map(
          (record) => ({ record, bytes: recordBytes(record.name, record.keywords) }),
        )
        await index.register(records, { fold: provider.fold, expiresAt })
        done += records.length
      }
    }),
  )
  clearInterval(progress)
  await index.close()
  const loaded = Date.now()
  process.stderr.write(`seed: ${fmt(done)} rows in ${fmt((loaded - t) / 1000)} s; vacuum, analyse, indexes\n`)
  await db.query("SET maintenance_work_mem = '1GB'")
  await db.query('VACUUM (ANALYZE) peerkit.records')
  for (const statement of MIGRATIONS[0] ?? [])
    if (/records_terms_trgm|records_lexemes/.test(statement))
      await db.query(statement.replaceAll('{s}', 'peerkit'))
  const { rows } = await db.query("SELECT pg_total_relation_size('peerkit.records') AS b")
  process.stderr.write(
    `seed: indexes built in ${fmt((Date.now() - loaded) / 1000)} s; ${fmt(Number(rows[0].b) / done)} B per row in all\n`,
  )
  await db.end()
}

async function dropDatabase(admin: string, url: string): Promise<void> {
  const db = new pg.Client({ connectionString: admin })
  await db.connect()
  try {
    await db.query(`DROP DATABASE ${pg.escapeIdentifier(new URL(url).pathname.slice(1))} WITH (FORCE)`)
  } finally {
    await db.end()
  }
}

const postgres = CONFIGS.some((c) => c.startsWith('pg'))
  ? await startPostgres({ settings: { shared_buffers: '1GB', max_wal_size: '4GB', work_mem: '16MB' } })
  : undefined
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    // Stopped by hand: the throwaway database goes too.
    process.stderr.write(`bench:directory: ${signal}, stopping its PostgreSQL\n`)
    void (postgres?.stop() ?? Promise.resolve()).finally(() => process.exit(130))
  })
}
const rows: string[] = []
try {
  for (const size of SIZES) {
    // Seeded, the configurations on PostgreSQL share one database, filled once.
    let shared: string | undefined
    if (SEEDED && postgres) {
      shared = await postgres.createDatabase()
      await seedPostgres(shared, size)
    }
    for (const config of CONFIGS) {
      const url = postgres && config !== 'memory' ? (shared ?? (await postgres.createDatabase())) : undefined
      const row = await run(size, config, url)
      console.log(row)
      rows.push(row)
      // 10^7 files are about 11 GB of database: each configuration's goes before the next.
      if (postgres && url && !shared) await dropDatabase(postgres.url, url)
    }
    if (postgres && shared) await dropDatabase(postgres.url, shared)
  }
} finally {
  await postgres?.stop()
}
console.log(
  [
    '',
    `| files | directory | registrations/s | per CPU-s of the directories | per CPU-s of the database | searches/s (${SEARCHERS} clients, ${SECONDS} s) | hits/search | server heap per file | database per file |`,
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n'),
)
process.exit(0)
