import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { collect, type Hit, type Peer } from '@peerkit/core'
import test from 'ava'
import { FAST, overlayOf, type TcpNet, tcpNet, until } from './helpers/tcp-net.js'

/** 16 peers, 4 leaves a supernode: about 3 supernodes, as 30 and 8 gave, at half the handshakes. */
const PEERS = 16
const OPTIONS = { ...FAST, leavesPerSupernode: 4 }
/** How long a wait over real sockets may take before the test fails: a safety bound, not a claim (claims are in virtual time). */
const WAIT = 20_000
const MOVIE = 'Harry.Potter.and.the.Chamber.of.Secrets.(2002).mkv'
/**
 * The recovery bound for these options (docs/overlays/supernode.md): detection (a closed
 * connection at once; a silent one within heartbeatInterval + max(heartbeatInterval, 1000)),
 * plus one failoverTimeout per dead supernode tried and electionDelay when an election is needed.
 * Over real sockets it bounds the waits; the bound itself is asserted in virtual time (roles.test.ts),
 * where a loaded machine cannot stretch it.
 */
const RECOVERY_BOUND = 5000 + 5000 + 2 * 2000 + 300 + 1000

/**
 * One network of 30 peers serves the scenarios that leave it standing (each
 * uses its own peers); the one that kills a supernode builds its own.
 */
const cleanups: (() => unknown)[] = []
let shared: Promise<TcpNet> | undefined
const sharedNet = () => {
  shared ??= tcpNet({ teardown: (fn) => cleanups.push(fn) }, PEERS, OPTIONS)
  return shared
}
test.after.always(async () => {
  for (const fn of cleanups.reverse()) await fn()
})

/** The shared network's leaves, in a fixed order: each test takes its own. */
const leavesOf = (net: TcpNet) => net.peers.filter((p) => overlayOf(p).role() === 'leaf')

async function search(peer: Peer, query: string): Promise<Hit[]> {
  return collect(peer.search(query, { timeout: 3000 }))
}

/** A peer attached to a supernode other than `sn` (and not `sn` itself), or another supernode. */
function elsewhere(peers: Peer[], sn: Peer, not: Peer[] = []): Peer {
  const far = peers.find(
    (p) => p !== sn && !not.includes(p) && p.started && overlayOf(p).supernode()?.id !== sn.id,
  )
  if (!far) throw new Error('no peer outside the supernode')
  return far
}

test('roles: 16 peers settle into supernodes with leaves, about one supernode per leavesPerSupernode', async (t) => {
  const net = await sharedNet()
  t.true(
    await until(WAIT, () =>
      net.supernodes().every((sn) => net.leavesOf(sn).length <= 2 * OPTIONS.leavesPerSupernode),
    ),
  )
  const sns = net.supernodes()
  t.log(`supernodes: ${sns.length}, leaves: ${sns.map((s) => net.leavesOf(s).length).join(' ')}`)
  t.true(sns.length >= 2 && sns.length <= PEERS / 2, `${sns.length} supernodes`)
  for (const p of net.peers) t.true(['supernode', 'leaf'].includes(overlayOf(p).role()))
  t.true(
    await until(WAIT, () => net.supernodes().every((sn) => overlayOf(sn).supernodes.size === sns.length - 1)),
    'supernodes link with each other (fewer than supernodeLinks exist)',
  )
  const stats = overlayOf(sns[0] as Peer).stats()
  t.is(stats.role, 'supernode')
  t.is(typeof stats.records, 'number')
  t.true((stats.leaves as number) >= 0)
})

test('alice over TCP: shares, a peer on another supernode searches "harry potter", downloads it byte-identical', async (t) => {
  const net = await sharedNet()
  const movie = randomBytes(600_000)
  const leaves = leavesOf(net)
  const alice = leaves[0] as Peer
  const sn = net.peers.find((p) => p.id === overlayOf(alice).supernode()?.id) as Peer
  await net.share(alice, MOVIE, movie)
  const bob = elsewhere(leaves.slice(6), sn)
  let hits: Hit[] = []
  t.true(
    await until(WAIT, async () => {
      hits = await search(bob, 'harry potter')
      return hits.length === 1
    }),
  )
  const hit = hits[0] as Hit
  t.is(hit.name, MOVIE)
  t.deepEqual(
    hit.providers.map((p) => p.id),
    [alice.id],
  )
  t.regex(hit.providers[0]?.addresses[0] as string, /^tcp:\/\/127\.0\.0\.1:\d+$/)
  const to = join(net.dir, 'bob-got', MOVIE)
  const result = await bob.download(hit.hash, { to, providers: hit.providers }).done
  t.true(result.verified)
  t.true((await readFile(to)).equals(movie), 'byte-identical')
  t.deepEqual(
    result.sources.map((s) => s.id),
    [alice.id],
  )
})

