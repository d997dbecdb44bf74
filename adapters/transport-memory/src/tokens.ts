import type { InjectionToken } from 'tsyringe'
import type { MemoryNetwork } from './memory-network.js'
import type { MemoryTransportOptions } from './options.js'

/**
 * The hub the memory transports of one simulated network share. Register one
 * (with `useValue`) in a parent container to isolate a test or a simulation;
 * without it every memory transport uses `MemoryNetwork.global`.
 */
export const MEMORY_NETWORK: InjectionToken<MemoryNetwork> = Symbol.for(
  '@peerkit/transport-memory:MemoryNetwork',
)

/** The validated, frozen options of the memory transport. */
export const MEMORY_TRANSPORT_OPTIONS: InjectionToken<Readonly<Required<MemoryTransportOptions>>> =
  Symbol.for('@peerkit/transport-memory:Options')
