import type { TestFn } from 'ava'
import pg from 'pg'
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

/**
 * Resolves once no session but this one is open on the database at `url`:
 * after a client was killed, the server still runs what it had read from it
 * (a COMMIT on its way lands after the kill) until it sees the connection
 * closed. Rejects after `timeoutMs` real ms, naming the sessions left.
 */
export async function otherSessionsEnded(url: string, timeoutMs = 20_000): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const end = Date.now() + timeoutMs
    for (;;) {
      const res = await client.query<{ pid: number; state: string | null; query: string }>(
        'SELECT pid, state, query FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      )
      if (res.rows.length === 0) return
      if (Date.now() > end)
        throw new Error(`sessions still open ${timeoutMs} ms after the kill: ${JSON.stringify(res.rows)}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  } finally {
    await client.end()
  }
}
