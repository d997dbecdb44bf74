/**
 * What a directory search costs on PostgreSQL as the registry grows
 * (`bench:directory`'s searches, one kind at a time, on a warm cache): fills
 * one database through `PostgresIndex.register` (the bench's records, 100
 * providers, with every index in place) to each size, then times 40
 * searches of each kind one after another straight on the index and counts
 * the records each one matches (what the statement ranks before its limit).
 *
 *   node packages/overlay-central/dist/bench/directory-search.js [sizes=100000,1000000]
 */
import 'reflect-metadata'
import { createHash } from 'node:crypto'
import { Identity, keywords, type Query } from '@peerkit/core'
import { PostgresIndex } from '@peerkit/index-postgres'
import { startPostgres } from '@peerkit/index-postgres/testing'
import pg from 'pg'
import { sourceOf } from '../src/index.js'
import { recordBytes } from '../src/registry-budget.js'
import { makeQueries, recordsFor } from './records.js'

const SIZES = (process.argv[2] ?? '100000,1000000').split(',').map(Number)
const PROVIDERS = 100
const KINDS = ['two words', 'a 3-letter term', 'a 4-letter substring'] as const

const postgres = await startPostgres({
  settings: { shared_buffers: '1GB', max_wal_size: '4GB', work_mem: '16MB' },
})
try {
  const url = await postgres.createDatabase()
  const index = new PostgresIndex({ url, name: 'directory', poolSize: 8, statementTimeout: 0 })
  await index.open()
  const db = new pg.Client({ connectionString: url })
  await db.connect()
  const providers = Array.from({ length: PROVIDERS }, (_, i) => {
    const id = Identity.fromSeed(createHash('sha256').update(`bench-provider-${i}`).digest()).peerId
    const address = `tcp://10.0.${i >> 2}.${(i & 3) + 2}:4001`
    return { ref: { id, addresses: [address] }, fold: sourceOf(address).prefix }
  })
  const names: string[] = []
  let filled = 0
  for (const size of SIZES) {
    const per = Math.ceil(size / PROVIDERS)
    const jobs: [number, number][] = []
    for (let from = filled / PROVIDERS; from < per; from += 1000)
      for (let p = 0; p < PROVIDERS; p++) jobs.push([p, from])
    let next = 0
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let j = next++; j < jobs.length; j = next++) {
          const [p, from] = jobs[j] as [number, number]
          const provider = providers[p] as (typeof providers)[number]
          const records = recordsFor(provider.ref, 100 + p, from, Math.min(1000, per - from))
          if (from === 0) names.push(...records.slice(0, 20).map((r) => r.name))
          await index.register(
            records.map((record) => ({ record, bytes: recordBytes(record.name, record.keywords) })),
            { fold: provider.fold, expiresAt: Date.now() + 86_400_000 },
          )
        }
      }),
    )
    filled = per * PROVIDERS
    await db.query('VACUUM (ANALYZE) peerkit.records')
    // makeQueries's kinds: two words (i % 4 = 0, 2), a word's first 3 letters (1), 4 letters from inside a word (3).
    const queries = makeQueries(names, 50)
    const byKind = KINDS.map((_, k) =>
      queries.filter((_, i) => (k === 0 ? i % 2 === 0 : i % 4 === (k === 1 ? 1 : 3))).slice(0, 45),
    )
    for (const [k, list] of byKind.entries()) {
      for (const q of list.slice(0, 5)) await index.search(q) // the plan prepared and the pages read once
      const sample = list.slice(5)
      let ms = 0
      let matches = 0
      let hits = 0
      for (const q of sample as Query[]) {
        const t = process.hrtime.bigint()
        hits += (await index.search(q)).length
        ms += Number(process.hrtime.bigint() - t) / 1e6
        const terms = keywords((q.keywords ?? []).join(' '))
        const where = terms.map((_, i) => `terms LIKE $${i + 1}`).join(' AND ')
        const { rows } = await db.query(
          `SELECT count(*) AS n FROM peerkit.records WHERE ${where}`,
          terms.map((t) => `%${t}%`),
        )
        matches += Number(rows[0].n)
      }
      const n = sample.length
      console.log(
        `| ${filled.toLocaleString('en-US')} | ${KINDS[k]} | ${(ms / n).toFixed(1)} ms | ${Math.round(matches / n).toLocaleString('en-US')} | ${(hits / n).toFixed(1)} |`,
      )
    }
  }
  await index.close()
  await db.end()
} finally {
  await postgres.stop()
}
process.exit(0)
