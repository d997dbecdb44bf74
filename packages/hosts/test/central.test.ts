import { join } from 'node:path'
import type { Host, PeerProcess } from '../src/index.js'
import {
  bytesOf,
  FAST,
  fastConfig,
  fileSha,
  hostTest,
  network,
  sha256,
  shareFile,
  waitFor,
} from './helpers/net.js'
import { prepareProviders, providerKilledMidDownload, startLiar } from './helpers/scenarios.js'

const config = fastConfig('central')
const directoryConfig = { options: FAST.directory }

hostTest(
  'central: a provider killed mid-download, the file completes from the others; a forged provider is dropped',
  async (t) => {
    const { net, hosts } = await network(t, 9)
    const [dirHost, p1, p2, p3, liarHost, honest, , getter2, getter] = hosts
    const directory = await dirHost.startDirectory({ config: directoryConfig })
    const bootstrap = [directory.address]
    const { dirs, sha } = await prepareProviders(net, [p1, p2, p3])
    const real = bytesOf(1024 * 1024, 99)
    const start = (h: Host, share?: string) =>
      h.startNode({ overlay: 'central', bootstrap, config, ...(share ? { share: [share] } : {}) })
    const [providers, liar, g, g2] = await Promise.all([
      Promise.all([p1, p2, p3].map((h, i) => start(h, dirs[i]))),
      startLiar(liarHost, 'Forged.Film.bin', real, (share) => start(liarHost, share)),
      start(getter),
      start(getter2),
    ])
    await providerKilledMidDownload(t, g, providers, sha)

    // The liar's record names the real content hash; its chunks are not those bytes.
    const forged = await waitFor(
      'the liar’s record',
      async () =>
        (await g2.searchApi('forged film', 1500)).hits.find((h) => h.providers.some((p) => p.id === liar.id)),
      20_000,
    )
    const out = join(getter2.dir, 'forged.out')
    await t.throwsAsync(g2.get(forged.hash, out, 2000), { message: /failed verification|bad data/ })
    const honestPeer = await start(honest, await shareFile(honest, 'Forged.Film.bin', real))
    const hit = await waitFor(
      'both providers of the file',
      async () => (await g2.searchApi('forged film', 1500)).hits.find((h) => h.providers.length >= 2),
      20_000,
    )
    t.is(hit.hash, forged.hash)
    const result = await g2.get(hit.hash, out, 3000)
    t.true(result.verified)
    t.is(await fileSha(out), sha256(real))
    t.is(result.sources.find((s) => s.id === liar.id)?.bytes ?? 0, 0, 'nothing of the liar was kept')
    t.true((result.sources.find((s) => s.id === honestPeer.id)?.bytes ?? 0) > 0)
  },
)

hostTest(
  'central: the directory killed and restarted, peers re-register by themselves; a storm is rate-limited; a new address keeps the PeerId',
  async (t) => {
    const { hosts } = await network(t, 9)
    const [dirHost, ...peerHosts] = hosts
    let directory = await dirHost.startDirectory({ config: directoryConfig })
    const bootstrap = [directory.address]
    const peers: PeerProcess[] = await Promise.all(
      peerHosts.map(async (h, i) => {
        const share = await shareFile(h, `Peer.${i}.Field.Notes.txt`, bytesOf(4096 + i, i + 1))
        return h.startNode({ overlay: 'central', bootstrap, config, share: [share] })
      }),
    )
    const searcher = peers[7] as PeerProcess
    const all = async () => (await searcher.searchApi('field notes', 1000)).hits.length === peers.length
    await waitFor('every peer’s file in the directory', all, 20_000)

    await directory.kill('SIGKILL')
    const killed = Date.now()
    // With its only directory down, a search finds nothing: it waits for a directory (central.failoverWait, 5 s)
    // and its own 1 s deadline ends it empty, or it fails as unreachable / not logged in.
    const down = await searcher.searchApi('field notes', 1000).then(
      (r) => r.hits.length,
      (err: Error) => err.message,
    )
    t.true(
      down === 0 || /PeerUnreachableError|NotLoggedIn/.test(String(down)),
      `a search with the directory down finds nothing: ${down}`,
    )
    directory = await dirHost.startDirectory({ config: directoryConfig })
    const restarted = Date.now()
    await waitFor('every peer re-registered with the restarted directory', all, 20_000, 100)
    const recovered = Date.now()
    t.log(
      `directory down ${restarted - killed} ms; all 8 peers registered again ${recovered - restarted} ms after the restart`,
    )
    const status = await searcher.status()
    t.true(
      status.neighbors.some((n) => n.id === directory.id),
      'the peer is logged in to the new directory',
    )

    // A storm: 60 searches at once from one peer; the directory's token bucket (10/s, burst 20) refuses the excess.
    const stormer = peers[1] as PeerProcess
    const api = stormer.info.api as string
    const token = await stormer.apiToken()
    const storm = await stormer.host.exec('sh', [
      '-c',
      `for i in $(seq 60); do curl -s -H "Authorization: Bearer ${token}" "http://${api}/search?q=field+notes&timeout=1000" & done; wait`,
    ])
    const limited = storm.split('\n').filter((l) => l.includes('RateLimitError')).length
    t.log(`storm: ${limited} of 60 searches refused with RateLimitError`)
    t.true(limited >= 20, 'the excess is refused')
    t.true(await all(), 'other peers search as before')
    await waitFor(
      'the stormer searches again once its bucket refilled',
      async () => (await stormer.searchApi('field notes', 1000)).hits.length === peers.length,
      10_000,
      300,
    )

    // Hostile bytes on the directory's and a peer's TCP port: an oversized frame header, then garbage.
    const target = peers[2] as PeerProcess
    for (const addr of [directory.address, target.address]) {
      const [ip, port] = addr.replace('tcp://', '').split(':')
      await stormer.host.exec('bash', [
        '-c',
        `exec 3<>/dev/tcp/${ip}/${port}; printf '\\xff\\xff\\xff\\xf0' >&3; head -c 65536 /dev/urandom >&3; exec 3>&-`,
      ])
    }
    t.true(directory.running && target.running, 'both processes are still up')
    t.true(await all(), 'searches go on')

    // A host gets a new address: same data folder, same PeerId; the directory gives the new address.
    const mover = peers[3] as PeerProcess
    const oldAddress = mover.host.address
    await mover.kill('SIGKILL')
    const newAddress = await mover.host.changeAddress()
    const moved = await mover.host.startNode({
      overlay: 'central',
      bootstrap,
      config,
      share: [join(mover.host.dir, 'share')],
    })
    t.is(moved.id, mover.id)
    t.not(newAddress, oldAddress)
    const hit = await waitFor(
      'the moved peer’s file at its new address',
      async () =>
        (await searcher.searchApi('peer 3 field notes', 1000)).hits.find((h) =>
          h.providers.some((p) => p.id === moved.id && p.addresses.some((a) => a.includes(newAddress))),
        ),
      15_000,
    )
    t.false(
      hit.providers.some((p) => p.addresses.some((a) => a.includes(`${oldAddress}:`))),
      'the old address is gone',
    )
    const result = await searcher.get(hit.hash, join(searcher.host.dir, 'moved.out'), 3000)
    t.true(result.verified)
    t.is(result.sources[0]?.id, moved.id)
  },
)
