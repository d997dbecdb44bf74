import test from 'ava'
import { inject, injectable, Lifecycle } from 'tsyringe'
import { z } from 'zod'
import {
  collect,
  createPeer,
  defineProtocol,
  InvalidOptionsError,
  indexes,
  Network,
  OVERLAY,
  overlays,
  parsePeerConfig,
  type Registration,
  transfers,
  transports,
} from '../src/index.js'
import { arrayIndex, SoloOverlay, stubTransfer, stubTransport } from './helpers/stub-components.js'

transports.register('stub', () => stubTransport())
indexes.register('array', () => arrayIndex())
transfers.register('stub', () => stubTransfer())

/** How a plugin author adds a strategy: validate options, then register under a new name. */
function soloOverlay(options?: unknown): Registration {
  const opts = z
    .object({ greeting: z.string().default('hi') })
    .strict()
    .safeParse(options ?? {})
  if (!opts.success) throw new InvalidOptionsError(`solo.${opts.error.issues[0]?.path.join('.')}: invalid`)
  return (c) => c.register(OVERLAY, { useClass: SoloOverlay }, { lifecycle: Lifecycle.ContainerScoped })
}
overlays.register('solo', soloOverlay)

const base = { overlay: 'solo', transport: 'stub', index: 'array', transfer: 'stub' }

test('an overlay registered from outside core is selected by configuration', async (t) => {
  const peer = await createPeer({ ...base, listen: ['stub://solo-1'] })
  t.teardown(() => peer.stop())
  await peer.share('Harry.Potter.and.the.Chamber.mkv')
  await peer.start()
  t.true(peer.overlay instanceof SoloOverlay)
  t.deepEqual(
    (peer.overlay as SoloOverlay).published.map((r) => r.name),
    ['Harry.Potter.and.the.Chamber.mkv'],
  )
  const hits = await collect(peer.search('HARRY potter'))
  t.is(hits.length, 1)
  t.deepEqual(peer.addresses(), ['stub://solo-1'])
  const status = peer.status()
  t.is(status.overlay, 'solo')
  t.is(status.role, 'solo')
  t.is(status.shares, 1)
})

test('each peer gets its own container: two peers never share an overlay or network', async (t) => {
  const a = await createPeer({ ...base, listen: ['stub://iso-a'] })
  const b = await createPeer({ ...base, listen: ['stub://iso-b'] })
  t.teardown(() => Promise.all([a.stop(), b.stop()]))
  t.not(a.overlay, b.overlay)
  t.not(a.network, b.network)
  t.not(a.id, b.id)
})

test('an unknown overlay names the field and the accepted values', async (t) => {
  const err = await t.throwsAsync(createPeer({ ...base, overlay: 'gnutella' }), {
    name: 'InvalidOptionsError',
  })
  t.regex(err?.message ?? '', /overlay must be one of .*'solo'.* \(got 'gnutella'\)/)
})

test('bad overlay options fail before anything is built', async (t) => {
  await t.throwsAsync(createPeer({ ...base, options: { solo: { greeting: 5 } } }), {
    name: 'InvalidOptionsError',
    message: /solo\.greeting/,
  })
})

test('configuration errors name the field', (t) => {
  t.throws(() => parsePeerConfig({ overlay: 'x', listen: ['not a url'] }), { message: /config\.listen\.0/ })
  t.throws(() => parsePeerConfig({ overlay: 'x', colour: 'red' }), { message: /config/ })
  t.throws(() => parsePeerConfig({}), { message: /config\.overlay/ })
  t.throws(() => parsePeerConfig({ overlay: 'x', network: { dialTimeout: -1 } }), {
    message: /config\.network\.dialTimeout/,
  })
  const c = parsePeerConfig({ overlay: 'x', transport: ['tcp', 'memory'] })
  t.deepEqual(c.transports, ['tcp', 'memory'])
  t.is(c.network.requestTimeout, 10_000)
  t.true(Object.isFrozen(c))
})

test('search before start is a NotStartedError; stop is idempotent', async (t) => {
  const peer = await createPeer({ ...base, listen: ['stub://ns-1'] })
  t.throws(() => peer.search('x'), { name: 'NotStartedError' })
  await peer.stop()
  await peer.stop()
  t.pass()
})

const PING = defineProtocol('peerkit/test-ping/1', z.object({ n: z.number() }), z.object({ n: z.number() }))

