import '@peerkit/index-postgres'
import { CLOCK, collect, createLogger, LOGGER, type LogEntry } from '@peerkit/core'
import { TestClock } from '@peerkit/core/testing'
import { type PostgresServer, startPostgres } from '@peerkit/index-postgres/testing'
import test, { type ExecutionContext } from 'ava'
import pg from 'pg'
import { type DirectoryServer } from '../src/index.js'
import { type Node, names, recordOf, uniqueName, until } from './helpers/net.js'
import { StallingClock } from './helpers/stalling-clock.js'
import { storedDirectories } from './helpers/stored-directory.js'

// Real time (PostgreSQL answers in real time; a virtual clock would run ahead while a query is out).
// The tests poll with searches: the per-peer search rate is not what they check.
const TIMERS = {
  heartbeatInterval: 200,
  dropAfter: 1000,
  registrationTtl: 1500,
  searchRate: 1000,
  searchBurst: 1000,
}

let server: Promise<PostgresServer> | undefined
test.after.always(async () => {
  if (server) await (await server).stop()
})
const database = async () => {
  server ??= startPostgres()
  return (await server).createDatabase()
}

/** The expiry of `provider`'s lease in the database (0 when it holds none). */
async function leaseOf(url: string, provider: string): Promise<number> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query<{ e: string }>(
      'SELECT expires_at AS e FROM peerkit.leases WHERE provider = $1',
      [provider],
    )
    return Number(rows[0]?.e ?? 0)
  } finally {
    await client.end()
  }
}

/** `directories` directories on one database, their peers added with `add`; on `clock` when given. */
async function setup(t: ExecutionContext, directories: number, clock?: TestClock) {
  const url = await database()
  const cluster = storedDirectories(t, (seed) => ({
    index: 'postgres',
    seed,
    components: { postgres: { url, purgeInterval: 200 } },
    options: TIMERS,
  }))
  if (clock) cluster.container.register(CLOCK, { useValue: clock })
  const addresses = Array.from({ length: directories }, () => `memory://${uniqueName('shared-directory')}`)
  const servers = await Promise.all(addresses.map((a, i) => cluster.start(a, i + 1)))
  const add = (order: string[]) => cluster.add({ directories: order })
  return { url, addresses, servers, start: cluster.start, add }
}

test('two directories on one database: a file registered at one is found through the other, at its provider’s address', async (t) => {
  const { addresses, servers, add } = await setup(t, 2)
  const [a, b] = addresses as [string, string]
  const alice = await add([a, b])
  const bob = await add([b, a])
  t.is(servers[0]?.server.peers()[0]?.id, alice.id)
  t.is(servers[1]?.server.peers()[0]?.id, bob.id)
  await alice.overlay.publish([recordOf(alice, 'Harry.Potter.mkv'), recordOf(alice, '千と千尋の神隠し.mkv')])
  await bob.overlay.publish([recordOf(bob, 'Harry.Potter.mkv')])
  const both = async () => (await collect(bob.overlay.search({ keywords: ['harry', 'pot'] })))[0]
  t.true(await until(5000, async () => (await both())?.providers.length === 2), 'both registrations written')
  const hit = await both()
  t.deepEqual(
    hit?.providers.map((p) => p.id).sort(),
    [alice.id, bob.id].sort(),
    'providers of both directories',
  )
  t.deepEqual(
    hit?.providers.find((p) => p.id === alice.id)?.addresses,
    alice.addresses(),
    "alice's address, as she gave it to her directory",
  )
  t.deepEqual(
    await names(bob, '神隠'),
    ['千と千尋の神隠し.mkv'],
    'substring in Japanese, through the other directory',
  )
})

test('a directory that dies: its peers move to the other, which already lists their files; a peer gone with it lapses within registrationTtl', async (t) => {
  const clock = new TestClock(Date.now())
  const { url, addresses, servers, add } = await setup(t, 2, clock)
  const [a, b] = addresses as [string, string]
  const alice = await add([a, b])
  const carol = await add([a, b])
  const bob = await add([b, a])
  await alice.overlay.publish([recordOf(alice, 'alice.notes.txt')])
  await carol.overlay.publish([recordOf(carol, 'carol.notes.txt')])
  t.deepEqual(await names(bob, 'notes'), ['alice.notes.txt', 'carol.notes.txt'])

  // Carol vanishes (no logout) at the moment her directory dies; alice survives and moves to b.
  await Promise.all([carol.network.stop(), servers[0]?.stop()])
  const died = clock.now()
  t.deepEqual(
    await names(bob, 'notes'),
    ['alice.notes.txt', 'carol.notes.txt'],
    'registrations outlive their directory until they lapse',
  )
  t.true(
    await reconnected(clock, () => alice.overlay.neighbors()[0]?.id === servers[1]?.id),
    'alice moved to b',
  )
  t.true((await names(alice, 'notes')).includes('alice.notes.txt'), 'alice searches at b')
  // Carol's lease was last renewed at most registrationTtl before a died; b purges every 200 ms.
  const renewed = await keepingLease(clock, url, alice.id, died + TIMERS.registrationTtl + 200)
  if (!t.true(renewed, "b renews alice's lease ahead of its purge")) return
  t.deepEqual(
    await names(bob, 'notes'),
    ['alice.notes.txt'],
    "carol's registration lapsed within registrationTtl; alice is still there: b renews her registration",
  )
  // Past the moment her registration would have lapsed without renewal (b renewed her lease since a died):
  t.true(
    await keepingLease(clock, url, alice.id, died + TIMERS.registrationTtl * 1.5),
    "b renews alice's lease ahead of its purge",
  )
  t.true(
    await until(5000, async () => (await leaseOf(url, alice.id)) > died + TIMERS.registrationTtl * 1.5),
    'b renewed her lease past the first one',
  )
  t.deepEqual(await names(bob, 'notes'), ['alice.notes.txt'], 'and keeps renewing it')
})

