import type pg from 'pg'

/**
 * The schema, as numbered migrations. A migration is applied once, in its own
 * transaction with its row in `schema_version`; never edit one that shipped,
 * add the next. `{s}` is the quoted schema name.
 */
export const MIGRATIONS: readonly (readonly string[])[] = [
  // 1: records of every index (by name), searchable by keyword prefix (full-text lexemes) and substring (trigrams)
  [
    'CREATE EXTENSION IF NOT EXISTS pg_trgm',
    `CREATE TABLE {s}.records (
      index_name text NOT NULL,
      hash text NOT NULL,
      provider text NOT NULL,
      seq bigserial NOT NULL,
      name text NOT NULL,
      terms text NOT NULL,
      lexemes tsvector NOT NULL,
      record json NOT NULL,
      expires_at bigint,
      PRIMARY KEY (index_name, hash, provider)
    )`,
    'CREATE INDEX records_provider ON {s}.records (index_name, provider)',
    'CREATE INDEX records_terms_trgm ON {s}.records USING gin (terms gin_trgm_ops)',
    'CREATE INDEX records_lexemes ON {s}.records USING gin (lexemes)',
    'CREATE INDEX records_expiry ON {s}.records (index_name, expires_at) WHERE expires_at IS NOT NULL',
  ],
  // 2: providers' leases (renew): one row per provider renews all its registrations
  [
    `CREATE TABLE {s}.leases (
      index_name text NOT NULL,
      provider text NOT NULL,
      expires_at bigint NOT NULL,
      PRIMARY KEY (index_name, provider)
    )`,
    'CREATE INDEX leases_expiry ON {s}.leases (index_name, expires_at)',
  ],
  // 3: a directory's registrations (register): the provider's address range (search counts a range once) and the
  // bytes its directory accounted, so the directory keeps no record of them in its heap
  ['ALTER TABLE {s}.records ADD COLUMN fold text, ADD COLUMN bytes integer'],
]

/**
 * The advisory lock that serialises migrations across every process on the
 * database (one key for all schemas: `CREATE EXTENSION` is database-wide).
 */
const LOCK_KEY = 'peerkit/index-postgres/migrate'

/**
 * Creates the schema or brings it to the latest version. Safe to run from
 * several servers at once: each takes a transaction-scoped advisory lock
 * first, so one migrates and the others then find the work done.
 * Resolves to the schema's version.
 */
export async function migrate(client: pg.ClientBase, schema: string): Promise<number> {
  const s = client.escapeIdentifier(schema)
  await client.query('BEGIN')
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [LOCK_KEY])
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`)
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${s}.schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    )
    const { rows } = await client.query<{ v: number | null }>(
      `SELECT max(version) AS v FROM ${s}.schema_version`,
    )
    const current = rows[0]?.v ?? 0
    if (current > MIGRATIONS.length) {
      throw new Error(
        `schema ${schema} is at version ${current}, newer than this @peerkit/index-postgres knows (${MIGRATIONS.length}): upgrade the package`,
      )
    }
    for (let v = current + 1; v <= MIGRATIONS.length; v++) {
      for (const statement of MIGRATIONS[v - 1] ?? []) await client.query(statement.replaceAll('{s}', s))
      await client.query(`INSERT INTO ${s}.schema_version (version) VALUES ($1)`, [v])
    }
    await client.query('COMMIT')
    return MIGRATIONS.length
  } catch (err) {
    await client.query('ROLLBACK')
    throw err
  }
}