@injectable()
class PingService {
  constructor(@inject(Network) readonly network: Network) {
    network.handle(PING, ({ n }, ctx) => {
      if (n < 0) throw new InvalidOptionsError(`n must be >= 0 (got ${n}) from ${ctx.peer.id}`)
      return { n: n + 1 }
    })
  }
}

test('two peers talk a named protocol through their networks; identify tells addresses; errors keep their name', async (t) => {
  const a = await createPeer({ ...base, listen: ['stub://net-a'] })
  const b = await createPeer({ ...base, listen: ['stub://net-b'] })
  t.teardown(() => Promise.all([a.stop(), b.stop()]))
  new PingService(a.network)
  await Promise.all([a.start(), b.start()])
  const identified = new Promise((resolve) => a.network.once('peer:identify', resolve))
  t.deepEqual(await b.network.request({ id: a.id, addresses: ['stub://net-a'] }, PING, { n: 1 }), { n: 2 })
  t.deepEqual(await identified, { id: b.id, addresses: ['stub://net-b'] })
  await t.throwsAsync(b.network.request(a.id, PING, { n: -1 }), {
    name: 'InvalidOptionsError',
    message: /n must be >= 0/,
  })
  await t.throwsAsync(a.network.request(b.id, PING, { n: 1 }), { name: 'UnsupportedProtocolError' })
  t.is(a.network.stats()['peerkit/test-ping/1']?.received, 2)
})

test('a request that fails its schema is refused and the connection closed', async (t) => {
  const a = await createPeer({ ...base, listen: ['stub://schema-a'] })
  const b = await createPeer({ ...base, listen: ['stub://schema-b'] })
  t.teardown(() => Promise.all([a.stop(), b.stop()]))
  new PingService(a.network)
  await Promise.all([a.start(), b.start()])
  const LIAR = defineProtocol('peerkit/test-ping/1', z.object({ n: z.string() }), z.unknown())
  const gone = new Promise((resolve) => a.network.once('peer:disconnect', resolve))
  await t.throwsAsync(b.network.request({ id: a.id, addresses: ['stub://schema-a'] }, LIAR, { n: 'one' }))
  await gone
  t.false(a.network.isConnected(b.id))
})

test('options for two components of one name must be qualified, and then reach only their own', async (t) => {
  transports.register('array', () => stubTransport())
  const cfg = {
    overlay: 'solo',
    transport: 'array',
    index: 'array',
    transfer: 'stub',
    listen: ['stub://q-1'],
  }
  await t.throwsAsync(createPeer({ ...cfg, options: { array: {} } }), {
    name: 'InvalidOptionsError',
    message: /options\.array is ambiguous.*options\['transport:array'\] or options\['index:array'\]/,
  })
  const peer = await createPeer({ ...cfg, options: { 'overlay:solo': { greeting: 'hello' } } })
  await peer.stop()
  await t.throwsAsync(createPeer({ ...cfg, options: { 'overlay:solo': { greeting: 1 } } }), {
    message: /solo\.greeting/,
  })
  transports.unregister('array')
})

test("createPeer's container compaction (a simulator's memory tuning on tsyringe's private registries) still applies: no empty list is left, and the peer still resolves its parts", async (t) => {
  const peer = await createPeer({ ...base, listen: ['stub://compact-1'] })
  t.teardown(() => peer.stop())
  type Registry = { _registryMap?: unknown }
  const container = (
    peer as unknown as {
      container: {
        _registry?: Registry
        interceptors?: { preResolution?: Registry; postResolution?: Registry }
      }
    }
  ).container
  // When this fails after a tsyringe upgrade, compactContainer (create-peer.ts) has silently stopped
  // applying (it leaves a shape it does not know alone): adapt it to the new internals, or drop it.
  // Uncompacted, tsyringe 4.10 keeps an empty list in both interceptor maps for every token resolved.
  const registries = {
    registry: container._registry,
    preResolution: container.interceptors?.preResolution,
    postResolution: container.interceptors?.postResolution,
  }
  for (const [name, registry] of Object.entries(registries)) {
    const map = registry?._registryMap
    t.true(map instanceof Map, `tsyringe's ${name} is a Map under _registryMap`)
    const lists = [...(map as Map<unknown, unknown[]>).values()]
    t.true(
      lists.every((list) => Array.isArray(list) && list.length > 0),
      `${name}: no empty registration list is kept`,
    )
  }
  t.true(((registries.registry?._registryMap as Map<unknown, unknown>) ?? new Map()).size > 0)
  await peer.start()
  t.true(peer.network instanceof Network, 'the compacted container still resolves the Network')
})
