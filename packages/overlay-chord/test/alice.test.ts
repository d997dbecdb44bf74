import '@peerkit/transport-tcp'
import '@peerkit/index-memory'
import '@peerkit/transfer'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { collect, createPeer, type Peer } from '@peerkit/core'
import test from 'ava'
import type { ChordOverlay } from '../src/index.js'
import { ringIsCorrect, TCP_RING, type TestNode, until } from './helpers/ring.js'

const PEERS = 30
const MOVIE = 'Harry.Potter.and.the.Chamber.of.Secrets.(2002).mkv'

/** Stops a peer without waiting on transport-tcp's listener close (see helpers/ring.ts). */
async function stopPeer(peer: Peer): Promise<void> {
  await peer.overlay.stop().catch(() => {}) // teardown: the network goes next either way
  await Promise.allSettled(peer.network.peers().map((p) => peer.network.hangUp(p.id)))
  let timer: NodeJS.Timeout | undefined
  await Promise.race([peer.stop(), new Promise((r) => (timer = setTimeout(r, 3000)))])
  clearTimeout(timer)
}

test('the Alice scenario over TCP with 30 peers: share, search "harry potter", download byte-identical', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'peerkit-chord-alice-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const movie = randomBytes(400_000)
  await mkdir(join(dir, 'alice'))
  await writeFile(join(dir, 'alice', MOVIE), movie)
  await writeFile(join(dir, 'alice', 'Harry.Belafonte.Live.mp3'), randomBytes(5000))
  await writeFile(join(dir, 'alice', 'notes.txt'), 'not a movie')

  const chord = TCP_RING
  const peers: Peer[] = []
  t.teardown(() => Promise.all(peers.map(stopPeer)).then(() => {}))
  const config = (bootstrap: string[], i: number) => ({
    overlay: 'chord',
    transport: 'tcp',
    listen: ['tcp://127.0.0.1:0'],
    bootstrap,
    dataDir: join(dir, `peer${i}`),
    options: { chord, tcp: { closeTimeout: 200 } },
  })
  const first = await createPeer(config([], 0))
  peers.push(first)
  await first.start()
  // the others join through the first, five at a time
  for (let i = 1; i < PEERS; i += 5) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(5, PEERS - i) }, (_, k) => createPeer(config(first.addresses(), i + k))),
    )
    peers.push(...batch)
    await Promise.all(batch.map((p) => p.start()))
  }
  const nodes = peers.map(
    (p) => ({ network: p.network, overlay: p.overlay as ChordOverlay, alive: true }) as TestNode,
  )
  await until(() => ringIsCorrect(nodes), 60_000, 'the ring of 30 to stabilise')

  const alice = peers[7] as Peer
  const bob = peers[23] as Peer
  const shared = await alice.share(join(dir, 'alice'))
  t.is(shared.length, 3)

  const hits = await collect(bob.search('harry potter', { timeout: 5000 }))
  t.deepEqual(
    hits.map((h) => h.name),
    [MOVIE],
  )
  const hit = hits[0]
  t.deepEqual(
    hit?.providers.map((p) => p.id),
    [alice.id],
  )
  t.true((hit?.hops ?? -1) >= 0)
  t.log(`found after ${hit?.hops} hops`)
  t.is((await collect(bob.search('harry', { timeout: 5000 }))).length, 2)

  const to = join(dir, 'bob', MOVIE)
  const result = await bob.download(hit?.hash as string, { to }).done
  t.true(result.verified)
  t.deepEqual(
    result.sources.map((s) => s.id),
    [alice.id],
  )
  t.true((await readFile(to)).equals(movie))
})
