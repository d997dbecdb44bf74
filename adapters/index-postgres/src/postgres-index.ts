import { createHash, randomBytes } from 'node:crypto'
import {
  type Clock,
  type ContentHash,
  every,
  type FileRecord,
  gramSize,
  type Hit,
  type Index,
  keywords,
  type Logger,
  NotStartedError,
  type PeerId,
  type PeerRef,
  type PutOptions,
  type Query,
  RealClock,
  silentLogger,
} from '@peerkit/core'
import pg from 'pg'
import { PostgresIndexError } from './errors.js'
import { migrate } from './migrations.js'
import {
  type PostgresIndexOptions,
  parsePostgresIndexOptions,
  type ResolvedPostgresIndexOptions,
} from './options.js'

/** Puts issued back to back are written in one statement of at most this many rows. */
const MAX_BATCH = 1000
/** Rows per page of `records()`. */
const PAGE = 1000
/**
 * The `expires_at` of a record whose provider holds a lease (`renew`): the
 * lease's expiry applies, and the expiry index never lists it, so a renewal
 * is one row and a purge never walks the leased records.
 */
const LEASED = '9007199254740991'

/** What a PostgresIndex reads time from and logs to. */
export interface PostgresIndexComponents {
  /** Expiry is in this clock's milliseconds. @default the real clock */
  clock?: Clock
  logger?: Logger
}

/** The options of one index: the adapter's options plus the index's name. */
export interface PostgresIndexInit extends PostgresIndexOptions {
  /** The store's name (`directory`, `shares` …): the same name on the same database is the same records. Absent: a private store, emptied at `close()`. */
  name?: string
}

interface Row {
  hash: string
  provider: string
  name: string
  terms: string
  record: string
  expiresAt: number | null
  /** A directory's registration: its provider's address range, and the bytes the directory accounted. */
  fold: string | null
  bytes: number | null
}

/** A directory's registration of one record (`register`). */
export interface DirectoryRegistration {
  /** Its keywords are taken as given: the directory derived them from the name (core's `keywords`). */
  record: FileRecord
  /** What the directory accounts for it (its budget); given back by `registered` and `unregister`. */
  bytes: number
}

interface PutBatch {
  rows: Map<string, Row>
  started: boolean
  done: Promise<void>
}

const settle = () => undefined

/** What a put of a record already there replaces. */
const UPSERT = `name = EXCLUDED.name, terms = EXCLUDED.terms, lexemes = EXCLUDED.lexemes, record = EXCLUDED.record,
  expires_at = EXCLUDED.expires_at, fold = EXCLUDED.fold, bytes = EXCLUDED.bytes`

/**
 * An `Index` in a PostgreSQL database, shared by every process that opens the
 * same name on the same database and schema (several directory servers).
 *
 * A keyword term shorter than its substring minimum (`gramSize`: 3, 2 for CJK)
 * matches as a keyword prefix, through a GIN index over the record's keywords
 * as full-text lexemes (`'ha':*`); a longer term matches as a substring of a
 * keyword (which includes a prefix), through a pg_trgm GIN index
 * (`LIKE '%arr%'`), in any script. Both are exact: what they find is what
 * core's `termMatches` says.
 *
 * Calls apply in the order they are made: a write waits for the calls before
 * it, reads between two writes run at once. Puts issued back to back go to
 * the database as one statement. A write whose promise resolved is committed
 * (the database's durability applies).
 */
export class PostgresIndex implements Index {
  readonly [Symbol.toStringTag] = '@peerkit/index-postgres'
  /** Named stores outlive `close()`; a private one does not. */
  readonly durable: boolean
  /** Other processes may change the records at any time (directory servers sharing a database). */
  readonly shared: boolean
  readonly name: string
  private readonly options: ResolvedPostgresIndexOptions
  private readonly url: string
  private readonly clock: Clock
  private readonly log: Logger
  private pool: pg.Pool | undefined
  private table = ''
  private leases = ''
  private state: 'new' | 'opening' | 'open' | 'closed' = 'new'
  private lastWrite: Promise<unknown> = Promise.resolve()
  private reads: Promise<unknown>[] = []
  private batch: PutBatch | undefined
  /** The earliest expiry this process knows of: a read at or past it purges first. */
  private nextExpiry = Number.POSITIVE_INFINITY
  private purger: { stop(): void } | undefined

