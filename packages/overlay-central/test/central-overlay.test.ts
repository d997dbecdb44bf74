import { collect, type PeerRef } from '@peerkit/core'
import test from 'ava'
import { centralOverlay, createDirectoryServer, parseCentralOptions } from '../src/index.js'
import { centralNet, type Node, names, recordOf, uniqueName } from './helpers/net.js'

test('role is peer; the directory is the only neighbor, announced by events', async (t) => {
  const net = await centralNet(t, 1)
  const alice = net.nodes[0] as Node
  t.is(alice.overlay.role(), 'peer')
  t.is(alice.overlay.name, 'central')
  t.deepEqual(
    alice.overlay.neighbors().map((n) => n.id),
    [net.directory.id],
  )
  const late = net.add()
  const added = await new Promise<PeerRef>((resolve) => {
    void late.then((node) => {
      if (node.overlay.connected) resolve(node.overlay.neighbors()[0] as PeerRef)
      else node.overlay.once('neighbor:add', resolve)
    })
  })
  t.is(added.id, net.directory.id)
  const removed = new Promise<PeerRef>((resolve) => alice.overlay.once('neighbor:remove', resolve))
  await net.directory.stop()
  t.is((await removed).id, net.directory.id)
  t.deepEqual(alice.overlay.neighbors(), [])
})

test('server down: search fails with PeerUnreachableError; restarted: clients re-register and search works', async (t) => {
  const net = await centralNet(t, 2, { server: { heartbeatInterval: 100, dropAfter: 500 } })
  const [alice, bob] = net.nodes as [Node, Node]
  await alice.overlay.publish([recordOf(alice, 'Harry.Potter.mkv'), recordOf(alice, 'notes.txt')])
  t.deepEqual(await names(bob, 'harry potter'), ['Harry.Potter.mkv'])

  await net.directory.stop()
  t.true(await net.clock.until(3000, () => !alice.overlay.connected && !bob.overlay.connected))
  await t.throwsAsync(collect(bob.overlay.search({ keywords: ['harry'] })), {
    name: 'PeerUnreachableError',
    message: /no directory server is reachable/,
  })
  // Changes while the server is away are kept and sent on reconnection.
  await alice.overlay.publish([recordOf(alice, 'Harry.Potter.2.mkv')])
  await alice.overlay.unpublish([recordOf(alice, 'notes.txt').hash])

  const again = await createDirectoryServer(
    {
      transport: 'memory',
      listen: [net.directoryAddress],
      options: { heartbeatInterval: 100, dropAfter: 500 },
    },
    { container: net.container },
  )
  t.teardown(() => again.stop())
  await again.start()
  t.true(
    await net.clock.until(5000, () => alice.overlay.connected && bob.overlay.connected),
    'both reconnect by themselves',
  )
  t.true(await net.clock.until(2000, () => again.server.recordsOf(alice.id) === 2), 'alice registered again')
  t.deepEqual(await names(bob, 'harry potter'), ['Harry.Potter.2.mkv', 'Harry.Potter.mkv'])
  t.deepEqual(await names(bob, 'notes'), [])
})

test('several directories: the client uses the first that answers', async (t) => {
  const net = await centralNet(t, 0)
  const dead = `memory://${uniqueName('nobody-home')}`
  const alice = await net.add({ bootstrap: [dead, net.directoryAddress] })
  const bob = await net.add({ central: { directories: [dead, net.directoryAddress] } })
  t.true(alice.overlay.connected)
  t.true(bob.overlay.connected)
  await alice.overlay.publish([recordOf(alice, 'first answer.bin')])
  t.deepEqual(await names(bob, 'first answer'), ['first answer.bin'])
})

test('failover: when its directory dies a peer moves to the next one, re-registers, and a search waits for it (within failoverWait)', async (t) => {
  const net = await centralNet(t, 0, { server: { heartbeatInterval: 100, dropAfter: 500 } })
  const second = `memory://${uniqueName('second-directory')}`
  const backup = await createDirectoryServer(
    { transport: 'memory', listen: [second], options: { heartbeatInterval: 100, dropAfter: 500 } },
    { container: net.container },
  )
  t.teardown(() => backup.stop())
  await backup.start()
  const directories = [net.directoryAddress, second]
  const alice = await net.add({ central: { directories } })
  const bob = await net.add({ central: { directories } })
  t.is(net.directory.server.peers().length, 2, 'both start on the first directory')
  await alice.overlay.publish([recordOf(alice, 'Harry.Potter.mkv')])
  t.deepEqual(await names(bob, 'harry potter'), ['Harry.Potter.mkv'])

  const killedAt = net.clock.now()
  await net.directory.stop()
  // Issued while bob has no directory: it waits for the failover instead of failing (each directory has its
  // own memory registry here, so it may answer before alice registered again; a shared index answers at once).
  await t.notThrowsAsync(names(bob, 'harry potter'))
  t.true(await net.clock.until(2000, () => backup.server.recordsOf(alice.id) === 1), 'alice re-registered')
  t.deepEqual(await names(bob, 'harry potter'), ['Harry.Potter.mkv'])
  const took = net.clock.now() - killedAt
  t.true(took <= 1000, `re-homed and searchable again ${took} ms after the directory died (bound 1000)`)
  t.deepEqual(
    bob.overlay.neighbors().map((n) => n.id),
    [backup.id],
  )

  // No directory at all: a search fails once failoverWait has passed, not before.
  await backup.stop()
  const before = net.clock.now()
  await t.throwsAsync(collect(bob.overlay.search({ keywords: ['harry'] })), {
    name: 'PeerUnreachableError',
    message: /failoverWait \(5000 ms\)/,
  })
  t.true(net.clock.now() - before >= 5000)
})

