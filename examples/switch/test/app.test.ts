import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadConfigFile, overlays } from '@peerkit/core'
import { MemoryNetwork, memoryContainer } from '@peerkit/transport-memory'
import test from 'ava'
import { run } from '../src/app.js'
import { startDirectory } from '../src/directory.js'

const CONFIG_DIR = fileURLToPath(new URL('../../config/', import.meta.url))

/**
 * The same app, four times: only the config file changes. `central` has one
 * more role, the directory server, that the peers join through; on the other
 * overlays Bob joins through Alice.
 */
const runs = [
  { file: 'central.json', directory: true },
  { file: 'flooding.json', directory: false },
  { file: 'chord.json', directory: false },
  { file: 'supernode.json', directory: false },
]

for (const { file, directory } of runs) {
  test(`${file}: alice shares, bob searches and downloads the first hit, byte-identical`, async (t) => {
    const config = join(CONFIG_DIR, file)
    const { overlay } = await loadConfigFile(config)
    t.true(overlays.has(overlay), `the app registers '${overlay}'`)
    const dir = await mkdtemp(join(tmpdir(), `peerkit-example-switch-${overlay}-`))
    t.teardown(() => rm(dir, { recursive: true, force: true }))
    await mkdir(join(dir, 'alice'))
    const movie = randomBytes(300_000)
    await writeFile(join(dir, 'alice', 'Harry.Potter.and.the.Chamber.of.Secrets.(2002).mkv'), movie)
    await writeFile(join(dir, 'alice', 'notes.txt'), 'not a movie')

    const container = memoryContainer(new MemoryNetwork())
    const name = (role: string) => `memory://switch-${overlay}-${role}`
    if (directory) {
      const server = await startDirectory({ transport: 'memory', listen: [name('directory')], container })
      t.teardown(() => server.stop())
    }
    const alice = await run({
      config,
      transport: 'memory',
      listen: [name('alice')],
      join: directory ? [name('directory')] : [],
      share: join(dir, 'alice'),
      container,
    })
    t.teardown(() => alice.stop())
    t.is(alice.peer.overlay.name, overlay)
    t.is(alice.shared.length, 2)

    const bob = await run({
      config,
      transport: 'memory',
      listen: [name('bob')],
      join: directory ? [name('directory')] : [name('alice')],
      search: 'harry potter',
      out: join(dir, 'bob'),
      container,
    })
    t.teardown(() => bob.stop())
    t.is(bob.peer.overlay.name, overlay)
    t.deepEqual(
      bob.hits.map((h) => h.name),
      ['Harry.Potter.and.the.Chamber.of.Secrets.(2002).mkv'],
    )
    t.deepEqual(
      bob.hits[0]?.providers.map((p) => p.id),
      [alice.peer.id],
    )
    t.true(bob.download?.verified)
    const got = await readFile(join(dir, 'bob', 'Harry.Potter.and.the.Chamber.of.Secrets.(2002).mkv'))
    t.true(got.equals(movie))
  })
}