test('a supernode killed without warning: its leaves re-attach and a search for a leaf file succeeds again', async (t) => {
  const net = await tcpNet(t, PEERS, OPTIONS)
  const victim = net.supernodes().sort((a, b) => net.leavesOf(b).length - net.leavesOf(a).length)[0] as Peer
  const orphans = net.leavesOf(victim)
  t.true(orphans.length >= 2, `the victim has ${orphans.length} leaves`)
  const holder = orphans[0] as Peer
  await net.share(holder, 'Orphaned.Documentary.mkv', randomBytes(70_000))
  const searcher = elsewhere(net.peers, victim, orphans)
  t.true(await until(WAIT, async () => (await search(searcher, 'orphaned documentary')).length === 1))

  // Roles settle on their own (promotions hand leaves over, also while the kill is under way), so the leaves
  // that must notice the failure are those attached to the victim once it is gone, and those that noticed already.
  const failovers = (p: Peer) => overlayOf(p).stats().failovers as number
  const before = new Map(orphans.map((p) => [p, failovers(p)]))
  const killedAt = Date.now()
  await victim.network.stop() // no goodbye: the sockets just close
  const attachedAtKill = orphans.filter(
    (p) => overlayOf(p).supernode()?.id === victim.id || failovers(p) > (before.get(p) as number),
  )
  let found = 0
  t.true(
    await until(WAIT, async () => {
      const hits = await collect(searcher.search('orphaned documentary', { timeout: 600 }))
      if (hits.some((h) => h.providers.some((p) => p.id === holder.id))) found = Date.now() - killedAt
      return found > 0
    }),
    'the file is found again',
  )
  t.log(
    `found again ${found} ms after the kill (bound ${RECOVERY_BOUND} ms unloaded); holder re-attached after ${overlayOf(holder).stats().lastRecoveryMs} ms`,
  )
  t.true(
    await until(WAIT, () =>
      orphans.every(
        (p) =>
          overlayOf(p).role() === 'supernode' ||
          (overlayOf(p).supernode() !== undefined && overlayOf(p).supernode()?.id !== victim.id),
      ),
    ),
    'every orphan is attached again (or became a supernode)',
  )
  t.true(attachedAtKill.length >= 1, 'some leaves were attached to the victim when it died')
  t.true(
    attachedAtKill.every((p) => failovers(p) > (before.get(p) as number)),
    'every leaf attached to the victim noticed the failure',
  )
})

test('a file held by three leaves downloads from all three at once', async (t) => {
  const net = await sharedNet()
  const content = randomBytes(4_000_000)
  const leaves = leavesOf(net)
  const holders = [leaves[1], leaves[5], leaves[9]] as Peer[]
  for (const [i, h] of holders.entries()) await net.share(h, `Big.Buck.Bunny.part${i}.mkv`, content)
  const downloader = leaves[3] as Peer
  let hit: Hit | undefined
  t.true(
    await until(WAIT, async () => {
      const hits = await search(downloader, 'big buck bunny')
      const first = hits[0]
      if (!first) return false
      const providers = new Map(hits.flatMap((h) => h.providers).map((p) => [p.id, p]))
      hit = { ...first, providers: [...providers.values()] }
      return hit.providers.length === 3
    }),
    'the search finds the three providers',
  )
  const to = join(net.dir, 'bunny.mkv')
  // The providers the search found (peer.download would ask the overlay again; these are the same three).
  const result = await downloader.download((hit as Hit).hash, { to, providers: (hit as Hit).providers }).done
  t.true((await readFile(to)).equals(content))
  t.log(result.sources.map((s) => `${s.id.slice(0, 8)}: ${s.bytes}`).join(', '))
  t.is(result.sources.length, 3)
  t.true(result.sources.every((s) => s.bytes > 0 && holders.some((h) => h.id === s.id)))
})

test('a provider that goes away mid-download does not stop it', async (t) => {
  const net = await sharedNet()
  const content = randomBytes(4_000_000)
  const leaves = leavesOf(net)
  const holders = [leaves[2], leaves[6], leaves[10]] as Peer[]
  for (const [i, h] of holders.entries()) await net.share(h, `Sintel.copy${i}.mkv`, content)
  const downloader = leaves[4] as Peer
  let hash = ''
  t.true(
    await until(WAIT, async () => {
      const hits = await search(downloader, 'sintel')
      hash = hits[0]?.hash ?? ''
      return new Set(hits.flatMap((h) => h.providers.map((p) => p.id))).size === 3
    }),
  )
  const to = join(net.dir, 'sintel.mkv')
  const download = downloader.download(hash, { to, providerTimeout: 3000 })
  const victim = holders[0] as Peer
  let killed = false
  download.on('progress', (p) => {
    if (!killed && p.bytes > 0) {
      killed = true
      void victim.network.stop()
    }
  })
  const result = await download.done
  t.true(killed, 'a provider was stopped during the download')
  t.true((await readFile(to)).equals(content), 'byte-identical anyway')
  t.true(result.sources.some((s) => s.id !== victim.id && s.bytes > 0))
})
