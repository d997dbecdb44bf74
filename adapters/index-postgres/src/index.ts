/**
 * @packageDocumentation
 * The directory's `Index` on PostgreSQL: keyword search with PostgreSQL's own
 * full-text search and pg_trgm trigram indexes (prefix, substring, any
 * script), registrations that lapse at their expiry, and a schema the adapter
 * creates and migrates itself. Several directory servers on one database
 * share one registry. Importing the package registers it as `postgres` in the
 * `indexes` registry.
 *
 * ```ts sketch
 * import '@peerkit/index-postgres'
 * import { createDirectoryServer } from '@peerkit/overlay-central'
 *
 * const directory = await createDirectoryServer({ listen: ['tcp://0.0.0.0:4001'], index: 'postgres',
 *   components: { postgres: { url: 'postgres://peerkit@db.example/peerkit' } } })
 * ```
 */
import { CLOCK, INDEX_FACTORY, type IndexFactory, indexes, LOGGER, type Registration } from '@peerkit/core'
import type { DependencyContainer } from 'tsyringe'
import { PostgresIndexError } from './errors.js'
import { parsePostgresIndexOptions } from './options.js'
import { PostgresIndex } from './postgres-index.js'

export { PostgresIndexError, PostgresStartError } from './errors.js'
export { MIGRATIONS, migrate } from './migrations.js'
export {
  type PostgresIndexOptions,
  parsePostgresIndexOptions,
  postgresIndexOptionsSchema,
  type ResolvedPostgresIndexOptions,
} from './options.js'
export {
  type DirectoryRegistration,
  PostgresIndex,
  type PostgresIndexComponents,
  type PostgresIndexInit,
} from './postgres-index.js'

/**
 * The registration for `index: 'postgres'`: validates `options.postgres`
 * (a database URL is required, here or in `PEERKIT_DATABASE_URL`) and
 * registers `INDEX_FACTORY` as a maker of PostgresIndexes on the container's
 * `CLOCK` and `LOGGER`. Each index it makes has its own connection pool.
 */
export function postgresIndex(options?: unknown): Registration {
  const opts = parsePostgresIndexOptions(options)
  if (!opts.url && !process.env.PEERKIT_DATABASE_URL) {
    throw new PostgresIndexError(
      'index postgres needs a database: set options.postgres.url (peerkit directory --database URL) or PEERKIT_DATABASE_URL',
    )
  }
  return (c: DependencyContainer) => {
    c.register(INDEX_FACTORY, {
      useFactory: (cc): IndexFactory => {
        const clock = cc.isRegistered(CLOCK, true) ? cc.resolve(CLOCK) : undefined
        const logger = cc.isRegistered(LOGGER, true) ? cc.resolve(LOGGER) : undefined
        return (name) => new PostgresIndex({ ...opts, name }, { clock, logger })
      },
    })
  }
}

indexes.register('postgres', postgresIndex)
