import type { PeerProcess, StatusJson } from '../src/index.js'
import { bytesOf, FAST, fastConfig, hostTest, network, shareFile, waitFor } from './helpers/net.js'
import { prepareProviders, providerKilledMidDownload } from './helpers/scenarios.js'

const config = fastConfig('supernode')
const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel']
const S = FAST.supernode
/**
 * docs/overlays/supernode.md: detection (0 for a closed connection) + failoverTimeout
 * for each dead supernode tried before a live one (the dead one is forgotten: at
 * most one here) + electionDelay when an election is needed + one search.
 */
const SEARCH_MS = 800
const BOUND_MS = S.failoverTimeout + S.electionDelay + SEARCH_MS
/** Slack for a loaded 2-core machine: process start-up of each polling search, timers running late. */
const SLACK_MS = 6000

hostTest(
  'supernode: a supernode killed, its leaves re-attach and are found again within the documented bound; a provider killed mid-download',
  async (t) => {
    const { net, hosts } = await network(t, 8)
    const [first, p1, p2, p3] = hosts
    const { dirs, sha } = await prepareProviders(net, [p1, p2, p3])
    const big = new Map([p1, p2, p3].map((h, i) => [h, dirs[i] as string]))
    const start = async (h: (typeof hosts)[number], i: number, bootstrap: string[]) => {
      const own = await shareFile(h, `Leaf.${WORDS[i]}.Holiday.Photos.jpg`, bytesOf(8192 + i, 100 + i))
      const share = big.has(h) ? [big.get(h) as string] : [own]
      return h.startNode({ overlay: 'supernode', bootstrap, config, share })
    }
    const boot = await start(first, 0, [])
    const rest = await Promise.all(hosts.slice(1).map((h, i) => start(h, i + 1, [boot.address])))
    const peers = [boot, ...rest]
    const statuses = async () =>
      new Map(await Promise.all(peers.map(async (p) => [p, await p.statusApi()] as const)))
    // leavesPerSupernode 2: 8 peers settle with several supernodes; wait for one that has leaves.
    const placed = await waitFor(
      'several supernodes, one with leaves',
      async () => {
        const all = await statuses()
        const supers = [...all].filter(([, s]) => s.role === 'supernode')
        const leafOf = (p: PeerProcess) =>
          [...all].filter(([, s]) => s.role === 'leaf' && s.neighbors[0]?.id === p.id).map(([q]) => q)
        // Which peers get promoted depends on their PeerIds (random): prefer a victim that is neither the
        // bootstrap peer nor a provider of the big file, but take any supernode that has leaves.
        const withLeaves = supers.map(([p]) => p).filter((p) => leafOf(p).length > 0)
        const victim =
          withLeaves.find((p) => p !== boot && !big.has(p.host)) ??
          withLeaves.find((p) => p !== boot) ??
          withLeaves[0]
        return supers.length >= 2 && victim ? { all, victim, leaves: leafOf(victim) } : undefined
      },
      30_000,
      500,
    )
    const { victim, leaves } = placed
    const searcher = (peers.find((p) => p !== victim && !leaves.includes(p) && !big.has(p.host)) ??
      peers.find((p) => p !== victim && !leaves.includes(p))) as PeerProcess
    t.log(
      `roles: ${[...placed.all].map(([p, s]) => `${p.host.name}=${s.role}`).join(' ')}; killing ${victim.host.name} (leaves ${leaves.map((l) => l.host.name).join(', ')})`,
    )
    const nameOf = new Map(peers.map((p) => [p.id, p.host.name]))
    const names = leaves.map((l) => `leaf ${WORDS[peers.indexOf(l)]} holiday photos`)
    const foundAll = async (note?: (seen: string) => void) => {
      for (const n of names) {
        if ((await searcher.searchApi(n, SEARCH_MS)).hits.length > 0) continue
        // What the leaves say now, so a timeout shows where re-attachment stood.
        if (note) {
          const now = await Promise.all(
            peers
              .filter((p) => p !== victim)
              .map(async (p) => {
                const s = await p.statusApi().catch((err: Error) => err.message)
                return typeof s === 'string'
                  ? `${p.host.name}: ${s}`
                  : `${p.host.name}=${s.role}→${s.neighbors.map((n) => nameOf.get(n.id) ?? n.id.slice(0, 8)).join(',') || 'none'}`
              }),
          )
          note(
            `'${n}' not found ${Date.now() - killed} ms after the kill; ${now.join(' ')} (victim ${victim.host.name})`,
          )
        }
        return false
      }
      return true
    }
    let killed = Date.now()
    await waitFor('the leaves’ files before the kill', () => foundAll(), 15_000)

    await victim.kill('SIGKILL')
    killed = Date.now()
    await waitFor('the orphaned leaves’ files found again', foundAll, BOUND_MS + SLACK_MS, 100)
    const recovered = Date.now() - killed
    t.log(
      `found again ${recovered} ms after the kill (documented bound ${BOUND_MS} ms + ${SLACK_MS} ms slack)`,
    )
    const after = await Promise.all(leaves.map((l) => l.status()))
    for (const s of after as StatusJson[]) {
      t.true(
        s.role === 'supernode' || s.neighbors[0]?.id !== victim.id,
        'no leaf still points at the dead supernode',
      )
    }

    const getter = (peers.find((p) => p !== victim && !big.has(p.host) && p !== searcher) ??
      peers.find((p) => p !== victim && !big.has(p.host))) as PeerProcess
    // The providers still alive (the victim may have been one of them): one more is killed mid-download.
    await providerKilledMidDownload(
      t,
      getter,
      peers.filter((p) => big.has(p.host) && p !== victim),
      sha,
    )
  },
)
