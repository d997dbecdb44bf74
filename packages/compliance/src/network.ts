/**
 * `startNetwork`: core's `Network` alone (no overlay, transfer or index),
 * resolved from a container wired by core's `buildPeerContainer` (the way
 * `createPeer` wires a peer), for transport tests.
 *
 * ```ts
 * const network = await startNetwork(t, {
 *   config: { transport: 'tcp', listen: ['tcp://127.0.0.1:0'] },
 *   transports: (c) => tcpTransport({ maxHandshakes: 1 })(c),
 * })
 * ```
 */
import {
  buildPeerContainer,
  CLOCK,
  type Clock,
  type Identity,
  NETWORK,
  type Network,
  type PeerConfigInput,
} from '@peerkit/core'
import type { DependencyContainer } from 'tsyringe'

export interface StartNetworkOptions {
  /** The peer configuration (`overlay` defaults to 'none'). */
  config: Omit<PeerConfigInput, 'overlay'> & { overlay?: PeerConfigInput['overlay'] }
  /** Registers the transports in the child container, e.g. `memoryTransport()`. */
  transports: (c: DependencyContainer) => void
  /** The parent container. @default tsyringe's root container */
  container?: DependencyContainer
  /** @default the parent container's `CLOCK`, else a real clock */
  clock?: Clock
  /** @default a generated Identity */
  identity?: Identity
}

/** A started Network; stopped, and its container disposed, when the test ends (if `t` is given). */
export async function startNetwork(
  t: { teardown(fn: () => unknown): void } | undefined,
  options: StartNetworkOptions,
): Promise<Network> {
  const c = buildPeerContainer(
    { overlay: 'none', seed: 5, ...options.config },
    {
      container: options.container,
      identity: options.identity,
      components: [],
      register: [
        options.transports,
        (cc) => options.clock && cc.register(CLOCK, { useValue: options.clock }),
      ],
    },
  )
  const network = c.resolve(NETWORK)
  t?.teardown(async () => {
    await network.stop()
    await c.dispose()
  })
  await network.start()
  return network
}
