import { type Connection, SeededRandom } from '@peerkit/core'
import type { MemoryNetwork, MemoryTransport, MemoryTransportOptions } from '../../src/index.js'
import { makeTransport } from './transports.js'
import type { VirtualClock } from './virtual-clock.js'

export interface Node {
  transport: MemoryTransport
  name: string
  address: string
  /** Inbound connections, in arrival order. */
  inbound: Connection[]
}

/** A transport on `clock` listening at `memory://NAME`, recording its inbound connections. */
export async function node(
  network: MemoryNetwork,
  clock: VirtualClock,
  name: string,
  options: MemoryTransportOptions = {},
  seed = 7,
): Promise<Node> {
  const transport = makeTransport(network, { clock, random: new SeededRandom(seed), ...options })
  const listener = await transport.listen(`memory://${name}`)
  const inbound: Connection[] = []
  listener.on('connection', (c) => inbound.push(c))
  return { transport, name, address: `memory://${name}`, inbound }
}

/** Dials `to` from `from` in virtual time; returns both ends. */
export async function connect(
  clock: VirtualClock,
  from: Node,
  to: Node,
): Promise<{ out: Connection; in: Connection }> {
  const before = to.inbound.length
  const out = await clock.settle(from.transport.dial(to.address))
  await clock.until(() => to.inbound.length > before)
  return { out, in: to.inbound[before] as Connection }
}

/** Every message `conn` receives, with the virtual time it arrived. */
export function record(conn: Connection, clock: VirtualClock): Array<{ at: number; data: Uint8Array }> {
  const got: Array<{ at: number; data: Uint8Array }> = []
  conn.on('message', (data) => got.push({ at: clock.now(), data }))
  return got
}
