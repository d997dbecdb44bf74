import { cp, mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import test from 'ava'
import { EventEmitter } from 'eventemitter3'
import * as tsyringe from 'tsyringe'
import {
  type ContentHash,
  createPeer,
  type FileRecord,
  type Hit,
  type Index,
  indexes,
  LOCAL_INDEX,
  NETWORK,
  Network,
  OVERLAY,
  type Overlay,
  type OverlayEvents,
  overlays,
  type Query,
  transfers,
  transports,
} from '../src/index.js'
import { arrayIndex, SoloOverlay, stubTransfer, stubTransport } from './helpers/stub-components.js'

/**
 * A second copy of core, as an application gets when a plugin depends on another version: core's
 * compiled files copied to a folder of their own (inside the package, so they find the same
 * dependencies) and imported from there.
 */
const coreCopyDir = await mkdtemp(join(fileURLToPath(new URL('../', import.meta.url)), 'core-copy-'))
await cp(fileURLToPath(new URL('../src/', import.meta.url)), join(coreCopyDir, 'src'), { recursive: true })
const core2 = (await import(
  pathToFileURL(join(coreCopyDir, 'src', 'index.js')).href
)) as typeof import('../src/index.js')
test.after.always(() => rm(coreCopyDir, { recursive: true, force: true }))

/** An overlay from a plugin built against the other copy of core: it injects the network by token. */
@tsyringe.injectable()
class OtherCoreOverlay extends SoloOverlay {
  constructor(
    @tsyringe.inject(core2.LOCAL_INDEX) shares: Index,
    @tsyringe.inject(core2.NETWORK) readonly network: Network,
  ) {
    super(shares)
  }
}

/**
 * A second copy of tsyringe, as an application gets when a plugin brings its own: a fresh instance
 * of the same module, with its own type registry. (tsyringe is CommonJS: dropping it from the
 * require cache and requiring it again gives a new copy.)
 */
function secondTsyringe(): typeof tsyringe {
  const require = createRequire(import.meta.url)
  const main = require.resolve('tsyringe')
  const root = main.slice(0, main.lastIndexOf('/dist/') + 1)
  const cached = Object.keys(require.cache).filter((k) => k.startsWith(root))
  const saved = cached.map((k) => [k, require.cache[k]] as const)
  for (const k of cached) delete require.cache[k]
  try {
    return require('tsyringe') as typeof tsyringe
  } finally {
    for (const k of Object.keys(require.cache)) if (k.startsWith(root)) delete require.cache[k]
    for (const [k, m] of saved) require.cache[k] = m
  }
}

const other = secondTsyringe()

/** A helper class the overlay injects by class, decorated by the other copy too. */
@other.injectable()
class Greeting {
  readonly text = 'hello from the other copy'
}

/** An overlay from a plugin that decorates with its own copy of tsyringe. */
@other.injectable()
class OtherCopyOverlay extends EventEmitter<OverlayEvents> implements Overlay {
  readonly name = 'other-copy'
  constructor(
    @other.inject(LOCAL_INDEX) readonly shares: Index,
    @other.inject(Greeting) readonly greeting: Greeting,
  ) {
    super()
  }
  async start() {}
  async stop() {}
  async publish(_records: FileRecord[]) {}
  async unpublish(_hashes: ContentHash[]) {}
  async *search(query: Query): AsyncIterable<Hit> {
    yield* await this.shares.search(query)
  }
  async *providers(_hash: ContentHash) {}
  neighbors() {
    return []
  }
  role() {
    return 'peer'
  }
  stats() {
    return { sent: {}, received: {} }
  }
}

transports.register('stub', () => stubTransport())
indexes.register('array', () => arrayIndex())
transfers.register('stub', () => stubTransfer())
core2.overlays.register(
  'other-core',
  () => (c) =>
    c.register(
      core2.OVERLAY,
      { useClass: OtherCoreOverlay },
      { lifecycle: tsyringe.Lifecycle.ContainerScoped },
    ),
)
overlays.register(
  'other-copy',
  () => (c) =>
    c.register(OVERLAY, { useClass: OtherCopyOverlay }, { lifecycle: other.Lifecycle.ContainerScoped }),
)

test('the second copy is a separate tsyringe that does not know core’s classes', (t) => {
  t.not(other.container, tsyringe.container)
  t.throws(() => tsyringe.container.createChildContainer().resolve(OtherCopyOverlay), {
    message: /TypeInfo not known/,
  })
})

test('an overlay decorated by a second copy of tsyringe is built, with what it injects', async (t) => {
  const peer = await createPeer({
    overlay: 'other-copy',
    transport: 'stub',
    index: 'array',
    transfer: 'stub',
  })
  t.teardown(() => peer.stop())
  t.true(peer.overlay instanceof OtherCopyOverlay)
  const overlay = peer.overlay as OtherCopyOverlay
  t.is(overlay.shares, peer.shares)
  t.is(overlay.greeting.text, 'hello from the other copy')
})

test('a plugin built against a second copy of core registers into the same registries and gets the peer’s Network by NETWORK', async (t) => {
  t.not(core2.Network, Network, 'two copies, two Network classes')
  t.is(core2.NETWORK, NETWORK)
  t.true(overlays.has('other-core'))
  const peer = await createPeer({
    overlay: 'other-core',
    transport: 'stub',
    index: 'array',
    transfer: 'stub',
    listen: ['stub://other-core'],
  })
  t.teardown(() => peer.stop())
  await peer.start()
  const overlay = peer.overlay as OtherCoreOverlay
  t.true(overlay instanceof OtherCoreOverlay)
  t.is(overlay.network, peer.network)
  t.deepEqual(overlay.network.addresses(), ['stub://other-core'])
})
