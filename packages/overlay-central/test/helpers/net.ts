import { createHash } from 'node:crypto'
import {
  buildPeerContainer,
  CLOCK,
  type Clock,
  collect,
  type FileRecord,
  Identity,
  keywords,
  LOGGER,
  Network,
  OVERLAY,
  type Overlay,
  type PeerConfigInput,
  type PeerId,
  silentLogger,
  TRANSPORT,
  type Transport,
} from '@peerkit/core'
import { MemoryNetwork, memoryContainer } from '@peerkit/transport-memory'
import type { ExecutionContext } from 'ava'
import type { DependencyContainer } from 'tsyringe'
import { RunningClock } from './running-clock.js'
import '@peerkit/index-memory'
import '@peerkit/transport-memory'
import {
  type CentralOptions,
  type CentralOverlay,
  createDirectoryServer,
  type DirectoryServerHandle,
  type DirectoryServerOptions,
} from '../../src/index.js'

/** A record of `node`'s, its content hash derived from its name. */
export function recordOf(node: Node, name: string): FileRecord {
  return {
    hash: createHash('sha256').update(name).digest('hex'),
    name,
    size: 1000,
    chunkSize: 65_536,
    keywords: keywords(name),
    provider: { id: node.id, addresses: node.addresses() },
  }
}

/** The names `node` finds for `query`, sorted. */
export const names = async (node: Node, query: string): Promise<string[]> =>
  (await collect(node.overlay.search({ keywords: keywords(query) }))).map((h) => h.name).sort()

let counter = 0
/** A memory address no other test in this process uses. */
export const uniqueName = (role: string) => `${role}-${process.pid}-${++counter}`

/** A node without Transfer: a Network and the central overlay in one child container. */
export interface Node {
  readonly id: PeerId
  readonly overlay: CentralOverlay
  readonly network: Network
  readonly identity: Identity
  addresses(): string[]
  start(): Promise<void>
  stop(): Promise<void>
}

/**
 * Builds (does not start) an overlay node the way createPeer does, minus
 * Transfer and the Peer facade; on the parent's `CLOCK` if it has one.
 */
export function createNode(
  input: PeerConfigInput,
  parent: DependencyContainer,
  identity: Identity = Identity.generate(),
  transport?: (identity: Identity, clock: Clock) => Transport,
): Node {
  const c = buildPeerContainer(input, {
    container: parent,
    identity,
    components: transport ? ['index', 'overlay'] : ['transport', 'index', 'overlay'],
    register: (cc) => {
      if (transport) cc.register(TRANSPORT, { useValue: transport(identity, cc.resolve(CLOCK)) })
      if (!parent.isRegistered(LOGGER, true)) cc.register(LOGGER, { useValue: silentLogger() })
    },
  })
  const network = c.resolve(Network)
  const overlay = c.resolve(OVERLAY) as Overlay as CentralOverlay
  let state = 'new'
  return {
    id: identity.peerId,
    overlay,
    network,
    identity,
    addresses: () => network.addresses(),
    async start() {
      if (state !== 'new') return
      state = 'started'
      await network.start()
      await overlay.start()
    },
    async stop() {
      if (state === 'stopped') return
      state = 'stopped'
      await overlay.stop().catch(() => {}) // teardown: the network and container go next either way
      await network.stop().catch(() => {}) // teardown: the container is disposed next either way
      await c.dispose()
    },
  }
}

export interface CentralNet {
  container: DependencyContainer
  /** The virtual clock every node and the directory run on (it runs by itself; see RunningClock). */
  clock: RunningClock
  hub: MemoryNetwork
  directory: DirectoryServerHandle
  directoryAddress: string
  nodes: Node[]
  /** Adds and starts one more node. */
  add(options?: AddOptions): Promise<Node>
  /** Adds a node whose network is started but whose overlay is not (to speak the protocol by hand). */
  raw(): Promise<Node>
}

export interface AddOptions {
  central?: CentralOptions
  identity?: Identity
  name?: string
  bootstrap?: string[]
}

export interface CentralNetOptions {
  server?: DirectoryServerOptions
  central?: CentralOptions
  /** The virtual clock (stopped by its owner). @default a RunningClock at the wall clock's now, stopped at teardown */
  clock?: RunningClock
}

/**
 * A directory server and `n` started nodes over a fresh memory hub, on a
 * virtual clock (starting at the wall clock's now, so hand-made login
 * timestamps still fit); all stopped at teardown.
 */
export async function centralNet(
  t: ExecutionContext,
  n: number,
  options: CentralNetOptions = {},
): Promise<CentralNet> {
  const hub = new MemoryNetwork()
  const container = memoryContainer(hub)
  const clock = options.clock ?? new RunningClock(Date.now())
  container.register(CLOCK, { useValue: clock })
  if (!options.clock) t.teardown(() => clock.stop())
  const directoryAddress = `memory://${uniqueName('directory')}`
  const directory = await createDirectoryServer(
    { transport: 'memory', listen: [directoryAddress], options: options.server },
    { container },
  )
  await directory.start()
  const nodes: Node[] = []
  t.teardown(async () => {
    await Promise.allSettled(nodes.map((node) => node.stop()))
    await directory.stop()
  })
  const add: CentralNet['add'] = async (o = {}) => {
    const node = createNode(
      {
        overlay: 'central',
        transport: 'memory',
        listen: [`memory://${o.name ?? uniqueName('peer')}`],
        bootstrap: o.bootstrap ?? [directoryAddress],
        options: { central: { reconnectMin: 20, reconnectMax: 200, ...options.central, ...o.central } },
      },
      container,
      o.identity,
    )
    nodes.push(node)
    await node.start()
    return node
  }
  const raw: CentralNet['raw'] = async () => {
    const node = createNode(
      {
        overlay: 'central',
        transport: 'memory',
        listen: [`memory://${uniqueName('raw')}`],
        bootstrap: [directoryAddress],
      },
      container,
    )
    nodes.push(node)
    await node.network.start()
    return node
  }
  for (let i = 0; i < n; i++) await add()
  return { container, clock, hub, directory, directoryAddress, nodes, add, raw }
}

/** Waits (bounded, in real time) until `probe` is true, polling every 20 ms: for tests over real sockets or a store that answers in real time only. */
export async function until(ms: number, probe: () => boolean | Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + ms
  for (;;) {
    if (await probe()) return true
    if (Date.now() >= deadline) return false
    await new Promise((r) => setTimeout(r, 20))
  }
}