  constructor(init: PostgresIndexInit, components: PostgresIndexComponents = {}) {
    const { name, ...rest } = init
    this.options = parsePostgresIndexOptions(rest)
    const url = this.options.url ?? process.env.PEERKIT_DATABASE_URL
    if (!url) {
      throw new PostgresIndexError(
        'the postgres index needs a database: set options.postgres.url (peerkit directory --database URL) or PEERKIT_DATABASE_URL',
      )
    }
    this.url = url
    this.durable = name !== undefined
    this.shared = name !== undefined
    this.name = name ?? `private/${randomBytes(8).toString('hex')}`
    this.clock = components.clock ?? new RealClock()
    this.log = (components.logger ?? silentLogger()).forComponent('peerkit:index:postgres')
  }

  /** Connects, creates or migrates the schema (under an advisory lock), and purges what lapsed. */
  async open(): Promise<void> {
    if (this.state !== 'new') {
      if (this.state === 'closed') throw new NotStartedError(`postgres index '${this.name}' is closed`)
      return
    }
    this.state = 'opening'
    const pool = new pg.Pool({
      connectionString: this.url,
      max: this.options.poolSize,
      connectionTimeoutMillis: this.options.connectTimeout,
      statement_timeout: this.options.statementTimeout || undefined,
      application_name: `peerkit ${this.name}`.slice(0, 63),
    })
    // An idle connection the server closed (a restart, a failover) is replaced on the next query.
    pool.on('error', (err) => this.log.warn('a database connection failed', { index: this.name, err }))
    try {
      const client = await pool.connect()
      try {
        await migrate(client, this.options.schema)
      } finally {
        client.release()
      }
    } catch (err) {
      await pool.end().catch((e) => this.log.debug('closing the pool after a failed open', { err: e }))
      this.state = 'new'
      throw new PostgresIndexError(
        `postgres index '${this.name}' could not open ${redact(this.url)}: ${(err as Error).message}`,
        { cause: err },
      )
    }
    this.pool = pool
    this.table = `${pg.escapeIdentifier(this.options.schema)}.records`
    this.leases = `${pg.escapeIdentifier(this.options.schema)}.leases`
    this.state = 'open'
    await this.write(() => this.purge())
    this.purger = every(this.clock, this.options.purgeInterval, () => {
      this.write(() => this.purge()).catch((err) =>
        this.log.warn('purging lapsed records failed; the next purge tries again', { index: this.name, err }),
      )
    })
  }

  /** Waits for the calls made so far, then closes the connections (a private store is emptied first). */
  async close(): Promise<void> {
    if (this.state === 'closed') return
    if (this.state === 'new') {
      this.state = 'closed'
      return
    }
    this.purger?.stop()
    this.purger = undefined
    if (!this.durable) await this.clear()
    await Promise.all([this.lastWrite, ...this.reads])
    this.state = 'closed'
    const pool = this.pool
    this.pool = undefined
    await pool?.end()
  }

  put(record: FileRecord, options: PutOptions = {}): Promise<void> {
    const row: Row = {
      hash: record.hash,
      provider: record.provider.id,
      name: record.name,
      terms: ` ${keywords(`${record.keywords.join(' ')} ${record.name}`).join(' ')} `,
      record: JSON.stringify(record),
      expiresAt: options.expiresAt ?? null,
      fold: null,
      bytes: null,
    }
    if (options.expiresAt !== undefined && options.expiresAt < this.nextExpiry)
      this.nextExpiry = options.expiresAt
    const key = `${row.hash} ${row.provider}`
    const open = this.batch
    if (open && !open.started && open.rows.size < MAX_BATCH) {
      // A later put of the same pair replaces the earlier one in the batch, as it would in the table.
      open.rows.delete(key)
      open.rows.set(key, row)
      return open.done
    }
    const batch: PutBatch = { rows: new Map([[key, row]]), started: false, done: Promise.resolve() }
    batch.done = this.write((c, now) => {
      batch.started = true
      return this.insert(c, [...batch.rows.values()], now)
    })
    this.batch = batch
    return batch.done
  }

