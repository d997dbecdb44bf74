import { CLOCK, collect, createLogger, defineProtocol, Identity, LOGGER, type LogEntry } from '@peerkit/core'
import { TestClock } from '@peerkit/core/testing'
import { MemoryNetwork, memoryContainer } from '@peerkit/transport-memory'
import test from 'ava'
import { z } from 'zod'
import { createDirectoryServer } from '../src/index.js'
import { centralNet, type Node, recordOf, uniqueName } from './helpers/net.js'
import { ask, directoryRef, rawLogin } from './helpers/raw.js'

test('a login whose key proof fails is rejected with AuthenticationError', async (t) => {
  const net = await centralNet(t, 0)
  const mallory = await net.raw()
  await t.throwsAsync(rawLogin(net, mallory, { signWith: Identity.generate() }), {
    name: 'AuthenticationError',
    message: /login proof/,
  })
  t.deepEqual(net.directory.server.peers(), [])
  await t.throwsAsync(ask(net, mallory, { type: 'search', query: { keywords: ['x'] } }), {
    name: 'NotLoggedInError',
  })
  // The same peer with a good proof gets in.
  const ok = await rawLogin(net, mallory)
  t.is(ok.type, 'login')
  t.deepEqual(
    net.directory.server.peers().map((p) => p.id),
    [mallory.id],
  )
})

test('a login needs a fresh nonce and a timestamp close to the server clock', async (t) => {
  const net = await centralNet(t, 0, { server: { loginSkew: 60_000 } })
  const eve = await net.raw()
  const signature = eve.identity.sign(new Uint8Array(8))
  await t.throwsAsync(
    ask(net, eve, { type: 'login', addresses: [], timestamp: net.clock.now(), signature, reset: false }),
    { name: 'AuthenticationError', message: /nonce/ },
  )
  await t.throwsAsync(rawLogin(net, eve, { timestamp: net.clock.now() - 3_600_000 }), {
    name: 'AuthenticationError',
    message: /timestamp/,
  })
})

test('a peer may register records only as their provider', async (t) => {
  const net = await centralNet(t, 0)
  const mallory = await net.raw()
  const victim = await net.raw()
  await rawLogin(net, mallory)
  await t.throwsAsync(ask(net, mallory, { type: 'register', records: [recordOf(victim, 'forged.bin')] }), {
    name: 'AuthenticationError',
  })
  t.is(net.directory.server.size, 0)
})

test('the register limit: a peer over maxRecordsPerPeer gets RateLimitError and nothing half-applied', async (t) => {
  const net = await centralNet(t, 1, { server: { maxRecordsPerPeer: 5 } })
  const alice = net.nodes[0] as Node
  await alice.overlay.publish([1, 2, 3].map((i) => recordOf(alice, `file ${i}.bin`)))
  t.is(net.directory.server.recordsOf(alice.id), 3)
  await t.throwsAsync(alice.overlay.publish([4, 5, 6].map((i) => recordOf(alice, `file ${i}.bin`))), {
    name: 'RateLimitError',
    message: /at most 5 records/,
  })
  t.is(net.directory.server.recordsOf(alice.id), 3, 'the refused batch was not applied')
  t.is(alice.overlay.stats().published, 3, 'the client forgets what was refused')
  // Re-registering known records is not new: allowed at the limit.
  await alice.overlay.publish([1, 2, 3, 4, 5].map((i) => recordOf(alice, `file ${i}.bin`)))
  t.is(net.directory.server.recordsOf(alice.id), 5)
})

test('the search rate limit: a token bucket per peer answers RateLimitError', async (t) => {
  const net = await centralNet(t, 2, { server: { searchRate: 0.5, searchBurst: 3 } })
  const [alice, bob] = net.nodes as [Node, Node]
  await alice.overlay.publish([recordOf(alice, 'rated.bin')])
  for (let i = 0; i < 3; i++) {
    t.is((await collect(bob.overlay.search({ keywords: ['rated'] }))).length, 1)
  }
  await t.throwsAsync(collect(bob.overlay.search({ keywords: ['rated'] })), {
    name: 'RateLimitError',
    message: /search rate limit/,
  })
  // Another peer has its own bucket.
  t.is((await collect(alice.overlay.search({ keywords: ['rated'] }))).length, 1)
})

