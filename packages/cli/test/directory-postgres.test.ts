import { startPostgres } from '@peerkit/index-postgres/testing'
import test from 'ava'
import { runCli } from '../src/index.js'
import { nodeArgs, runBin, startDaemon } from './helpers/bin.js'
import { captureIo } from './helpers/capture-io.js'
import { shareFolder, tempDir } from './helpers/files.js'

interface SearchJson {
  hits: { hash: string; name: string; providers: { id: string }[] }[]
}

test('directory --database needs --index postgres; an unknown --index exits 2 naming the choices', async (t) => {
  const bad = captureIo()
  t.is(
    await runCli(
      ['directory', '--listen', 'tcp://127.0.0.1:0', '--index', 'memory', '--database', 'postgres://x@h/db'],
      bad.io,
    ),
    2,
  )
  t.regex(bad.stderr(), /--database needs --index postgres \(got --index memory\)/)
  const unknown = captureIo()
  t.is(await runCli(['directory', '--listen', 'tcp://127.0.0.1:0', '--index', 'nosuch'], unknown.io), 2)
  t.regex(unknown.stderr(), /--index must be one of .*'postgres'.* \(got 'nosuch'\)/)
})

test('peerkit directory --database URL: two directory processes on one PostgreSQL share one registry', async (t) => {
  const db = await startPostgres()
  t.teardown(() => db.stop())
  const url = await db.createDatabase()
  const directory = (...extra: string[]) =>
    startDaemon([
      'directory',
      '--database',
      url,
      '--listen',
      'tcp://127.0.0.1:0',
      '--log-level',
      'warn',
      ...extra,
    ])
  const [d1, d2] = await Promise.all([directory(), directory()])
  t.teardown(async () => {
    await d1.stop()
    await d2.stop()
  })
  const at = (d: typeof d1) => d.lines.get('listen')?.[0] as string
  const root = await tempDir(t, 'pg')
  const { dir } = await shareFolder(root, 'alice')
  const alice = await startDaemon(nodeArgs('central', undefined, '--bootstrap', at(d1), '--share', dir))
  const bob = await startDaemon(nodeArgs('central', undefined, '--bootstrap', at(d2)))
  t.teardown(async () => {
    await alice.stop()
    await bob.stop()
  })
  const api = bob.lines.get('api')?.[0] as string
  let found: SearchJson | undefined
  for (let attempt = 0; attempt < 20 && !found?.hits.length; attempt++) {
    const r = await runBin(['search', 'harry', 'potter', '--api', api, '--json', '--timeout', '2000'])
    t.is(r.code, 0, r.stderr)
    found = JSON.parse(r.stdout) as SearchJson
    if (!found.hits.length) await new Promise((r) => setTimeout(r, 300))
  }
  t.is(found?.hits.length, 1, "bob, at the second directory, finds alice's film registered at the first")
  t.is(found?.hits[0]?.providers[0]?.id, alice.lines.get('peer')?.[0])
})
