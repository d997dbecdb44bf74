import { PeerkitError } from '@peerkit/core'

/** A throwaway PostgreSQL server (`@peerkit/index-postgres/testing`) could not be started. */
export class PostgresStartError extends PeerkitError {
  override name = 'PostgresStartError'
}

/** The database refused or failed an index operation; the cause is the driver's error. */
export class PostgresIndexError extends PeerkitError {
  override name = 'PostgresIndexError'
}
