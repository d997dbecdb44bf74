import '@peerkit/index-memory'
import '@peerkit/transfer'
import '@peerkit/transport-memory'
import '../src/index.js'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPeer, type Hit, type Peer, SeededRandom } from '@peerkit/core'
import { MemoryNetwork, memoryContainer } from '@peerkit/transport-memory'
import test from 'ava'
import { distances } from './helpers/node.js'

const PEERS = 24
const FILE = 'Big.Buck.Bunny.1080p.mkv'
const SIZE = 1_000_000

/**
 * Issue 20: on flooding a search must list every peer holding a file (the
 * expanding ring used to stop at the first ring with a hit), and a download
 * from three providers must survive losing them one by one. Real clock over
 * the memory transport (the transfer reads and writes real files); every wait
 * is for an event, with a bound.
 */
test('among 24 peers, a search lists all three holders, and the download survives two of them leaving one by one', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'peerkit-flooding-failover-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const parent = memoryContainer(new MemoryNetwork())
  const random = new SeededRandom(11)
  const peers: Peer[] = []
  t.teardown(() => Promise.allSettled(peers.map((p) => p.stop())))
  for (let i = 0; i < PEERS; i++) {
    const peer = await createPeer(
      {
        overlay: 'flooding',
        transport: 'memory',
        listen: [`memory://failover-${process.pid}-${i}`],
        bootstrap: i === 0 ? [] : [`memory://failover-${process.pid}-${random.int(i)}`],
        seed: 900 + i,
        options: {
          flooding: { minNeighbors: 2, maxNeighbors: 4, ringTimeout: 150, maintenanceInterval: 60_000 },
          // The downloader fetches at 400 kB/s, so the providers can leave while it runs.
          default: { hashWorkers: 0, ...(i === 0 ? { downloadRate: 400_000 } : {}) },
        },
      },
      { container: parent },
    )
    peers.push(peer)
    await peer.start()
  }
  const downloader = peers[0] as Peer
  const dist = distances(peers, 0)
  t.true(
    dist.every((d) => Number.isFinite(d)),
    `the mesh is connected: ${dist}`,
  )
  // Three holders at different distances, the farthest among them.
  const byDistance = peers.map((_, i) => i).sort((a, b) => (dist[b] as number) - (dist[a] as number))
  const holders = [byDistance[0], byDistance[8], byDistance[16]].map((i) => peers[i as number] as Peer)
  const bytes = randomBytes(SIZE)
  for (const [k, h] of holders.entries()) {
    const folder = join(dir, `holder-${k}`)
    await mkdir(folder)
    await writeFile(join(folder, FILE), bytes)
    await h.share(folder)
  }
  const hits: Hit[] = []
  for await (const hit of downloader.search('bunny', { timeout: 10_000 })) hits.push(hit)
  const providers = [...new Set(hits.flatMap((h) => h.providers.map((p) => p.id)))].sort()
  t.deepEqual(providers, holders.map((h) => h.id).sort(), 'every holder is listed')
  const hit = hits[0] as Hit
  // A hash comes again with more providers as answers arrive: the download gets them all.
  const refs = [...new Map(hits.flatMap((h) => h.providers).map((p) => [p.id, p])).values()]

  const to = join(dir, 'downloaded.mkv')
  const dl = downloader.download(hit.hash, {
    to,
    size: hit.size,
    chunkSize: hit.chunkSize,
    providers: refs,
  })
  let delivered = new Map<string, number>()
  dl.on('progress', (p) => {
    delivered = new Map(p.sources.map((x) => [x.id, x.bytes]))
  })
  const reach = (fraction: number) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ${fraction * 100} % in 30 s`)), 30_000)
      const check = () => {
        if (dl.status().bytes < SIZE * fraction) return
        clearTimeout(timer)
        dl.off('progress', check)
        resolve()
      }
      dl.on('progress', check)
      check()
    })
  // Each time, the holder that is serving the download leaves (the one that delivered the most since the last).
  const left: Peer[] = []
  let before = new Map<string, number>()
  for (const fraction of [0.2, 0.5]) {
    await reach(fraction)
    const active = holders.filter((h) => !left.includes(h)).sort((a, b) => gain(b) - gain(a))[0] as Peer
    function gain(h: Peer): number {
      return (delivered.get(h.id) ?? 0) - (before.get(h.id) ?? 0)
    }
    t.true(gain(active) > 0, `a holder served the download up to ${fraction * 100} %`)
    before = new Map(delivered)
    left.push(active)
    await active.stop()
  }
  const last = holders.find((h) => !left.includes(h)) as Peer
  const result = await dl.done
  t.true(result.verified)
  t.true((await readFile(to)).equals(bytes), 'byte-identical')
  const sources = result.sources.filter((s) => s.bytes > 0).map((s) => s.id)
  t.deepEqual(sources.sort(), holders.map((h) => h.id).sort(), 'each of the three delivered chunks in turn')
  t.true(sources.includes(last.id), 'the last holder finished it')
  // The holders that left are no longer listed: flooding answers come from live peers only.
  const again: Hit[] = []
  for await (const h of downloader.search('bunny', { timeout: 5000 })) again.push(h)
  const listed = new Set(again.flatMap((h) => h.providers.map((p) => p.id)))
  listed.delete(downloader.id) // a downloader that shares what it fetched may answer too
  t.deepEqual([...listed], [last.id])
})
