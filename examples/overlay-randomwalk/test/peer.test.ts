import '@peerkit/index-memory'
import '@peerkit/transfer'
import '@peerkit/transport-tcp'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPeer, type Hit, type Peer, type PeerConfigInput } from '@peerkit/core'
import test from 'ava'

const CONTENT = 'walked all the way here\n'.repeat(20_000)

test('peers that name the overlay by configuration (plugins) share, find two hops away and download over TCP', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'peerkit-randomwalk-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await mkdir(join(dir, 'files'))
  await writeFile(join(dir, 'files', 'Random.Walk.Notes.txt'), CONTENT)
  const peers: Peer[] = []
  t.teardown(() => Promise.allSettled(peers.map((p) => p.stop())).then(() => {}))
  const start = async (bootstrap: string[]) => {
    const config: PeerConfigInput = {
      overlay: 'randomwalk',
      plugins: ['@peerkit/example-overlay-randomwalk'],
      transport: 'tcp',
      listen: ['tcp://127.0.0.1:0'],
      bootstrap,
      options: { randomwalk: { walkers: 2, ttl: 8, minNeighbors: 1 } },
    }
    const peer = await createPeer(config)
    peers.push(peer)
    await peer.start()
    return peer
  }
  const alice = await start([])
  const bob = await start(alice.addresses())
  const carol = await start(bob.addresses()) // knows only bob: alice is two steps away
  const [record] = await alice.share(join(dir, 'files'))
  t.truthy(record)
  t.deepEqual(
    carol.overlay.neighbors().map((n) => n.id),
    [bob.id],
  )

  let hit: Hit | undefined
  for await (const h of carol.search('random walk notes', { timeout: 10_000 })) {
    hit = h
    break
  }
  if (!hit) return t.fail(`no hit; carol: ${JSON.stringify(carol.overlay.stats())}`)
  t.is(hit.hash, record?.hash ?? 'no record')
  t.true(hit.providers.some((p) => p.id === alice.id))
  const result = await carol.download(hit.hash, { to: join(dir, 'got.txt') }).done
  t.true(result.verified)
  t.is(await readFile(join(dir, 'got.txt'), 'utf8'), CONTENT)
})