  remove(hash: ContentHash, provider?: PeerId): Promise<number> {
    return this.write(async (c, now) => {
      const res = await c.query<{ live: boolean }>(
        `DELETE FROM ${this.table} r WHERE index_name = $1 AND hash = $2 ${provider === undefined ? '' : 'AND provider = $4'}
         RETURNING ${this.live('r.', '$3')} AS live`,
        provider === undefined ? [this.name, hash, now] : [this.name, hash, now, provider],
      )
      return res.rows.filter((r) => r.live).length
    })
  }

  removeProvider(provider: PeerId): Promise<number> {
    return this.write(async (c, now) => {
      const res = await c.query<{ live: boolean }>(
        `DELETE FROM ${this.table} r WHERE index_name = $1 AND provider = $2
         RETURNING ${this.live('r.', '$3')} AS live`,
        [this.name, provider, now],
      )
      return res.rows.filter((r) => r.live).length
    })
  }

  /**
   * Renews `provider`'s lease to `expiresAt`: from its first renewal on, every
   * live, expiring record of the provider (and each it puts later with an
   * expiry) lives exactly as long as the lease, which later renewals move
   * (a directory server renews its peers' registrations this way: one row per
   * peer, whatever it registered). A record that lapsed is not revived;
   * records without expiry stay so. Resolves to the provider's records under the lease.
   */
  renew(provider: PeerId, expiresAt: number): Promise<number> {
    if (expiresAt < this.nextExpiry) this.nextExpiry = expiresAt
    return this.write(async (c, now) => {
      // A lease that lapsed and was not purged yet goes first, with its records: renewing it would revive them.
      await c.query(
        `WITH gone AS (DELETE FROM ${this.leases} WHERE index_name = $1 AND provider = $2 AND expires_at <= $3
           RETURNING provider)
         DELETE FROM ${this.table} r USING gone
         WHERE r.index_name = $1 AND r.provider = gone.provider AND r.expires_at = ${LEASED}`,
        [this.name, provider, now],
      )
      const lease = await c.query<{ fresh: boolean }>(
        `INSERT INTO ${this.leases} (index_name, provider, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (index_name, provider) DO UPDATE SET expires_at = EXCLUDED.expires_at
         RETURNING (xmax = 0) AS fresh`,
        [this.name, provider, expiresAt],
      )
      if (lease.rows[0]?.fresh) {
        // A new lease (a lapsed one was purged with its records): the provider's live expiring records join it.
        await c.query(
          `UPDATE ${this.table} SET expires_at = ${LEASED}
           WHERE index_name = $1 AND provider = $2 AND expires_at IS NOT NULL AND expires_at > $3`,
          [this.name, provider, now],
        )
      }
      const res = await c.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${this.table} WHERE index_name = $1 AND provider = $2 AND expires_at = ${LEASED}`,
        [this.name, provider],
      )
      return Number(res.rows[0]?.n ?? 0)
    })
  }

  /**
   * A directory's registrations, kept here rather than in its heap. Puts
   * `records` of one provider registering from address range `fold` (a
   * search counts the providers of a hash by range, so keys crowding one
   * range count once), each with the bytes the directory accounts for it,
   * in one statement; with `expiresAt` they lapse then, or with the
   * provider's lease (`renew`).
   *
   * Registrations of different providers touch different rows, so they do
   * not wait for each other: a register runs after the writes made before
   * it, beside other registers (each on a connection of the pool), and the
   * next other write waits for it. Its caller orders one provider's
   * registers (the directory awaits each), and a read sees it once it resolved.
   */
  register(
    records: readonly DirectoryRegistration[],
    options: { fold: string; expiresAt?: number },
  ): Promise<void> {
    if (records.length === 0) return this.write(async () => undefined)
    const expiresAt = options.expiresAt ?? null
    if (expiresAt !== null && expiresAt < this.nextExpiry) this.nextExpiry = expiresAt
    const rows = records.map(
      ({ record, bytes }): Row => ({
        hash: record.hash,
        provider: record.provider.id,
        name: record.name,
        terms: ` ${record.keywords.join(' ')} `,
        record: JSON.stringify(record),
        expiresAt,
        fold: options.fold,
        bytes,
      }),
    )
    return this.beside((c, now) => this.insert(c, rows, now))
  }

  /** The live registrations of `provider` among `hashes`: hash → bytes accounted (0 for a plain `put`). */
  registered(provider: PeerId, hashes: readonly ContentHash[]): Promise<Map<ContentHash, number>> {
    return this.read(async (c, now) => {
      const res = await c.query<{ hash: string; bytes: number | null }>({
        name: `peerkit-registered-${this.options.schema}`,
        text: `SELECT hash, bytes FROM ${this.table} r
          WHERE index_name = $1 AND provider = $2 AND hash = ANY($3::text[]) AND ${this.live('r.', '$4')}`,
        values: [this.name, provider, hashes, now],
      })
      return new Map(res.rows.map((r) => [r.hash, r.bytes ?? 0]))
    })
  }

  /** Removes `provider`'s records of `hashes` (every one when absent); resolves to the bytes of each live one removed. */
  unregister(provider: PeerId, hashes?: readonly ContentHash[]): Promise<number[]> {
    return this.write(async (c, now) => {
      const res = await c.query<{ live: boolean; bytes: number | null }>(
        `DELETE FROM ${this.table} r WHERE index_name = $1 AND provider = $2
           ${hashes === undefined ? '' : 'AND hash = ANY($4::text[])'}
         RETURNING ${this.live('r.', '$3')} AS live, bytes`,
        hashes === undefined ? [this.name, provider, now] : [this.name, provider, now, hashes],
      )
      return res.rows.filter((r) => r.live).map((r) => r.bytes ?? 0)
    })
  }

  /** What `provider` has registered and not lapsed: records, and the bytes accounted for them. */
  usage(provider: PeerId): Promise<{ records: number; bytes: number }> {
    return this.read(async (c, now) => {
      const res = await c.query<{ n: string; b: string | null }>(
        `SELECT count(*) AS n, sum(coalesce(bytes, 0)) AS b FROM ${this.table} r
         WHERE index_name = $1 AND provider = $2 AND ${this.live('r.', '$3')}`,
        [this.name, provider, now],
      )
      return { records: Number(res.rows[0]?.n ?? 0), bytes: Number(res.rows[0]?.b ?? 0) }
    })
  }

  /**
   * Moves every record of `provider` to address range `fold` and to the
   * provider `ref` (a peer that logged in from another address): one
   * statement (rows already there are not rewritten); resolves to the records moved.
   */
  relocate(provider: PeerId, fold: string, ref: PeerRef): Promise<number> {
    return this.write(async (c) => {
      const res = await c.query(
        `UPDATE ${this.table} SET fold = $3, record = jsonb_set(record::jsonb, '{provider}', $4::jsonb)::json
         WHERE index_name = $1 AND provider = $2
           AND (fold IS DISTINCT FROM $3 OR (record -> 'provider')::jsonb IS DISTINCT FROM $4::jsonb)`,
        [this.name, provider, fold, JSON.stringify(ref)],
      )
      return res.rowCount ?? 0
    })
  }

  get(hash: ContentHash): Promise<FileRecord[]> {
    return this.read(async (c, now) => {
      const res = await c.query<{ record: FileRecord }>(
        `SELECT record FROM ${this.table} r WHERE index_name = $1 AND hash = $2 AND ${this.live('r.', '$3')} ORDER BY seq`,
        [this.name, hash, now],
      )
      return res.rows.map((r) => r.record)
    })
  }

  search(query: Query): Promise<Hit[]> {
    const limit = query.limit
    const params: unknown[] = [this.name]
    const where: string[] = []
    if (query.hash !== undefined) {
      params.push(query.hash)
      where.push(`r.hash = $${params.length}`)
    } else {
      const terms = keywords((query.keywords ?? []).join(' '))
      const prefixes: string[] = []
      for (const term of terms) {
        if ([...term].length < gramSize(term))
          prefixes.push(`'${term.replaceAll("'", "''").replaceAll('\\', '\\\\')}':*`)
        else {
          params.push(`%${term.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`)
          where.push(`r.terms LIKE $${params.length}`)
        }
      }
      if (prefixes.length > 0) {
        params.push(prefixes.join(' & '))
        where.push(`r.lexemes @@ $${params.length}::tsquery`)
      }
      if (where.length === 0) return this.read(async () => [])
    }
    if (limit !== undefined && limit <= 0) return this.read(async () => [])
    params.push(limit ?? null)
    const limitParam = `$${params.length}`
    params.push(0)
    const nowParam = `$${params.length}`
    // A keyword search must go through the text indexes: the name is compared as an expression, so
    // the planner never scans every record of the index by name beside them (it did while statistics
    // lagged behind a bulk registration: 50 ms instead of 0.1 ms). A hash search uses the primary key.
    const byName = query.hash === undefined ? "(r.index_name || '') = $1" : 'r.index_name = $1'
    const sql = `
      WITH m AS (
        SELECT DISTINCT ON (r.hash) r.hash, r.name, r.record
        FROM ${this.table} r
        WHERE ${byName} AND ${this.live('r.', nowParam)} AND ${where.join(' AND ')}
        ORDER BY r.hash, r.seq
      ), ranked AS (
        SELECT m.hash, m.name, m.record,
          (SELECT count(DISTINCT coalesce(c.fold, c.provider)) FROM ${this.table} c
            WHERE c.index_name = $1 AND c.hash = m.hash AND ${this.live('c.', nowParam)}) AS n
        FROM m
        ORDER BY n DESC, m.name COLLATE "C", m.hash COLLATE "C"
        LIMIT ${limitParam}
      )
      SELECT ranked.hash, ranked.record,
        (SELECT json_agg(c.record -> 'provider' ORDER BY c.seq) FROM ${this.table} c
          WHERE c.index_name = $1 AND c.hash = ranked.hash AND ${this.live('c.', nowParam)}) AS providers
      FROM ranked
      ORDER BY ranked.n DESC, ranked.name COLLATE "C", ranked.hash COLLATE "C"`
    return this.read(async (c, now) => {
      params[params.length - 1] = now
      // Prepared per connection and shape (terms of each kind), so it is planned once, not per search.
      const name = `peerkit-search-${createHash('sha1').update(sql).digest('hex').slice(0, 16)}`
      const res = await c.query<{ hash: string; record: FileRecord; providers: PeerRef[] }>({
        name,
        text: sql,
        values: params,
      })
      return res.rows.map(
        (r): Hit => ({
          hash: r.hash,
          name: r.record.name,
          size: r.record.size,
          chunkSize: r.record.chunkSize,
          providers: r.providers,
        }),
      )
    })
  }

