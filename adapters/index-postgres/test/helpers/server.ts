import type { TestFn } from 'ava'
import { type PostgresServer, startPostgres } from '../../src/testing.js'

/**
 * One throwaway PostgreSQL server for a test file, started by the first test
 * that asks and stopped after the last; each test makes its own database.
 */
export function sharedServer(test: TestFn): () => Promise<PostgresServer> {
  let server: Promise<PostgresServer> | undefined
  test.after.always(async () => {
    if (server) await (await server).stop()
  })
  return () => {
    server ??= startPostgres()
    return server
  }
}
