import { type Clock, Identity, type Random, RealClock, SeededRandom } from '@peerkit/core'
import {
  type MemoryNetwork,
  MemoryTransport,
  type MemoryTransportOptions,
  parseMemoryTransportOptions,
} from '../../src/index.js'

export interface MakeOptions extends MemoryTransportOptions {
  identity?: Identity
  clock?: Clock
  random?: Random
}

/** A memory transport on `network`, built by hand as a peer's container would. */
export function makeTransport(network: MemoryNetwork, options: MakeOptions = {}): MemoryTransport {
  const { identity, clock, random, ...rest } = options
  return new MemoryTransport(
    identity ?? Identity.generate(),
    clock ?? new RealClock(),
    random ?? new SeededRandom(1),
    network,
    parseMemoryTransportOptions(rest),
  )
}