test('results come in pages, and every page arrives', async (t) => {
  const net = await centralNet(t, 2, { server: { pageSize: 3 } })
  const [alice, bob] = net.nodes as [Node, Node]
  await alice.overlay.publish(Array.from({ length: 10 }, (_, i) => recordOf(alice, `paged ${i}.txt`)))
  const hits = await collect(bob.overlay.search({ keywords: ['paged'] }))
  t.is(new Set(hits.map((h) => h.hash)).size, 10)
  t.is(bob.overlay.stats().sent.more, 3)
  const limited = await collect(bob.overlay.search({ keywords: ['paged'], limit: 4 }))
  t.is(limited.length, 4)
  t.is(bob.overlay.stats().sent.more, 4, 'a limit stops paging early')
})

test('a peer that stops heartbeating is dropped within dropAfter', async (t) => {
  const dropAfter = 400
  const net = await centralNet(t, 1, { server: { heartbeatInterval: 100, dropAfter } })
  const silent = await net.raw()
  await rawLogin(net, silent)
  // Taken before the register (its last message): the server hears it at or after this instant.
  const since = net.clock.now()
  await ask(net, silent, { type: 'register', records: [recordOf(silent, 'silent.bin')] })
  t.is(net.directory.server.recordsOf(silent.id), 1)
  const dropped = await net.clock.until(5000, () => net.directory.server.recordsOf(silent.id) === 0, 10)
  const took = net.clock.now() - since
  t.true(dropped)
  // Virtual time: the bounds themselves, no margin for a slow machine (polled every 10 ms).
  t.true(took >= dropAfter, `dropped after ${took} ms, not before dropAfter`)
  t.true(took <= dropAfter + net.directory.server.sweepInterval + 10, `dropped after ${took} ms`)
  // The connected client that heartbeats stays.
  t.deepEqual(
    net.directory.server.peers().map((p) => p.id),
    [(net.nodes[0] as Node).id],
  )
  await t.throwsAsync(ask(net, silent, { type: 'ping' }), { name: 'NotLoggedInError' })
})

test('a peer that logs in long after the others and goes silent is dropped within dropAfter and a sweep', async (t) => {
  // The sweep walks the sessions only when one may have been silent for dropAfter (or holds a cursor):
  // the walks while only the heartbeating client was there must not hide the newcomer's silence.
  const dropAfter = 400
  const net = await centralNet(t, 1, { server: { heartbeatInterval: 100, dropAfter } })
  const server = net.directory.server
  await net.clock.sleep(3 * dropAfter)
  const late = await net.raw()
  await rawLogin(net, late)
  const since = net.clock.now()
  await ask(net, late, { type: 'register', records: [recordOf(late, 'late.bin')] })
  t.true(await net.clock.until(5000, () => server.recordsOf(late.id) === 0, 10))
  const took = net.clock.now() - since
  t.true(took >= dropAfter, `dropped after ${took} ms, not before dropAfter`)
  t.true(took <= dropAfter + server.sweepInterval + 10, `dropped after ${took} ms`)
  t.deepEqual(
    server.peers().map((p) => p.id),
    [(net.nodes[0] as Node).id],
    'the client that heartbeats stays',
  )
})

test('heardFrom: a sign of life over another protocol keeps a session as a heartbeat does; it opens none', async (t) => {
  const dropAfter = 400
  const net = await centralNet(t, 0, { server: { heartbeatInterval: 100, dropAfter } })
  const server = net.directory.server
  const quiet = await net.raw()
  await rawLogin(net, quiet)
  await ask(net, quiet, { type: 'register', records: [recordOf(quiet, 'quiet.bin')] })
  // No heartbeat for three times dropAfter, only signs of life heard by the server's owner.
  for (let i = 0; i < 12; i++) {
    await net.clock.sleep(100)
    t.true(server.heardFrom(quiet.id))
  }
  t.is(server.recordsOf(quiet.id), 1, 'still registered')
  // Silent from now on: dropped within dropAfter and a sweep, as without them.
  t.true(await net.clock.until(dropAfter + server.sweepInterval + 10, () => server.recordsOf(quiet.id) === 0))
  t.false(server.heardFrom(quiet.id), 'its session is gone')
  // A peer that never logged in: nothing opened.
  const stranger = await net.raw()
  t.false(server.heardFrom(stranger.id))
  t.deepEqual(server.peers(), [])
  await t.throwsAsync(ask(net, stranger, { type: 'ping' }), { name: 'NotLoggedInError' })
})

