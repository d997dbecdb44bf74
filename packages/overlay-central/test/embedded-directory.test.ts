import '@peerkit/index-lmdb'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CLOCK, collect } from '@peerkit/core'
import { TestClock } from '@peerkit/core/testing'
import test from 'ava'
import { names, recordOf, uniqueName, until } from './helpers/net.js'
import { StallingClock } from './helpers/stalling-clock.js'
import { storedDirectories } from './helpers/stored-directory.js'

// Real time: LMDB writes in real time, a self-running virtual clock would run ahead of them.
const TIMERS = {
  heartbeatInterval: 200,
  dropAfter: 1000,
  registrationTtl: 3000,
  searchRate: 1000,
  searchBurst: 1000,
}

test('a directory on the embedded store (LMDB) restarted: registrations are back before any peer re-registers; those nobody renews lapse', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'peerkit-embedded-directory-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const cluster = storedDirectories(t, () => ({ index: 'lmdb', dataDir, options: TIMERS }))
  const address = `memory://${uniqueName('embedded-directory')}`
  const start = () => cluster.start(address)
  const add = () => cluster.add({}, [address])
  const first = await start()
  const alice = await add()
  const bob = await add()
  await alice.overlay.publish([recordOf(alice, 'Embedded.Alice.Film.mkv')])
  await bob.overlay.publish([recordOf(bob, 'Embedded.Bob.Film.mkv')])
  t.true(await until(5000, async () => (await names(alice, 'embedded film')).length === 2))

  // The directory goes down, and both peers with it (their networks stop: no logout, no re-registration).
  const aliceAt = alice.addresses()
  await Promise.all([alice.network.stop(), bob.network.stop()])
  await first.stop()
  const second = await start()
  const carol = await add() // registers nothing: she only searches
  t.deepEqual(
    await names(carol, 'embedded film'),
    ['Embedded.Alice.Film.mkv', 'Embedded.Bob.Film.mkv'],
    'back from the store, no peer registered again',
  )
  t.is(second.server.recordsOf(alice.id), 0, 'alice did not register again')
  const hit = (await collect(carol.overlay.search({ keywords: ['alice'] })))[0]
  t.deepEqual(hit?.providers[0]?.addresses, aliceAt, 'listed at the address alice had given')

  t.true(
    await until(
      TIMERS.registrationTtl + 3000,
      async () => (await names(carol, 'embedded film')).length === 0,
    ),
    'nobody renews them: they lapse',
  )
  await second.stop()
  const third = await start()
  t.deepEqual(await names(carol, 'embedded'), [], 'and are not back after another restart')
  t.is(third.server.size, 0)
})

test('on the embedded store a live session whose registrations lapsed (its directory stalled past them) has them back at the next sweep, counted once', async (t) => {
  // Virtual time, driven by the test (LMDB answers in real time; nothing moves the clock while it does).
  // The directory keeps a session's records in its heap beside LMDB: its renewal puts them back itself.
  const dataDir = await mkdtemp(join(tmpdir(), 'peerkit-embedded-directory-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const clock = new StallingClock(new TestClock(Date.now()))
  const cluster = storedDirectories(t, () => ({
    index: 'lmdb',
    dataDir,
    options: { ...TIMERS, dropAfter: 5000 },
  }))
  cluster.container.register(CLOCK, { useValue: clock })
  const address = `memory://${uniqueName('embedded-stall')}`
  const directory = (await cluster.start(address)).server
  const alice = await cluster.add({}, [address])
  const bob = await cluster.add({}, [address])
  await alice.overlay.publish([recordOf(alice, 'Stalled.Embedded.mkv')])
  t.deepEqual(await names(bob, 'stalled'), ['Stalled.Embedded.mkv'])
  const budget = directory.usage({ peer: alice.id })

  clock.stall(TIMERS.registrationTtl + 1) // no sweep ran yet: her registration lapses
  t.deepEqual(await names(bob, 'stalled'), [], 'lapsed and purged')
  await clock.inner.advance(directory.sweepInterval)
  t.true(
    await until(5000, async () => (await names(bob, 'stalled')).length === 1),
    'the sweep that renews her registration puts it back',
  )
  t.deepEqual(directory.usage({ peer: alice.id }), budget, 'counted once')
})