test('a client that starts before its directory connects when it comes up', async (t) => {
  const net = await centralNet(t, 0)
  const later = `memory://${uniqueName('late-directory')}`
  const alice = await net.add({ bootstrap: [later] })
  t.false(alice.overlay.connected)
  await t.throwsAsync(collect(alice.overlay.search({ keywords: ['x'] })), { name: 'PeerUnreachableError' })
  await alice.overlay.publish([recordOf(alice, 'queued.bin')])
  const directory = await createDirectoryServer(
    { transport: 'memory', listen: [later] },
    { container: net.container },
  )
  t.teardown(() => directory.stop())
  await directory.start()
  t.true(await net.clock.until(5000, () => alice.overlay.connected))
  t.true(await net.clock.until(2000, () => directory.server.recordsOf(alice.id) === 1))
})

test('a peer that vanishes without goodbye leaves the results at once and the registry within dropAfter', async (t) => {
  const dropAfter = 400
  const net = await centralNet(t, 2, { server: { heartbeatInterval: 100, dropAfter } })
  const [alice, bob] = net.nodes as [Node, Node]
  await alice.overlay.publish([recordOf(alice, 'ghost.bin')])
  t.deepEqual(await names(bob, 'ghost'), ['ghost.bin'])
  await alice.network.stop() // connections close; no logout
  const since = net.clock.now()
  t.deepEqual(await names(bob, 'ghost'), [], 'gone from search results at once (its connection closed)')
  t.true(await net.clock.until(dropAfter + 1000, () => net.directory.server.recordsOf(alice.id) === 0, 10))
  const took = net.clock.now() - since
  t.true(took <= dropAfter + net.directory.server.sweepInterval + 10, `dropped after ${took} ms`)
})

test('a clean stop logs out: the records go at once', async (t) => {
  const net = await centralNet(t, 2)
  const [alice, bob] = net.nodes as [Node, Node]
  await alice.overlay.publish([recordOf(alice, 'bye.bin')])
  await alice.stop()
  t.is(net.directory.server.recordsOf(alice.id), 0)
  t.deepEqual(await names(bob, 'bye'), [])
})

test('the same peer from a new address: found at the new address only', async (t) => {
  const net = await centralNet(t, 1)
  const seeker = net.nodes[0] as Node
  const first = await net.add({ name: uniqueName('home-1') })
  await first.overlay.publish([recordOf(first, 'nomad.bin')])
  const identity = first.identity
  await first.network.stop() // gone without goodbye
  const second = await net.add({ identity, name: uniqueName('home-2') })
  await second.overlay.publish([recordOf(second, 'nomad.bin')])
  const hits = await collect(seeker.overlay.search({ keywords: ['nomad'] }))
  t.is(hits.length, 1)
  t.deepEqual(hits[0]?.providers, [{ id: identity.peerId, addresses: second.addresses() }])
})

test('a lost heartbeat answer makes the client reconnect', async (t) => {
  const net = await centralNet(t, 1, { server: { heartbeatInterval: 100, dropAfter: 300 } })
  const alice = net.nodes[0] as Node
  await alice.overlay.publish([recordOf(alice, 'partitioned.bin')])
  const aliceName = alice.addresses()[0]?.slice('memory://'.length) as string
  const dirName = net.directoryAddress.slice('memory://'.length)
  net.hub.partition([aliceName], [dirName])
  t.true(await net.clock.until(5000, () => !alice.overlay.connected), 'the client notices')
  net.hub.heal()
  t.true(await net.clock.until(5000, () => alice.overlay.connected), 'and comes back')
  t.true(await net.clock.until(2000, () => net.directory.server.recordsOf(alice.id) === 1))
})

test('options are validated before anything is built', (t) => {
  t.throws(() => centralOverlay({ reconnectMin: 0 }), {
    name: 'InvalidOptionsError',
    message: /central.reconnectMin/,
  })
  t.throws(() => centralOverlay({ reconnectMin: 500, reconnectMax: 100 }), {
    name: 'InvalidOptionsError',
    message: /reconnectMax/,
  })
  t.throws(() => centralOverlay({ directories: ['not an address'] }), { name: 'InvalidOptionsError' })
  t.throws(() => centralOverlay({ fanout: 3 }), { name: 'InvalidOptionsError', message: /central.fanout/ })
  t.like(parseCentralOptions(undefined), { reconnectMin: 250, reconnectMax: 10_000 })
})

