/**
 * @packageDocumentation
 * In-process connections between any number of peers, through a
 * `MemoryNetwork` hub with optional per-link latency, bandwidth, loss and
 * partitions, on the injected Clock. Importing the package registers it as
 * `memory` in the `transports` registry.
 *
 * ```ts
 * import '@peerkit/transport-memory'
 * import { createPeer } from '@peerkit/core'
 * import { MemoryNetwork, memoryContainer } from '@peerkit/transport-memory'
 *
 * const network = new MemoryNetwork({ latency: 20, bandwidth: 1_000_000 })
 * const container = memoryContainer(network)
 * const a = await createPeer({ overlay: 'flooding', transport: 'memory', listen: ['memory://a'] }, { container })
 * const b = await createPeer(
 *   { overlay: 'flooding', transport: 'memory', listen: ['memory://b'], bootstrap: ['memory://a'] },
 *   { container },
 * )
 * await a.start()
 * await b.start()
 * network.partition(['a'], ['b'])
 * network.heal()
 * ```
 */
import { type Connection, type Registration, TRANSPORT, transports } from '@peerkit/core'
import { type DependencyContainer, Lifecycle, container as rootContainer } from 'tsyringe'
import { MemoryConnection } from './memory-connection.js'
import { MemoryNetwork } from './memory-network.js'
import { MemoryTransport } from './memory-transport.js'
import { parseMemoryTransportOptions } from './options.js'
import { MEMORY_NETWORK, MEMORY_TRANSPORT_OPTIONS } from './tokens.js'

export { memoryAddress, parseMemoryAddress } from './address.js'
export { MemoryConnection } from './memory-connection.js'
export {
  type LatencyModel,
  type Link,
  type LinkRate,
  MemoryNetwork,
  type MemoryNetworkOptions,
  type MemoryNetworkStats,
} from './memory-network.js'
export { MemoryTransport } from './memory-transport.js'
export {
  type MemoryTransportOptions,
  memoryTransportOptionsSchema,
  parseMemoryTransportOptions,
} from './options.js'
export { MEMORY_NETWORK } from './tokens.js'

/**
 * The registration for `transport: 'memory'`. Uses the `MEMORY_NETWORK` hub
 * registered in the container (or an ancestor), else `MemoryNetwork.global`.
 */
export function memoryTransport(options?: unknown): Registration {
  const opts = parseMemoryTransportOptions(options)
  return (c: DependencyContainer) => {
    c.register(MEMORY_TRANSPORT_OPTIONS, { useValue: opts })
    if (!c.isRegistered(MEMORY_NETWORK, true)) c.register(MEMORY_NETWORK, { useValue: MemoryNetwork.global })
    c.register(TRANSPORT, { useClass: MemoryTransport }, { lifecycle: Lifecycle.ContainerScoped })
  }
}

/**
 * A parent container for `createPeer(config, { container })` in which every
 * peer shares `network` (a fresh hub by default): isolated tests and
 * simulations. Register a virtual `CLOCK` or a `RANDOM` in it as well to
 * run the peers in virtual time or from one seed.
 */
export function memoryContainer(
  network: MemoryNetwork = new MemoryNetwork(),
  parent: DependencyContainer = rootContainer,
): DependencyContainer {
  const c = parent.createChildContainer()
  c.register(MEMORY_NETWORK, { useValue: network })
  return c
}

/**
 * Test hook: puts `frame` on the wire of `connection` as it is, with no
 * check, so the other end receives it: a non-`Uint8Array` is a malformed
 * frame, a larger one than the receiver's `maxMessageSize` an oversized one.
 */
export function rawSend(connection: Connection, frame: unknown): void {
  if (!(connection instanceof MemoryConnection)) throw new TypeError('rawSend takes a memory connection')
  connection.transmit('data', frame, frame instanceof Uint8Array ? frame.byteLength : 0)
}

transports.register('memory', memoryTransport)
