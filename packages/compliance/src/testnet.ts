/**
 * `createTestnet`: n peers over the memory transport, torn down with the test.
 *
 * ```ts
 * import test from 'ava'
 * import '@peerkit/transport-memory'   // registers 'memory'
 * import '@peerkit/index-memory'
 * import '@peerkit/transfer'
 * import '../src/index.js'             // the overlay under test
 * import { createTestnet } from '@peerkit/compliance'
 * import { MemoryNetwork, memoryContainer } from '@peerkit/transport-memory'
 *
 * test('a search finds a file three hops away', async (t) => {
 *   const { peers } = await createTestnet(t, 10, { overlay: 'flooding', options: { flooding: { ttl: 4 } } })
 *   …
 * })
 *
 * test('a partition', async (t) => {
 *   const hub = new MemoryNetwork({ latency: 5 })   // this test's own hub
 *   const net = await createTestnet(t, 6, { overlay: 'chord', container: memoryContainer(hub) })
 *   hub.partition(net.names.slice(0, 3), net.names.slice(3))
 *   hub.kill(net.names[5])
 * })
 * ```
 *
 * Compliance imports no implementation (transport-memory's tests use this
 * package, so depending on it would be a cycle): the caller imports
 * `@peerkit/transport-memory` to register the `memory` transport, and passes
 * `container: memoryContainer(hub)` when it wants its own hub (and a virtual
 * clock, registered in that container). Without it the peers meet in the
 * process-wide hub, under fresh unique names, so testnets never collide.
 */
import { CLOCK, type Clock, createPeer, type Peer, type PeerConfigInput } from '@peerkit/core'
import type { ExecutionContext } from 'ava'
import { type DependencyContainer, container as rootContainer } from 'tsyringe'

/** The transport-memory hub's token (`MEMORY_NETWORK`), by its global symbol key. */
const MEMORY_NETWORK_KEY = Symbol.for('@peerkit/transport-memory:MemoryNetwork')

/** What a testnet needs of the memory hub (`MemoryNetwork` from `@peerkit/transport-memory`). */
export interface TestnetHub {
  kill(name: string): boolean
  partition(a: readonly string[], b: readonly string[]): void
  heal(): void
}

export interface TestnetConfig extends Omit<PeerConfigInput, 'transport' | 'listen' | 'bootstrap'> {
  /**
   * How many of the first peers the others bootstrap from; peer `i` below
   * that count bootstraps from the peers before it. `0`: nobody bootstraps.
   * @default 1
   */
  bootstrap?: number
  /** Extra transports beside `memory` (each must handle its own listen addresses, given by `configure`). @default [] */
  transports?: string[]
  /** Per-peer overrides, merged over the rest (e.g. the directory server's options for `central`). */
  configure?: (index: number) => Partial<PeerConfigInput>
  /**
   * Parent container: `memoryContainer(hub)` from transport-memory for an
   * own hub, plus a virtual `CLOCK` if wanted. @default a child of tsyringe's root container
   */
  container?: DependencyContainer
  /** Start the peers (in order, each after the previous one started). @default true */
  start?: boolean
  /**
   * A clock the peers run on, registered as `CLOCK` in `container` (e.g. the
   * `RunningClock` overlaySuite gives its setup). @default the container's `CLOCK`, else the real clock
   */
  clock?: Clock
}

export interface Testnet {
  /** In creation order; peer 0 is the first bootstrap peer. */
  peers: Peer[]
  /** Each peer's memory address (`memory://NAME`). */
  addresses: string[]
  /** Each peer's name on the hub, for `hub.kill(name)` and `hub.partition(a, b)`. */
  names: string[]
  /** The parent container the peers were created in. */
  container: DependencyContainer
  /** The hub registered in `container`, when one is. */
  hub: TestnetHub | undefined
  /** Stops every peer (also done at the test's teardown). */
  stop(): Promise<void>
}

let testnets = 0

/**
 * Creates `n` peers that listen on fresh `memory://` names and bootstrap from
 * the first `config.bootstrap` peers, starts them in order, and registers
 * `t.teardown` to stop them all. With `config.seed`, peer `i` is seeded `seed + i`.
 */
export async function createTestnet(t: ExecutionContext, n: number, config: TestnetConfig): Promise<Testnet> {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`a testnet has at least one peer (got ${n})`)
  const { bootstrap = 1, transports = [], configure, container: given, start = true, clock, ...base } = config
  const container = given ?? rootContainer.createChildContainer()
  if (clock) container.register(CLOCK, { useValue: clock })
  const id = ++testnets
  const names = Array.from({ length: n }, (_, i) => `testnet${id}-${i}`)
  const addresses = names.map((name) => `memory://${name}`)
  const peers: Peer[] = []
  let stopped: Promise<void> | undefined
  const stop = () => {
    stopped ??= Promise.allSettled(peers.map((p) => p.stop())).then(() => {})
    return stopped
  }
  t.teardown(stop)
  const seeds = addresses.slice(0, Math.max(0, bootstrap))
  try {
    for (let i = 0; i < n; i++) {
      const input: PeerConfigInput = {
        ...base,
        transport: ['memory', ...transports],
        listen: [addresses[i] as string],
        bootstrap: i < seeds.length ? seeds.slice(0, i) : seeds,
        ...(base.seed === undefined ? {} : { seed: base.seed + i }),
        ...configure?.(i),
      }
      peers.push(await createPeer(input, { container }))
    }
    if (start) for (const peer of peers) await peer.start()
  } catch (err) {
    await stop()
    throw err
  }
  const hub = container.isRegistered(MEMORY_NETWORK_KEY, true)
    ? container.resolve<TestnetHub>(MEMORY_NETWORK_KEY)
    : undefined
  return { peers, addresses, names, container, hub, stop }
}
