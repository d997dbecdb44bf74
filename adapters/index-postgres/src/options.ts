import { parseOptions } from '@peerkit/core'
import { z } from 'zod'

/** Options of the PostgreSQL index, under `options.postgres` of the configuration. */
export const postgresIndexOptionsSchema = z
  .object({
    /**
     * The database, as a connection URL (`postgres://user:password@host:5432/db`); when absent,
     * `PEERKIT_DATABASE_URL` from the environment.
     */
    url: z
      .string()
      .regex(/^postgres(ql)?:\/\/\S+$/, 'a postgres:// URL')
      .optional(),
    /** The schema the tables live in (created when missing); several peerkit deployments may share a database under different schemas. */
    schema: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lower-case SQL name (letters, digits, _)')
      .default('peerkit'),
    /** Connections each index keeps to the database at most (node-postgres pool size). */
    poolSize: z.number().int().min(1).max(1000).default(10),
    /** Milliseconds between two purges of lapsed records (each server purges its index's; reads never return them). */
    purgeInterval: z.number().int().min(100).max(86_400_000).default(60_000),
    /** Milliseconds a statement may run before the database cancels it (0: no limit). */
    statementTimeout: z.number().int().min(0).max(3_600_000).default(30_000),
    /** Milliseconds to wait for a connection (at `open()` and under load) before failing. */
    connectTimeout: z.number().int().min(100).max(600_000).default(10_000),
  })
  .strict()

/** What a user gives (every field optional). */
export type PostgresIndexOptions = z.input<typeof postgresIndexOptionsSchema>
/** The parsed, frozen options. */
export type ResolvedPostgresIndexOptions = Readonly<z.output<typeof postgresIndexOptionsSchema>>

/** Fills the defaults and checks every field; throws `InvalidOptionsError` (`postgres.poolSize must be …`). */
export function parsePostgresIndexOptions(input: unknown = {}): ResolvedPostgresIndexOptions {
  return parseOptions(postgresIndexOptionsSchema, input ?? {}, 'postgres')
}
