import { join } from 'node:path'
import type { PeerProcess } from '../src/index.js'
import { bytesOf, FAST, fastConfig, hostTest, network, shareFile, waitFor } from './helpers/net.js'
import { prepareProviders, providerKilledMidDownload } from './helpers/scenarios.js'

const NEIGHBORS = { minNeighbors: 3, maxNeighbors: 4 }
/** Low enough that an 80-search storm trips it, high enough for the test's own searches. */
const THROTTLE = { queryRate: 20, queryBurst: 20, dropAfter: 20 }
const config = fastConfig('flooding', { ...NEIGHBORS, ...THROTTLE })
/** Room above the minimum: at maxNeighbors 4, eight peers can saturate so that one stays below 3. */
const roomy = fastConfig('flooding', { ...NEIGHBORS, maxNeighbors: 5, ...THROTTLE })
const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel']

hostTest(
  'flooding: a killed neighbor is replaced; searches go on while a neighbor’s link is down; a new address keeps the PeerId; a provider killed mid-download',
  async (t) => {
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
    const victim = peers.find(
      (p) => p !== node && !big.has(p.host) && before.neighbors.some((n) => n.id === p.id),
    )
    t.truthy(victim, 'a neighbor that is not a provider')
    const v = victim as PeerProcess

    // Link down: the connection goes silent (no reset). Searches go on through the other neighbors.
    const other = peers.find((p) => p !== node && p !== v && !big.has(p.host)) as PeerProcess
    await v.host.linkDown()
    // While the link is down (a search may first be lost down the silent link): found through the others.
    const found = await waitFor(
      `${other.host.name}’s file while ${v.host.name}’s link is down`,
      async () =>
        (await node.searchApi(`${WORDS[peers.indexOf(other)]} radio show`, 1500)).hits.some((h) =>
          h.providers.some((p) => p.id === other.id),
        ),
      8000,
    ).catch(() => false)
    t.true(found, 'found through the other neighbors')
    await v.host.linkUp()
    await waitFor(
      `${v.host.name}’s file once its link is up again`,
      async () => (await node.searchApi(`${WORDS[peers.indexOf(v)]} radio show`, 1500)).hits.length > 0,
      15_000,
    )

    // A neighbor killed: its connection closes and the peer fills its place. The one watched is any
    // peer with a neighbor that is neither the bootstrap peer nor a provider (both are needed below):
    // with maxNeighbors 4, all of one peer's neighbors can be those four, for good.
    const pair = await waitFor(
      'a peer with a neighbor that is neither the bootstrap peer nor a provider',
      async (note) => {
        const seen: string[] = []
        for (const watcher of peers.filter((p) => p.running && p !== boot && !big.has(p.host))) {
          const ids = (await watcher.statusApi()).neighbors.map((n) => n.id)
          const neighbor = ids
            .map((id) => peers.find((p) => p.id === id))
            .find((p) => p !== undefined && p !== boot && p !== node && !big.has(p.host))
          if (neighbor) return { watcher, neighbor }
          seen.push(
            `${watcher.host.name}→${ids.map((id) => peers.find((p) => p.id === id)?.host.name).join(',')}`,
          )
        }
        note(seen.join(' '))
        return undefined
      },
      15_000,
    )
    const { watcher, neighbor: killedNeighbor } = pair
    await killedNeighbor.kill('SIGKILL')
    const killedAt = Date.now()
    const refilled = await waitFor(
      `${watcher.host.name} to replace the killed ${killedNeighbor.host.name}`,
      async () => {
        const s = await watcher.statusApi()
        const ok =
          !s.neighbors.some((n) => n.id === killedNeighbor.id) && s.neighbors.length >= NEIGHBORS.minNeighbors
        return ok ? s : undefined
      },
      15_000,
      100,
    )
    t.log(
      `${killedNeighbor.host.name} killed; ${watcher.host.name} back to ${refilled.neighbors.length} neighbors after ${Date.now() - killedAt} ms`,
    )

    // A peer moves to a new address; same data folder, same PeerId, found at the new address.
    const mover = peers.find(
      (p) => p.running && p !== node && p !== v && !big.has(p.host) && p !== boot,
    ) as PeerProcess
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
    peers[i] = moved
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

    // A query storm from the node: its neighbors throttle it, then drop it; the rest of the network is unaffected.
    const targets = (await node.statusApi()).neighbors.map(
      (n) => peers.find((p) => p.id === n.id) as PeerProcess,
    )
    const api = node.info.api as string
    const token = await node.apiToken()
    await node.host.exec('sh', [
      '-c',
      `for i in $(seq 80); do curl -s -o /dev/null -H "Authorization: Bearer ${token}" "http://${api}/search?q=storm+$i&timeout=1500" & done; wait`,
    ])
    const figures = await Promise.all(
      targets.map(async (p) => JSON.parse(await p.api('/stats')) as { throttled: number; dropped: number }),
    )
    const throttled = figures.reduce((n, f) => n + f.throttled, 0)
    const dropped = figures.reduce((n, f) => n + f.dropped, 0)
    t.log(
      `storm of 80 searches: ${throttled} queries throttled, ${dropped} of ${targets.length} neighbors dropped the stormer`,
    )
    t.true(throttled > 0, 'the neighbors throttled the storm')
    t.true(dropped > 0, 'and dropped the stormer')
    const calm = peers.find((p) => p.running && p !== node && !targets.includes(p)) ?? boot
    t.true((await calm.searchApi('big buck bunny', 1500)).hits.length > 0, 'another peer searches as before')
  },
)

// A link that goes down silently (no FIN, no RST) is noticed by flooding's
// probe: a neighbor not heard from for `probeAfter` is pinged, and dropped and
// replaced when it does not answer within `probeTimeout`.
hostTest('flooding: a neighbor whose link goes down is replaced within 10 maintenance rounds', async (t) => {
  const { hosts } = await network(t, 8)
  const [first] = hosts
  const boot = await first.startNode({ overlay: 'flooding', config: roomy })
  const rest = await Promise.all(
    hosts.slice(1).map((h) => h.startNode({ overlay: 'flooding', bootstrap: [boot.address], config: roomy })),
  )
  const node = rest[6] as PeerProcess
  const before = await waitFor(
    'three neighbors',
    async () => {
      const s = await node.statusApi()
      return s.neighbors.length >= NEIGHBORS.minNeighbors ? s : undefined
    },
    20_000,
  )
  const v = rest.find((p) => p !== node && before.neighbors.some((n) => n.id === p.id)) as PeerProcess
  await v.host.linkDown()
  const ok = await waitFor(
    `${node.host.name} to replace ${v.host.name}`,
    async () => {
      const s = await node.statusApi()
      return !s.neighbors.some((n) => n.id === v.id) && s.neighbors.length >= NEIGHBORS.minNeighbors
    },
    10 * FAST.flooding.maintenanceInterval,
  ).catch(() => false)
  t.true(
    ok,
    `${v.host.name} (link down) is still a neighbor of ${node.host.name} after ${10 * FAST.flooding.maintenanceInterval} ms`,
  )
})