  async *records(): AsyncIterable<FileRecord> {
    let after: [string, string] = ['', '']
    for (;;) {
      const page = await this.read(async (c, now) => {
        const res = await c.query<{ hash: string; provider: string; record: FileRecord }>(
          `SELECT hash, provider, record FROM ${this.table} r
           WHERE index_name = $1 AND ${this.live('r.', '$2')} AND (hash, provider) > ($3, $4)
           ORDER BY hash, provider LIMIT ${PAGE}`,
          [this.name, now, after[0], after[1]],
        )
        return res.rows
      })
      for (const r of page) yield r.record
      const last = page[page.length - 1]
      if (!last || page.length < PAGE) return
      after = [last.hash, last.provider]
    }
  }

  count(): Promise<number> {
    return this.read(async (c, now) => {
      const res = await c.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${this.table} r WHERE index_name = $1 AND ${this.live('r.', '$2')}`,
        [this.name, now],
      )
      return Number(res.rows[0]?.n ?? 0)
    })
  }

  clear(): Promise<void> {
    return this.write(async (c) => {
      await c.query(`DELETE FROM ${this.table} WHERE index_name = $1`, [this.name])
      await c.query(`DELETE FROM ${this.leases} WHERE index_name = $1`, [this.name])
    })
  }

  expire(): Promise<number> {
    return this.write(() => this.purge())
  }

  /** Deletes the records that lapsed and learns the next expiry. */
  private async purge(): Promise<number> {
    const pool = this.pool as pg.Pool
    const now = this.clock.now()
    // Lapsed leases go with the records under them; then the records that lapsed on their own expiry.
    const leased = await pool.query(
      `WITH gone AS (DELETE FROM ${this.leases} WHERE index_name = $1 AND expires_at <= $2 RETURNING provider)
       DELETE FROM ${this.table} r USING gone
       WHERE r.index_name = $1 AND r.provider = gone.provider AND r.expires_at = ${LEASED}`,
      [this.name, now],
    )
    const own = await pool.query(
      `DELETE FROM ${this.table} WHERE index_name = $1 AND expires_at IS NOT NULL AND expires_at <= $2`,
      [this.name, now],
    )
    const next = await pool.query<{ t: string | null }>(
      `SELECT LEAST(
         (SELECT min(expires_at) FROM ${this.table} WHERE index_name = $1 AND expires_at IS NOT NULL),
         (SELECT min(expires_at) FROM ${this.leases} WHERE index_name = $1)) AS t`,
      [this.name],
    )
    const t = next.rows[0]?.t
    this.nextExpiry = t === null || t === undefined ? Number.POSITIVE_INFINITY : Number(t)
    const n = (leased.rowCount ?? 0) + (own.rowCount ?? 0)
    if (n > 0) this.log.debug('purged lapsed records', { index: this.name, records: n })
    return n
  }

  /** The expiry a put stores: under its provider's live lease, the lease's (`LEASED`). */
  private expiryOf(provider: string, expiresAt: string, now: string): string {
    return `CASE WHEN ${expiresAt} IS NULL THEN NULL
      WHEN EXISTS (SELECT 1 FROM ${this.leases} l WHERE l.index_name = $1 AND l.provider = ${provider} AND l.expires_at > ${now})
      THEN ${LEASED} ELSE ${expiresAt} END`
  }

  private async insert(c: pg.Pool, rows: Row[], now: number): Promise<void> {
    const [one] = rows
    if (rows.length === 1 && one) {
      // One row (puts awaited one by one): a prepared statement, parsed and planned once per connection.
      await c.query({
        name: `peerkit-put-${this.options.schema}`,
        text: `INSERT INTO ${this.table} (index_name, hash, provider, name, terms, lexemes, record, expires_at, fold, bytes)
          VALUES ($1, $2, $3, $4, $5, array_to_tsvector(string_to_array(btrim($5), ' ')), $6,
            ${this.expiryOf('$3', '$7::bigint', '$8')}, $9, $10)
          ON CONFLICT (index_name, hash, provider) DO UPDATE SET ${UPSERT}`,
        values: [
          this.name,
          one.hash,
          one.provider,
          one.name,
          one.terms,
          one.record,
          one.expiresAt,
          now,
          one.fold,
          one.bytes,
        ],
      })
      return
    }
    await c.query(
      `INSERT INTO ${this.table} (index_name, hash, provider, name, terms, lexemes, record, expires_at, fold, bytes)
       SELECT $1, u.hash, u.provider, u.name, u.terms,
         array_to_tsvector(string_to_array(btrim(u.terms), ' ')), u.record,
         ${this.expiryOf('u.provider', 'u.expires_at', '$8')}, u.fold, u.bytes
       FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::json[], $7::bigint[], $9::text[], $10::int[])
         WITH ORDINALITY AS u(hash, provider, name, terms, record, expires_at, fold, bytes, ord)
       ORDER BY u.ord
       ON CONFLICT (index_name, hash, provider) DO UPDATE SET ${UPSERT}`,
      [
        this.name,
        rows.map((r) => r.hash),
        rows.map((r) => r.provider),
        rows.map((r) => r.name),
        rows.map((r) => r.terms),
        rows.map((r) => r.record),
        rows.map((r) => r.expiresAt),
        now,
        rows.map((r) => r.fold),
        rows.map((r) => r.bytes),
      ],
    )
  }

  /** Runs `fn` after every call made before it; later reads wait for it. */
  private write<T>(fn: (c: pg.Pool, now: number) => Promise<T>): Promise<T> {
    const pool = this.pool
    if (this.state !== 'open' || !pool) return Promise.reject(this.notOpen())
    this.batch = undefined
    const before = [this.lastWrite, ...this.reads]
    this.reads = []
    const run = Promise.all(before).then(() => this.wrap(fn(pool, this.clock.now())))
    this.lastWrite = run.then(settle, settle)
    return run
  }

  /** Runs `fn` after every write made before it, beside reads; the next write waits for it (`register`). */
  private beside<T>(fn: (c: pg.Pool, now: number) => Promise<T>): Promise<T> {
    const pool = this.pool
    if (this.state !== 'open' || !pool) return Promise.reject(this.notOpen())
    const run = this.lastWrite.then(() => this.wrap(fn(pool, this.clock.now())))
    this.reads.push(run.then(settle, settle))
    return run
  }

  /** Runs `fn` after every write made before it (purging first when a known expiry passed). */
  private read<T>(fn: (c: pg.Pool, now: number) => Promise<T>): Promise<T> {
    const pool = this.pool
    if (this.state !== 'open' || !pool) return Promise.reject(this.notOpen())
    if (this.clock.now() >= this.nextExpiry) {
      this.nextExpiry = Number.POSITIVE_INFINITY // one purge at a time; it learns the next expiry
      this.write(() => this.purge()).catch((err) =>
        this.log.warn('purging lapsed records failed; reads still skip them', { index: this.name, err }),
      )
    }
    this.batch = undefined
    const run = this.lastWrite.then(() => this.wrap(fn(pool, this.clock.now())))
    this.reads.push(run.then(settle, settle))
    return run
  }

  /**
   * The SQL condition that a record (columns prefixed `p`, e.g. `r.`) has not
   * lapsed at `now` (a parameter): no expiry, its own expiry ahead, or its
   * provider's lease ahead.
   */
  private live(p: string, now: string): string {
    return `(${p}expires_at IS NULL OR (${p}expires_at < ${LEASED} AND ${p}expires_at > ${now})
      OR (${p}expires_at = ${LEASED} AND EXISTS (SELECT 1 FROM ${this.leases} l
        WHERE l.index_name = ${p}index_name AND l.provider = ${p}provider AND l.expires_at > ${now})))`
  }

  private notOpen(): NotStartedError {
    return new NotStartedError(
      `postgres index '${this.name}' is ${this.state === 'closed' ? 'closed' : 'not open'}: call open() first`,
    )
  }

  private async wrap<T>(p: Promise<T>): Promise<T> {
    try {
      return await p
    } catch (err) {
      if (err instanceof PostgresIndexError) throw err
      throw new PostgresIndexError(`postgres index '${this.name}': ${(err as Error).message}`, { cause: err })
    }
  }
}

/** The URL without its password, for messages. */
function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@')
}
