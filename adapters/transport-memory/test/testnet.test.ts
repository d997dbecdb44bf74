import { createTestnet } from '@peerkit/compliance'
import { createPeer, type Network, RANDOM, SeededRandom } from '@peerkit/core'
import test from 'ava'
import { MEMORY_NETWORK, MemoryNetwork, memoryContainer } from '../src/index.js'
import { registerTestParts } from './helpers/test-peer-parts.js'

registerTestParts()
const parts = { overlay: 'test-mesh', index: 'test-map', transfer: 'test-none' }

/**
 * Resolves once `check()` holds, checked now and at each of `network`'s
 * connect and disconnect events (no polling); rejects after `ms` of real
 * time, a bound on a failure rather than a wait.
 */
function whenLinks(network: Network, check: () => boolean, ms = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const test = () => {
      if (!check()) return
      done()
      resolve()
    }
    const timer = setTimeout(() => {
      done()
      reject(new Error(`the network's links did not change as expected within ${ms} ms`))
    }, ms)
    const done = () => {
      clearTimeout(timer)
      network.off('peer:connect', test)
      network.off('peer:disconnect', test)
    }
    network.on('peer:connect', test)
    network.on('peer:disconnect', test)
    test()
  })
}

test('createTestnet starts n peers that join through the first one', async (t) => {
  const net = await createTestnet(t, 8, parts)
  t.is(net.peers.length, 8)
  t.true(net.peers.every((p) => p.started))
  t.deepEqual(
    net.peers.map((p) => p.addresses()),
    net.addresses.map((a) => [a]),
  )
  const seed = net.peers[0]?.network
  if (!seed) throw new Error('eight peers expected')
  await whenLinks(seed, () => seed.peers().length === 7)
  for (const p of net.peers.slice(1)) t.true(p.network.isConnected(net.peers[0]?.id ?? ''))
  t.is(net.hub, undefined, 'no hub of its own: the process-wide one')
})

test('with several bootstrap peers, each later peer dials them all', async (t) => {
  const net = await createTestnet(t, 6, { ...parts, bootstrap: 3 })
  const seeds = net.peers.slice(0, 3).map((p) => p.id)
  for (const p of net.peers.slice(3)) for (const s of seeds) t.true(p.network.isConnected(s))
  t.deepEqual(net.peers[2]?.config.bootstrap, net.addresses.slice(0, 2))
  t.deepEqual(net.peers[0]?.config.bootstrap, [])
})

test("a testnet in its own hub: kill and partition reach it through the container's MEMORY_NETWORK", async (t) => {
  const hub = new MemoryNetwork({ latency: 1 })
  const net = await createTestnet(t, 4, { ...parts, container: memoryContainer(hub) })
  t.is(net.hub, hub)
  t.deepEqual(hub.names().sort(), [...net.names].sort())
  const first = net.peers[0]
  const last = net.peers[3]
  if (!first || !last) throw new Error('four peers expected')
  await whenLinks(first.network, () => first.network.isConnected(last.id))
  const second = net.peers[1]
  if (!second) throw new Error('four peers expected')
  hub.partition([net.names[1] as string], [net.names[0] as string])
  await second.network.hangUp(first.id)
  await t.throwsAsync(second.network.dialAddress(net.addresses[0] as string), {
    name: 'PeerUnreachableError',
  })
  hub.heal()
  const answered = await second.network.dialAddress(net.addresses[0] as string)
  t.is(answered.id, first.id)
  hub.kill(net.names[3] as string)
  await whenLinks(first.network, () => !first.network.isConnected(last.id))
  t.false(hub.has(net.names[3] as string))
})

test('createTestnet stops every peer at teardown and on demand', async (t) => {
  const hub = new MemoryNetwork()
  const net = await createTestnet(t, 3, { ...parts, container: memoryContainer(hub) })
  await net.stop()
  t.true(net.peers.every((p) => !p.started))
  t.deepEqual(hub.names(), [])
  await net.stop()
})

test('per-peer configuration, seeds offset per peer, and start: false', async (t) => {
  const net = await createTestnet(t, 3, {
    ...parts,
    seed: 100,
    start: false,
    configure: (i) => (i === 0 ? { network: { requestTimeout: 1234 } } : {}),
  })
  t.true(net.peers.every((p) => !p.started))
  t.deepEqual(
    net.peers.map((p) => p.config.seed),
    [100, 101, 102],
  )
  t.is(net.peers[0]?.config.network.requestTimeout, 1234)
  t.is(net.peers[1]?.config.network.requestTimeout, 10_000)
})

test('createTestnet rejects a bad n, and stops what it made when a peer fails to start', async (t) => {
  await t.throwsAsync(createTestnet(t, 0, parts), { instanceOf: RangeError })
  const hub = new MemoryNetwork()
  const squatter = memoryContainer(hub)
  await createPeer(
    { ...parts, transport: 'memory', listen: ['memory://taken'] },
    { container: squatter },
  ).then(async (p) => {
    t.teardown(() => p.stop())
    await p.start()
  })
  await t.throwsAsync(
    createTestnet(t, 3, {
      ...parts,
      container: memoryContainer(hub),
      configure: (i) => (i === 2 ? { listen: ['memory://taken'] } : {}),
    }),
    { name: 'InvalidOptionsError', message: /already in use/ },
  )
  t.deepEqual(hub.names(), ['taken'], 'the two peers that had started were stopped')
  await t.throwsAsync(
    createTestnet(t, 2, {
      ...parts,
      container: memoryContainer(hub),
      configure: () => ({ overlay: 'no-such' }),
    }),
    { name: 'InvalidOptionsError' },
  )
})

test('memoryTransport uses the MEMORY_NETWORK of a parent container, else the global hub', async (t) => {
  const hub = new MemoryNetwork()
  const container = memoryContainer(hub)
  container.register(RANDOM, { useValue: new SeededRandom(1) })
  const inHub = await createPeer(
    { ...parts, transport: 'memory', listen: ['memory://parented'] },
    { container },
  )
  const global = await createPeer({ ...parts, transport: 'memory', listen: ['memory://*'] })
  t.teardown(() => Promise.all([inHub.stop(), global.stop()]))
  await inHub.start()
  await global.start()
  t.true(hub.has('parented'))
  t.false(MemoryNetwork.global.has('parented'))
  const globalName = (global.addresses()[0] ?? '').slice('memory://'.length)
  t.true(MemoryNetwork.global.has(globalName))
  t.is(container.resolve(MEMORY_NETWORK), hub)
  await t.throwsAsync(
    createPeer({ ...parts, transport: 'memory', options: { memory: { maxMessageSize: 0 } } }),
    { name: 'InvalidOptionsError', message: /memory\.maxMessageSize/ },
  )
})
