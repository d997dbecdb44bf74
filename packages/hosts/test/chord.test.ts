import type { PeerProcess } from '../src/index.js'
import { bytesOf, FAST, fastConfig, hostTest, network, shareFile, waitFor } from './helpers/net.js'
import { prepareProviders, providerKilledMidDownload } from './helpers/scenarios.js'

const config = fastConfig('chord')
/** A few stabilize rounds plus a dead node's rpcTimeout per lookup path. */
const HEAL_MS = 20 * FAST.chord.stabilizeInterval + 4 * FAST.chord.rpcTimeout

interface Expected {
  name: string
  words: string
  hash: string
  provider: string
}

hostTest(
  'chord: a quarter of the hosts killed at once, every lookup is right and no record is lost; a provider killed mid-download',
  async (t) => {
    const { net, hosts } = await network(t, 8)
    const [first, p1, p2, p3] = hosts
    const { dirs, sha } = await prepareProviders(net, [p1, p2, p3])
    const big = new Map([p1, p2, p3].map((h, i) => [h, dirs[i] as string]))
    const own = new Map<(typeof hosts)[number], string>()
    for (const [i, h] of hosts.entries()) {
      if (big.has(h)) continue
      own.set(h, `Station.${i}.Logbook.txt`)
      await shareFile(h, `Station.${i}.Logbook.txt`, bytesOf(4000 + i, 300 + i))
    }
    const start = (h: (typeof hosts)[number], bootstrap: string[]) =>
      h.startNode({ overlay: 'chord', bootstrap, config, share: [big.get(h) ?? `${h.dir}/share`] })
    const boot = await start(first, [])
    // Joining one after another keeps the ring's early stabilisation short.
    const peers: PeerProcess[] = [boot]
    for (const h of hosts.slice(1)) peers.push(await start(h, [boot.address]))
    const searchers = [peers[0], peers[7]] as PeerProcess[]

    // What each station published: name, keywords, content hash and provider.
    const expected: Expected[] = []
    for (const p of peers) {
      const mine = own.get(p.host)
      if (!mine) continue
      const words = mine
        .replace(/\.txt$/, '')
        .split('.')
        .join(' ')
        .toLowerCase()
      const hit = await waitFor(
        `${mine} published`,
        async () => (await boot.searchApi(words, 1500)).hits.find((h) => h.name === mine),
        20_000,
      )
      expected.push({ name: mine, words, hash: hit.hash, provider: p.id })
    }
    const lookupsRight = async (): Promise<boolean> => {
      for (const s of searchers) {
        for (const e of expected) {
          const byWords = (await s.searchApi(e.words, 1500)).hits.filter((h) => h.name === e.name)
          const byHash = (await s.searchApi(e.hash, 1500)).hits
          const right = (hits: typeof byHash) =>
            hits.length === 1 &&
            hits[0]?.hash === e.hash &&
            hits[0].providers.some((p) => p.id === e.provider)
          if (!right(byWords) || !right(byHash)) return false
        }
      }
      return true
    }
    t.true(await waitFor('every lookup right before the kill', lookupsRight, 20_000, 300))

    // A quarter: 2 of 8, neither a searcher nor a provider of the big file, at once.
    const victims = peers.filter((p) => !searchers.includes(p) && !big.has(p.host)).slice(0, 2)
    await Promise.all(victims.map((v) => v.kill('SIGKILL')))
    const killed = Date.now()
    await waitFor(
      'every lookup right again, every record (also the dead providers’) still there',
      lookupsRight,
      HEAL_MS + 20_000,
      200,
    )
    t.log(
      `killed ${victims.map((v) => v.host.name).join(', ')}; all ${expected.length * 2 * searchers.length} lookups right ${Date.now() - killed} ms later`,
    )

    await providerKilledMidDownload(
      t,
      peers.find((p) => p.running && !big.has(p.host) && !searchers.includes(p)) ?? (peers[7] as PeerProcess),
      peers.filter((p) => big.has(p.host)),
      sha,
    )
  },
)
