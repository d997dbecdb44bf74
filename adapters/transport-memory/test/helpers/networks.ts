import { startNetwork as start } from '@peerkit/compliance'
import type { Clock, Network, NetworkOptions } from '@peerkit/core'
import { type MemoryNetwork, memoryContainer, memoryTransport } from '../../src/index.js'

/**
 * Core's Network over the memory transport, resolved from a child container
 * as `createPeer` wires it (without an overlay, transfer or index).
 */
export function startNetwork(
  hub: MemoryNetwork,
  options: { name?: string; network?: NetworkOptions; clock?: Clock; memory?: unknown } = {},
): Promise<Network> {
  return start(undefined, {
    config: {
      transport: 'memory',
      listen: [`memory://${options.name ?? '*'}`],
      network: options.network ?? {},
    },
    transports: memoryTransport(options.memory),
    container: memoryContainer(hub),
    ...(options.clock ? { clock: options.clock } : {}),
  })
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
