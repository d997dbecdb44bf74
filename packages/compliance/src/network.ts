/**
 * `startNetwork`: core's `Network` alone (no overlay, transfer or index),
 * resolved from a child container the way `createPeer` wires it, for
 * transport tests.
 *
 * ```ts
 * const network = await startNetwork(t, {
 *   config: { transport: 'tcp', listen: ['tcp://127.0.0.1:0'] },
 *   transports: (c) => tcpTransport({ maxHandshakes: 1 })(c),
 * })
 * ```
 */
import {
  CLOCK,
  type Clock,
  IDENTITY,
  Identity,
  Network,
  PEER_CONFIG,
  type PeerConfigInput,
  parsePeerConfig,
  RANDOM,
  RealClock,
  SeededRandom,
} from '@peerkit/core'
import { type DependencyContainer, Lifecycle, container as rootContainer } from 'tsyringe'

export interface StartNetworkOptions {
  /** The peer configuration (`overlay` defaults to 'none'). */
  config: Omit<PeerConfigInput, 'overlay'> & { overlay?: PeerConfigInput['overlay'] }
  /** Registers the transports in the child container, e.g. `memoryTransport()`. */
  transports: (c: DependencyContainer) => void
  /** The parent container. @default tsyringe's root container */
  container?: DependencyContainer
  /** @default a RealClock */
  clock?: Clock
  /** @default a generated Identity */
  identity?: Identity
}

/** A started Network; stopped, and its container disposed, when the test ends (if `t` is given). */
export async function startNetwork(
  t: { teardown(fn: () => unknown): void } | undefined,
  options: StartNetworkOptions,
): Promise<Network> {
  const c = (options.container ?? rootContainer).createChildContainer()
  c.register(PEER_CONFIG, { useValue: parsePeerConfig({ overlay: 'none', ...options.config }) })
  c.register(IDENTITY, { useValue: options.identity ?? Identity.generate() })
  c.register(CLOCK, { useValue: options.clock ?? new RealClock() })
  c.register(RANDOM, { useValue: new SeededRandom(5) })
  options.transports(c)
  c.register(Network, { useClass: Network }, { lifecycle: Lifecycle.ContainerScoped })
  const network = c.resolve(Network)
  t?.teardown(async () => {
    await network.stop()
    await c.dispose()
  })
  await network.start()
  return network
}
