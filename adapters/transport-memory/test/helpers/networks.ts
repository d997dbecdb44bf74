import {
  CLOCK,
  type Clock,
  IDENTITY,
  Identity,
  Network,
  type NetworkOptions,
  PEER_CONFIG,
  parsePeerConfig,
  RANDOM,
  RealClock,
  SeededRandom,
} from '@peerkit/core'
import { Lifecycle } from 'tsyringe'
import { type MemoryNetwork, memoryContainer, memoryTransport } from '../../src/index.js'

/**
 * Core's Network over the memory transport, resolved from a child container
 * as `createPeer` wires it (without an overlay, transfer or index).
 */
export async function startNetwork(
  hub: MemoryNetwork,
  options: { name?: string; network?: NetworkOptions; clock?: Clock; memory?: unknown } = {},
): Promise<Network> {
  const c = memoryContainer(hub).createChildContainer()
  const config = parsePeerConfig({
    overlay: 'none',
    transport: 'memory',
    listen: [`memory://${options.name ?? '*'}`],
    network: options.network ?? {},
  })
  c.register(PEER_CONFIG, { useValue: config })
  c.register(IDENTITY, { useValue: Identity.generate() })
  c.register(CLOCK, { useValue: options.clock ?? new RealClock() })
  c.register(RANDOM, { useValue: new SeededRandom(5) })
  memoryTransport(options.memory)(c)
  c.register(Network, { useClass: Network }, { lifecycle: Lifecycle.ContainerScoped })
  const network = c.resolve(Network)
  await network.start()
  return network
}

/** Resolves with the first arguments of the next `event`; rejects after `ms`. */
export function next<T>(
  emitter: { once(event: never, fn: never): unknown },
  event: string,
  ms = 5000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms)
    emitter.once(
      event as never,
      ((value: T) => {
        clearTimeout(timer)
        resolve(value)
      }) as never,
    )
  })
}
