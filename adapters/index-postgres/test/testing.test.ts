import test from 'ava'
import pg from 'pg'
import { startPostgres } from '../src/testing.js'

test('startPostgres: a real server on 127.0.0.1 with pg_trgm; stop() deletes its data folder', async (t) => {
  const server = await startPostgres()
  t.teardown(() => server.stop())
  t.regex(server.url, /^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/)
  const url = await server.createDatabase()
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    const { rows } = await client.query<{ v: string; sim: number }>(
      `SELECT current_setting('server_version') AS v, similarity('日本語のファイル', '日本語') AS sim`,
    )
    t.true(Number.parseFloat(rows[0]?.v ?? '0') >= 15)
    t.true((rows[0]?.sim ?? 0) > 0, 'trigrams of Japanese text')
  } finally {
    await client.end()
  }
  const { existsSync } = await import('node:fs')
  t.true(existsSync(server.dataDir))
  await server.stop()
  t.false(existsSync(server.dataDir))
})

test('startPostgres: two servers at once get two ports', async (t) => {
  const [a, b] = await Promise.all([startPostgres(), startPostgres()])
  t.teardown(() => Promise.all([a.stop(), b.stop()]))
  t.not(a.port, b.port)
})
