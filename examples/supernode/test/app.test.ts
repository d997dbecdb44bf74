import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryNetwork, memoryContainer } from '@peerkit/transport-memory'
import test from 'ava'
import { run } from '../src/app.js'

test('alice shares, bob searches and downloads the first hit, byte-identical', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'peerkit-example-supernode-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await mkdir(join(dir, 'alice'))
  const movie = randomBytes(300_000)
  await writeFile(join(dir, 'alice', 'Harry.Potter.and.the.Chamber.of.Secrets.(2002).mkv'), movie)
  await writeFile(join(dir, 'alice', 'notes.txt'), 'not a movie')

  const container = memoryContainer(new MemoryNetwork())

  const alice = await run({
    transport: 'memory',
    listen: ['memory://example-alice'],
    join: [],
    share: join(dir, 'alice'),
    container,
  })
  t.teardown(() => alice.stop())
  t.is(alice.shared.length, 2)

  const bob = await run({
    transport: 'memory',
    listen: ['memory://example-bob'],
    join: ['memory://example-alice'],
    search: 'harry potter',
    out: join(dir, 'bob'),
    container,
  })
  t.teardown(() => bob.stop())
  t.deepEqual(
    bob.hits.map((h) => h.name),
    ['Harry.Potter.and.the.Chamber.of.Secrets.(2002).mkv'],
  )
  t.deepEqual(
    bob.hits[0]?.providers.map((p) => p.id),
    [alice.peer.id],
  )
  t.truthy(bob.download)
  t.true(bob.download?.verified)
  const got = await readFile(join(dir, 'bob', 'Harry.Potter.and.the.Chamber.of.Secrets.(2002).mkv'))
  t.true(got.equals(movie))
})