test('directory options are validated', async (t) => {
  await t.throwsAsync(
    createDirectoryServer({ listen: [], options: { dropAfter: 100, heartbeatInterval: 200 } }),
    {
      name: 'InvalidOptionsError',
      message: /directory.dropAfter/,
    },
  )
  await t.throwsAsync(createDirectoryServer({ listen: [], options: { searchRate: -1 } }), {
    name: 'InvalidOptionsError',
    message: /directory.searchRate/,
  })
})

test('start without any directory address is an InvalidOptionsError', async (t) => {
  const net = await centralNet(t, 0)
  await t.throwsAsync(net.add({ bootstrap: [] }), { name: 'InvalidOptionsError', message: /bootstrap/ })
})

test('a session the server dropped (late heartbeats) is restored by the client with its records', async (t) => {
  const net = await centralNet(t, 1, {
    server: { heartbeatInterval: 100, dropAfter: 300 },
    central: { heartbeatInterval: 1200 },
  })
  const alice = net.nodes[0] as Node
  await alice.overlay.publish([recordOf(alice, 'comeback.bin')])
  t.true(
    await net.clock.until(3000, () => net.directory.server.recordsOf(alice.id) === 0),
    'dropped for silence',
  )
  // A publish to a session the server no longer knows is kept, not refused.
  await alice.overlay.publish([recordOf(alice, 'comeback two.bin')])
  t.is(alice.overlay.stats().published, 2)
  t.true(
    await net.clock.until(5000, () => net.directory.server.recordsOf(alice.id) === 2),
    'restored after the next ping',
  )
})

test('a ping answer that differs from what the peer publishes because the directory refused part of it is not sent again at every heartbeat', async (t) => {
  // The peer publishes 200 records before its directory is up; at login the directory takes 100 of them
  // (maxRecordsPerPeer 150, batches of 100) and refuses the rest. Every ping then says 100, not 200.
  const net = await centralNet(t, 0)
  const later = `memory://${uniqueName('later-directory')}`
  const alice = await net.add({ bootstrap: [later], central: { registerBatch: 100 } })
  await alice.overlay.publish(Array.from({ length: 200 }, (_, i) => recordOf(alice, `budget ${i}.txt`)))
  const directory = await createDirectoryServer(
    {
      transport: 'memory',
      listen: [later],
      options: { heartbeatInterval: 100, dropAfter: 500, maxRecordsPerPeer: 150 },
    },
    { container: net.container },
  )
  t.teardown(() => directory.stop())
  await directory.start()
  t.true(await net.clock.until(5000, () => alice.overlay.connected), 'logged in')
  t.true(await net.clock.until(1000, () => directory.server.recordsOf(alice.id) === 100))
  const registers = () => directory.server.stats().received.register ?? 0
  const atLogin = registers()
  t.is(atLogin, 2, 'one batch taken, one refused')
  await net.clock.sleep(2000) // 20 heartbeats, each answered with known 100
  t.is(registers(), atLogin, 'the refused difference is not registered again at each heartbeat')
  t.true(alice.overlay.connected)
  t.is(alice.overlay.stats().published, 200, 'kept, as at login')
  t.is(directory.server.recordsOf(alice.id), 100)
})

test('a client that expects alive sends no heartbeat: alive() keeps its session, a silence of heartbeatInterval + max(heartbeatInterval, 1000) ms loses it, and an alive whose known differs registers again', async (t) => {
  const net = await centralNet(t, 0, { server: { heartbeatInterval: 100, dropAfter: 60_000 } })
  const alice = await net.raw()
  alice.overlay.expectAlive() // before the login: a supernode's leaf does it when its attach is answered
  await alice.overlay.publish([recordOf(alice, 'told.bin')])
  await alice.overlay.start()
  t.true(alice.overlay.connected)
  const pings = () => alice.overlay.stats().sent.ping ?? 0
  const registers = () => net.directory.server.stats().received.register ?? 0
  for (let i = 0; i < 10; i++) {
    await net.clock.sleep(500)
    alice.overlay.alive(1) // what the directory holds: nothing to register again
  }
  t.true(alice.overlay.connected, 'told every 500 ms for 5 s: still logged in')
  t.is(pings(), 0, 'no heartbeat sent')
  const before = registers()
  alice.overlay.alive(0) // the directory lost our record
  t.true(await net.clock.until(1000, () => registers() > before), 'registered again')
  t.is(net.directory.server.recordsOf(alice.id), 1)
  alice.overlay.alive(1)
  const from = net.clock.now()
  t.true(await net.clock.until(3000, () => !alice.overlay.connected, 10), 'told nothing more: lost')
  const silent = net.clock.now() - from
  t.true(silent >= 1100 && silent <= 1110, `lost after ${silent} ms of silence (bound 1100)`)
  t.is(pings(), 0)
})