test('a directory restarted on the same database: the registrations are there before any peer re-registers, and stale ones lapse', async (t) => {
  const clock = new TestClock(Date.now())
  const { addresses, servers, start, add } = await setup(t, 1, clock)
  const [a] = addresses as [string]
  const alice = await add([a])
  const bob = await add([a])
  await alice.overlay.publish([recordOf(alice, 'kept.across.restart.bin')])
  t.deepEqual(await names(bob, 'kept'), ['kept.across.restart.bin'])
  await servers[0]?.stop()
  const stopped = clock.now()
  await alice.network.stop() // alice will not come back to re-register
  const again = await start(a, 1)
  t.true(await reconnected(clock, () => bob.overlay.connected), 'bob logged in again')
  t.deepEqual(await names(bob, 'kept'), ['kept.across.restart.bin'], 'back without alice re-registering')
  // Her lease was last renewed at most registrationTtl before the directory stopped; the restarted one purges every 200 ms.
  await clock.advance(stopped + TIMERS.registrationTtl + 200 - clock.now())
  t.deepEqual(await names(bob, 'kept'), [], "alice's registration lapsed: nothing stale is kept")
  t.is(again.server.recordsOf(alice.id), 0)
})

/**
 * Moves `clock` on by a reconnection's backoff step (20-200 ms) until `done`, waiting (bounded, in real
 * time) after each step for the login it may have started: the clock does not run ahead of the database.
 */
/**
 * Moves `clock` on to `to` in steps of 100 ms, each taken once `provider`'s lease in the database lies
 * past it (waited for, bounded): the directory's renewal is a write the virtual clock does not wait
 * for, and one step over both it and the next purge would let the purge run first. False when the
 * lease falls behind (the directory did not renew it).
 */
async function keepingLease(clock: TestClock, url: string, provider: string, to: number): Promise<boolean> {
  while (clock.now() < to) {
    const step = Math.min(100, to - clock.now())
    if (!(await until(5000, async () => (await leaseOf(url, provider)) > clock.now() + step))) return false
    await clock.advance(step)
  }
  return true
}

async function reconnected(clock: TestClock, done: () => boolean): Promise<boolean> {
  for (let step = 0; step < 20; step++) {
    await clock.advance(50)
    if (await until(2000, done)) return true
  }
  return false
}

test('a peer that moves to another directory keeps its registration when its old directory’s lease on it lapses before the new one first renews it', async (t) => {
  // a renews its peers' leases every 750 ms (half of 1,500), b every 3,000: a's last lease on alice
  // lapses within 1.5 s of a's death, long before b's first renewal of her would come. Virtual time, driven
  // by the test, which waits (bounded) for what PostgreSQL does before it moves the clock on.
  const url = await database()
  const clock = new TestClock(Date.now())
  const cluster = storedDirectories(t, (seed) => ({
    index: 'postgres',
    seed,
    components: { postgres: { url, purgeInterval: 200 } },
    options: { ...TIMERS, registrationTtl: seed === 1 ? 1500 : 6000 },
  }))
  cluster.container.register(CLOCK, { useValue: clock })
  const a = `memory://${uniqueName('lease-a')}`
  const b = `memory://${uniqueName('lease-b')}`
  const [da, db] = await Promise.all([cluster.start(a, 1), cluster.start(b, 2)])
  const alice = await cluster.add({ directories: [a, b] })
  const bob = await cluster.add({ directories: [b, a] })
  await alice.overlay.publish([recordOf(alice, 'moving.notes.txt')])
  t.deepEqual(await names(bob, 'moving'), ['moving.notes.txt'], 'registered at a')
  const first = await leaseOf(url, alice.id)
  await clock.advance(1000)
  t.true(await until(5000, async () => (await leaseOf(url, alice.id)) > first), 'a renewed her lease')

  await da?.stop()
  const lapses = await leaseOf(url, alice.id)
  t.true(
    await reconnected(clock, () => alice.overlay.neighbors()[0]?.id === db?.server.id),
    'alice moved to b',
  )
  // Every search from her move until well past a's last lease (b purges what lapsed every 200 ms) finds her file.
  const seen: string[] = []
  while (clock.now() < lapses + 1000) {
    await clock.advance(100)
    seen.push((await names(bob, 'moving')).join(',') || 'nothing')
  }
  t.deepEqual([...new Set(seen)], ['moving.notes.txt'], `${seen.length} searches, each found her file`)
  t.true((await leaseOf(url, alice.id)) > lapses, 'b holds her lease now')
  t.is(db?.server.recordsOf(alice.id), 1)
})

