import { join } from 'node:path'
import type { PeerProcess } from '../src/index.js'
import { bytesOf, fastConfig, hostTest, network, shareFile, waitFor } from './helpers/net.js'
import { prepareProviders, providerKilledMidDownload } from './helpers/scenarios.js'

const NEIGHBORS = { minNeighbors: 3, maxNeighbors: 4 }
const config = fastConfig('flooding', NEIGHBORS)
const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel']

hostTest('flooding: a neighbor’s link goes down and the node replaces it; a new address keeps the PeerId; a provider killed mid-download', async (t) => {
  const { net, hosts } = await network(t, 8)
  const [first, p1, p2, p3] = hosts
  const { dirs, sha } = await prepareProviders(net, [p1, p2, p3])
  const big = new Map([p1, p2, p3].map((h, i) => [h, dirs[i] as string]))
  const start = async (h: (typeof hosts)[number], i: number, bootstrap: string[]) => {
    const own = await shareFile(h, `${WORDS[i]}.Radio.Show.mp3`, bytesOf(5000 + i, 500 + i))
    return h.startNode({ overlay: 'flooding', bootstrap, config, share: [big.get(h) ?? own] })
  }
  const boot = await start(first, 0, [])
  const rest = await Promise.all(hosts.slice(1).map((h, i) => start(h, i + 1, [boot.address])))
  const peers = [boot, ...rest]
  const node = peers[7] as PeerProcess
  const before = await waitFor(
    `${node.host.name} with ${NEIGHBORS.minNeighbors}+ neighbors, one of them not a provider`,
    async () => {
      const s = await node.statusApi()
      return s.neighbors.length >= NEIGHBORS.minNeighbors ? s : undefined
    },
    20_000,
  )
  const victim = peers.find((p) => p !== node && !big.has(p.host) && before.neighbors.some((n) => n.id === p.id))
  t.truthy(victim, 'a neighbor that is not a provider')
  const v = victim as PeerProcess

  await v.host.linkDown()
  const down = Date.now()
  const replaced = await waitFor(
    `${node.host.name} to replace ${v.host.name}, whose link is down`,
    async () => {
      const s = await node.statusApi()
      const ok = !s.neighbors.some((n) => n.id === v.id) && s.neighbors.length >= NEIGHBORS.minNeighbors
      return ok ? s : undefined
    },
    15_000,
  )
  t.log(`${v.host.name} link down; replaced after ${Date.now() - down} ms; neighbors now ${replaced.neighbors.length}`)
  await v.host.linkUp()

  // A peer moves to a new address; same data folder, same PeerId, found at the new address.
  const mover = peers.find((p) => p !== node && p !== v && !big.has(p.host) && p !== boot) as PeerProcess
  const i = peers.indexOf(mover)
  const old = mover.host.address
  await mover.kill('SIGKILL')
  const fresh = await mover.host.changeAddress()
  const moved = await mover.host.startNode({
    overlay: 'flooding',
    bootstrap: [boot.address],
    config,
    share: [join(mover.host.dir, 'share')],
  })
  t.is(moved.id, mover.id)
  const hit = await waitFor(
    'the moved peer’s file at its new address',
    async () =>
      (await node.searchApi(`${WORDS[i]} radio show`, 1500)).hits.find((h) =>
        h.providers.some((p) => p.id === moved.id && p.addresses.some((a) => a.includes(`${fresh}:`))),
      ),
    20_000,
  )
  t.log(`${mover.host.name} moved ${old} → ${fresh}, found there with the same PeerId`)
  const got = await node.get(hit.hash, join(node.host.dir, 'moved.out'), 3000)
  t.true(got.verified)

  await providerKilledMidDownload(
    t,
    node,
    peers.filter((p) => big.has(p.host)),
    sha,
  )
})
