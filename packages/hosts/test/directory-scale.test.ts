import { startPostgres } from '@peerkit/index-postgres/testing'
import type { PeerProcess } from '../src/index.js'
import { bytesOf, FAST, fastConfig, hostTest, network, shareFile, waitFor } from './helpers/net.js'

/** Registrations lapse this long after their last renewal (directory.registrationTtl). */
const TTL = 4000
/** What the central README states: a search waits at most failoverWait (5 s) for a re-homed peer's new directory. */
const FAILOVER_BOUND = 5000
/**
 * Eleven processes start at once (three directories, eight peers): on a loaded 2-core machine one
 * takes more than the hosts' default 30 s to say it is ready.
 */
const READY = 60_000
/** curl, the node's API and the process start add this to a search, on a loaded 2-core machine. */
const SLACK = 2500

hostTest(
  'directory scale-out: three directories on one PostgreSQL, eight peers; every file found from every peer; a killed directory’s peers re-homed within the bound; a restarted one keeps nothing stale',
  async (t) => {
    const { hosts } = await network(t, 12)
    const [dbHost, d0h, d1h, d2h, ...peerHosts] = hosts
    const db = await startPostgres({ namespace: dbHost.ns, listen: dbHost.address })
    t.teardown(() => db.stop())
    const config = {
      options: { ...FAST.directory, registrationTtl: TTL },
      index: 'postgres',
      components: { postgres: { url: db.url, purgeInterval: 1000 } },
    }
    const dirHosts = [d0h, d1h, d2h]
    // Three servers migrate one empty database at once: the advisory lock keeps them from racing.
    const dirs = await Promise.all(dirHosts.map((h) => h.startDirectory({ config, readyTimeout: READY })))
    const addresses = dirs.map((d) => d.address)
    const peers: PeerProcess[] = await Promise.all(
      peerHosts.map(async (h, i) => {
        const share = await shareFile(h, `Scale.${i}.Report.txt`, bytesOf(2048 + i, i + 7))
        // Each peer lists the three directories, starting at its own: 3, 3 and 2 peers per directory.
        const directories = [...addresses.slice(i % 3), ...addresses.slice(0, i % 3)]
        return h.startNode({
          overlay: 'central',
          config: fastConfig('central', { directories }),
          share: [share],
          readyTimeout: READY,
        })
      }),
    )
    const homeOf = async (p: PeerProcess) => (await p.statusApi()).neighbors[0]?.id
    const nameOf = (id: string | undefined) => dirs.find((d) => d.id === id)?.host.name ?? id ?? 'none'
    const all = peers.map((_, i) => `Scale.${i}.Report.txt`)
    /** True when `p` finds exactly the files `expected`; notes what it found, and where it is logged in. */
    const finds = async (
      p: PeerProcess,
      expected: string[],
      note: (seen: string) => void,
      timeout = 2000,
    ) => {
      const names = (await p.searchApi('scale report', timeout)).hits.map((h) => h.name).sort()
      const at = nameOf(await homeOf(p).catch(() => undefined)) // only for the note: no status reads 'none'
      note(`${p.host.name} at ${at} found ${names.length}: ${names.join(', ') || 'nothing'}`)
      return names.length === expected.length && names.every((n, i) => n === expected[i])
    }
    for (const p of peers)
      await waitFor(`every file from ${p.host.name}`, (note) => finds(p, all, note), 30_000)
    const homes = await Promise.all(peers.map(homeOf))
    for (const d of dirs) {
      t.true(homes.filter((h) => h === d.id).length >= 2, `directory ${d.host.name} has peers of its own`)
    }
    t.log('each peer finds the 8 files registered at 3 directories')

    // One directory killed: its peers log in at another and search again, each within the bound.
    const victims = peers.filter((_, i) => homes[i] === dirs[0]?.id)
    await dirs[0]?.kill('SIGKILL')
    const killed = Date.now()
    const took = await Promise.all(
      victims.map(async (p) => {
        await waitFor(
          `${p.host.name} searching again`,
          (note) => finds(p, all, note, FAILOVER_BOUND + 1000),
          20_000,
        )
        return Date.now() - killed
      }),
    )
    t.log(`peers of the killed directory searchable again after ${took.join(', ')} ms`)
    for (const ms of took) t.true(ms <= FAILOVER_BOUND + SLACK, `re-homed in ${ms} ms`)
    for (const p of victims) t.not(await homeOf(p), dirs[0]?.id)
    dirs[0] = await d0h.startDirectory({ config, readyTimeout: READY })

    // A directory and one of its peers die together: nobody unregisters that peer's file. The directory
    // restarts (same identity); the peer's registration lapses within the TTL, everything else stays found.
    const homes2 = await Promise.all(peers.map(homeOf))
    const gone = peers.findIndex((_, i) => homes2[i] === dirs[1]?.id)
    const ghost = peers[gone] as PeerProcess
    const searcher = peers.find((_, i) => homes2[i] === dirs[2]?.id) as PeerProcess
    await Promise.all([ghost.kill('SIGKILL'), dirs[1]?.kill('SIGKILL')])
    const died = Date.now()
    // It restarts while the searcher watches: its start-up (seconds on a loaded machine) is no part of the lapse.
    const restart = d1h.startDirectory({ config, readyTimeout: READY }).then((d) => {
      dirs[1] = d
      return Date.now() - died
    })
    const live = all.filter((_, i) => i !== gone).sort()
    const [restarted, lapsed] = await Promise.all([
      restart,
      waitFor(
        'the dead peer’s file gone, the seven others found',
        (note) => finds(searcher, live, note),
        TTL + 10_000,
      ).then(() => Date.now() - died),
    ])
    t.log(
      `the dead peer's registration left the results ${lapsed} ms after it died (registrationTtl ${TTL}); its directory was back after ${restarted} ms`,
    )
    t.true(lapsed <= TTL + FAST.directory.dropAfter + SLACK, 'within the lease, not later')
    for (const p of peers) {
      if (p === ghost) continue
      await waitFor(`${p.host.name} finds the seven live files`, (note) => finds(p, live, note), 15_000)
    }
  },
)