/**
 * Alice, connected to a directory on PostgreSQL, publishes two files; `lapse` makes her lease lapse while her
 * session lives and drives the clock to the sweep that renews it (resolving to when it began and the bound
 * on the re-registration from then); then her files must be found again within the bound, counted once.
 * Virtual time, driven by the test; PostgreSQL answers in real time, and the test waits (bounded) for what
 * it caused before it moves the clock on. dropAfter is above any stall: she is not dropped for it.
 */
async function lapseWhileConnected(
  t: ExecutionContext,
  lapse: (at: { url: string; clock: StallingClock; alice: Node; directory: DirectoryServer }) => Promise<{
    from: number
    bound: number
  }>,
) {
  const url = await database()
  const clock = new StallingClock(new TestClock(Date.now()))
  const logged: (LogEntry & { at: number })[] = []
  const cluster = storedDirectories(t, (seed) => ({
    index: 'postgres',
    seed,
    components: { postgres: { url, purgeInterval: 200 } },
    options: { ...TIMERS, dropAfter: 3000 },
  }))
  cluster.container.register(CLOCK, { useValue: clock })
  cluster.container.register(LOGGER, {
    useValue: createLogger({ level: 'info', sink: (e) => logged.push({ ...e, at: clock.now() }) }),
  })
  const address = `memory://${uniqueName('lapse')}`
  const directory = (await cluster.start(address, 1)).server
  const alice = await cluster.add({ directories: [address] })
  const bob = await cluster.add({ directories: [address] })
  const files = ['lapsed.notes.txt', 'lapsed.report.pdf']
  await alice.overlay.publish(files.map((name) => recordOf(alice, name)))
  t.deepEqual(await names(bob, 'lapsed'), files)
  const budget = directory.usage({ peer: alice.id })
  t.is(budget.records, 2)
  t.true((await leaseOf(url, alice.id)) > clock.now(), 'alice holds a lease (renewed as she logged in)')

  const { from, bound } = await lapse({ url, clock, alice, directory })
  const healed = () =>
    logged.find(
      (e) => e.level === 'warn' && e.component === 'peerkit:central:directory' && e.fields?.peer === alice.id,
    )
  t.true(await until(10_000, () => healed() !== undefined), "the directory's renewal found her rows gone")
  t.like(healed()?.fields, { accounted: 2, live: 0 })

  // Her next heartbeat hears that the directory holds none of her records, and she registers them again.
  await clock.inner.advance(TIMERS.heartbeatInterval)
  t.true(
    await until(10_000, async () => (await names(bob, 'lapsed')).length === 2),
    'her files are found again',
  )
  t.deepEqual(await names(bob, 'lapsed'), files)
  const resync = logged.find(
    (e) => e.component === 'peerkit:central:client' && /registering them again/.test(e.message),
  )
  t.like(resync?.fields, { known: 0, published: 2 }, 'the client logged its re-registration at info')
  t.is(resync?.level, 'info')
  const took = (resync?.at ?? Number.POSITIVE_INFINITY) - from
  t.true(took <= bound, `registered again ${took} ms after the lapse began (at most ${bound})`)
  t.deepEqual(directory.usage({ peer: alice.id }), budget, 'her budget counts her files once')
  t.is(directory.recordsOf(alice.id), 2)
  t.true((await leaseOf(url, alice.id)) > clock.now(), 'under a live lease again')
}

test('a live session whose lease lapsed (its directory stalled past it) and was purged heals within a sweep and a heartbeat: its files are found again, counted once', async (t) => {
  await lapseWhileConnected(t, async ({ url, clock, alice, directory }) => {
    // The directory's process stalls past alice's lease: it lapses before the sweep renews it, and goes for
    // good (a purge, or the renewal itself, drops a lapsed lease with its records).
    clock.stall((await leaseOf(url, alice.id)) - clock.now() + 1)
    const from = clock.now()
    await clock.inner.advance(directory.sweepInterval)
    return { from, bound: directory.sweepInterval + TIMERS.heartbeatInterval }
  })
})

test('a live session whose lease another directory shortened, and which was purged, heals at the next renewal and heartbeat', async (t) => {
  await lapseWhileConnected(t, async ({ url, clock, alice, directory }) => {
    // What another directory on the database writes when it renews her lease with a shorter registrationTtl
    // (it still holds a session of hers she left): her lease ends in 100 ms, long before this one renews it.
    const from = clock.now()
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      await client.query('UPDATE peerkit.leases SET expires_at = $2 WHERE provider = $1', [
        alice.id,
        from + 100,
      ])
    } finally {
      await client.end()
    }
    // Past the purge (every 200 ms) and up to the sweep that renews her lease (at half of registrationTtl).
    await clock.inner.advance(TIMERS.registrationTtl)
    return { from, bound: TIMERS.registrationTtl + directory.sweepInterval + TIMERS.heartbeatInterval }
  })
})