test('a peer that logs in again from a new address keeps its records, at the new address', async (t) => {
  const net = await centralNet(t, 1)
  const seeker = net.nodes[0] as Node
  const mover = await net.raw()
  await rawLogin(net, mover, { addresses: ['memory://old-home'] })
  await ask(net, mover, { type: 'register', records: [recordOf(mover, 'moving.bin')] })
  const again = await rawLogin(net, mover, { addresses: ['memory://new-home'] })
  t.like(again, { type: 'login', known: 1 })
  const hits = await collect(seeker.overlay.search({ keywords: ['moving'] }))
  t.deepEqual(hits[0]?.providers, [{ id: mover.id, addresses: ['memory://new-home'] }])
  const reset = await rawLogin(net, mover, { reset: true })
  t.like(reset, { type: 'login', known: 0 })
  t.deepEqual(await collect(seeker.overlay.search({ keywords: ['moving'] })), [])
})

test('a malformed request is a ProtocolError; the server goes on', async (t) => {
  const net = await centralNet(t, 2)
  const [alice, bob] = net.nodes as [Node, Node]
  const loose = defineProtocol('peerkit/central/1', z.any(), z.any())
  const rogue = await net.raw()
  await t.throwsAsync(
    rogue.network.request(directoryRef(net), loose, { type: 'login', addresses: 'all of them' }),
    {
      name: 'ProtocolError',
    },
  )
  await alice.overlay.publish([recordOf(alice, 'still working.txt')])
  t.is((await collect(bob.overlay.search({ keywords: ['still', 'working'] }))).length, 1)
})

test('stats() of the server counts messages by kind', async (t) => {
  const net = await centralNet(t, 2)
  const [alice, bob] = net.nodes as [Node, Node]
  await alice.overlay.publish([recordOf(alice, 'stat.bin')])
  await collect(bob.overlay.search({ keywords: ['stat'] }))
  const stats = net.directory.server.stats()
  t.is(stats.received.login, 2)
  t.is(stats.received.hello, 2)
  t.is(stats.received.search, 1)
  t.is(stats.sent.hits, 1)
  t.like(stats, { peers: 2, online: 2, records: 1 })
})

test('a sweep for silent peers that throws is logged at warn and keeps running (virtual clock)', async (t) => {
  const clock = new TestClock()
  const container = memoryContainer(new MemoryNetwork())
  container.register(CLOCK, { useValue: clock })
  const logged: LogEntry[] = []
  container.register(LOGGER, { useValue: createLogger({ level: 'warn', sink: (e) => logged.push(e) }) })
  const directory = await createDirectoryServer(
    { transport: 'memory', listen: [`memory://${uniqueName('directory')}`] },
    { container },
  )
  await directory.start()
  t.teardown(() => directory.stop())
  let sweeps = 0
  const server = directory.server as unknown as { sweep(): void }
  server.sweep = () => {
    sweeps++
    throw new Error('session table broke')
  }
  await clock.advance(10 * directory.server.sweepInterval)
  const failures = logged.filter((e) => e.level === 'warn' && /sweep .* failed/.test(e.message))
  t.true(sweeps >= 8, `${sweeps} sweeps in 10 intervals: the schedule went on`)
  t.is(failures.length, sweeps, 'every failed sweep was logged')
  t.is(failures[0]?.component, 'peerkit:central:directory')
  t.is((failures[0]?.fields?.err as Error | undefined)?.message, 'session table broke')
})