/** Registrations of the embedded-store test: long enough to outlive the directory's restart. */
const EMBEDDED_TTL = 15_000

hostTest(
  'directory on the embedded store (LMDB), restarted: registrations are back before any peer re-registers; expired ones are gone',
  async (t) => {
    const { hosts } = await network(t, 9)
    const [dirHost, ...peerHosts] = hosts
    const config = { options: { ...FAST.directory, registrationTtl: EMBEDDED_TTL }, index: 'lmdb' }
    let directory = await dirHost.startDirectory({ config })
    const bootstrap = [directory.address]
    const peers: PeerProcess[] = await Promise.all(
      peerHosts.map(async (h, i) => {
        const share = await shareFile(h, `Embedded.${i}.Report.txt`, bytesOf(1024 + i, i + 3))
        return h.startNode({ overlay: 'central', bootstrap, config: fastConfig('central'), share: [share] })
      }),
    )
    const searcher = peers[7] as PeerProcess
    const found = async () => (await searcher.searchApi('embedded report', 2000)).hits
    await waitFor('every file registered', async () => (await found()).length === 8, 30_000)

    // Six peers frozen (they can neither renew nor register again), one killed, the directory killed and restarted.
    const frozen = peers.slice(0, 6)
    const ghost = peers[6] as PeerProcess
    await Promise.all([directory.kill('SIGKILL'), ghost.kill('SIGKILL')])
    for (const p of frozen) process.kill(p.child.pid as number, 'SIGSTOP')
    t.teardown(() => {
      for (const p of frozen) if (p.running) process.kill(p.child.pid as number, 'SIGCONT')
    })
    const died = Date.now()
    directory = await dirHost.startDirectory({ config })
    const back = await waitFor(
      'the stored registrations, with only the searcher logged in again',
      async () => ((await found()).length === 8 ? Date.now() - died : false),
      15_000,
    )
    t.log(
      `all 8 registrations found ${back} ms after the directory died, with 7 of their peers frozen or dead`,
    )

    // Nobody renews them: they lapse, the searcher's own (renewed by its session) stays.
    await waitFor(
      'the frozen and dead peers’ registrations lapsed',
      async () => {
        const hits = await found()
        return hits.length === 1 && hits[0]?.name === 'Embedded.7.Report.txt'
      },
      EMBEDDED_TTL + 10_000,
    )
    const lapsed = Date.now() - died
    t.log(`they lapsed ${lapsed} ms after the directory died (registrationTtl ${EMBEDDED_TTL})`)
    t.true(lapsed <= EMBEDDED_TTL + SLACK, 'within the lease')

    // Thawed, the frozen peers log in again and register: everything but the dead peer's file is found.
    for (const p of frozen) process.kill(p.child.pid as number, 'SIGCONT')
    await waitFor('the thawed peers registered again', async () => (await found()).length === 7, 30_000)
    t.false(
      (await found()).some((h) => h.name === 'Embedded.6.Report.txt'),
      'the dead peer stays gone',
    )
  },
)
