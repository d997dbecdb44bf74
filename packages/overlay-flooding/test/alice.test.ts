import '@peerkit/index-memory'
import '@peerkit/transfer'
import '@peerkit/transport-tcp'
import '../src/index.js'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPeer, type Hit, type Peer } from '@peerkit/core'
import test from 'ava'
import { container } from 'tsyringe'
import { distances } from './helpers/node.js'

const PEERS = 20
const MOVIE = 'Harry.Potter.and.the.Chamber.of.Secrets.(2002).mkv'

test('Alice over TCP among 20 peers: share, search "harry potter" hops away, download byte-identical', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'peerkit-flooding-alice-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const parent = container.createChildContainer()
  const peers: Peer[] = []
  t.teardown(() => Promise.allSettled(peers.map((p) => p.stop())))
  for (let i = 0; i < PEERS; i++) {
    const before = peers[i - 1]
    const peer = await createPeer(
      {
        overlay: 'flooding',
        transport: 'tcp',
        listen: ['tcp://127.0.0.1:0'],
        bootstrap: before ? before.addresses() : [],
        seed: 500 + i,
        options: {
          flooding: { minNeighbors: 2, maxNeighbors: 3, ringTimeout: 150, maintenanceInterval: 60_000 },
          default: { hashWorkers: 0 },
        },
      },
      { container: parent },
    )
    peers.push(peer)
    await peer.start()
  }
  const bob = peers[0] as Peer
  const dist = distances(peers, 0)
  t.true(
    dist.every((d) => Number.isFinite(d)),
    'the mesh is connected',
  )
  const far = Math.min(4, Math.max(...dist))
  t.true(far >= 3, `Alice is ${far} hops from Bob`)
  const alice = peers[dist.indexOf(far)] as Peer

  const movie = randomBytes(300_000)
  await mkdir(join(dir, 'alice'))
  await writeFile(join(dir, 'alice', MOVIE), movie)
  await writeFile(join(dir, 'alice', 'notes.txt'), 'not a movie')
  const shared = await alice.share(join(dir, 'alice'))
  t.is(shared.length, 2)

  const hits: Hit[] = []
  for await (const hit of bob.search('harry potter', { timeout: 10_000 })) hits.push(hit)
  t.deepEqual(
    hits.map((h) => h.name),
    [MOVIE],
  )
  const hit = hits[0] as Hit
  t.deepEqual(
    hit.providers.map((p) => p.id),
    [alice.id],
  )
  t.true((hit.hops ?? 0) >= far, `found ${hit.hops} hops away`)

  const to = join(dir, 'bob', MOVIE)
  const result = await bob.download(hit.hash, { to }).done
  t.true(result.verified)
  t.deepEqual(
    result.sources.map((s) => s.id),
    [alice.id],
  )
  t.true((await readFile(to)).equals(movie), 'byte-identical')
})
