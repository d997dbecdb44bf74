/**
 * @packageDocumentation
 * Peers behind NAT: the `nat` transport (TCP plus reachability by dial-back,
 * relayed addresses, push and TCP hole punching) and the relay service a
 * reachable peer may run for others. Importing the package registers `nat`.
 *
 * ```ts sketch
 * const peer = await createPeer({
 *   overlay: 'flooding',
 *   transport: 'nat',
 *   listen: ['tcp://0.0.0.0:4001'],
 *   bootstrap: ['tcp://203.0.113.5:4001'],
 *   options: { nat: { relays: ['tcp://203.0.113.5:4002'] } },
 * })
 * ```
 */
import { type Registration, TRANSPORT, transports } from '@peerkit/core'
import { Lifecycle } from 'tsyringe'
import { NatTransport } from './nat-transport.js'
import { parseNatOptions } from './options.js'
import { NAT_OPTIONS } from './tokens.js'

export { formatRelayAddress, isRelayAddress, parseRelayAddress, type RelayAddress } from './address.js'
export { NatListener } from './nat-listener.js'
export { NatTransport, type PathCounts } from './nat-transport.js'
export {
  type NatOptions,
  natOptionsSchema,
  type ParsedNatOptions,
  type ParsedRelayServiceOptions,
  parseNatOptions,
  relayServiceSchema,
} from './options.js'
export { RelayService, type RelayStats } from './relay-service.js'
export { type ConnectionPath, connectSocket, pathOf, secure } from './secure.js'
export { NAT_OPTIONS } from './tokens.js'
/** The relay service's socket preface and control messages (for tools and tests that speak to a relay). */
export * as relayWire from './wire.js'

/**
 * The `nat` transport's registration: validates `options` (throwing
 * `InvalidOptionsError` naming the field), then registers `NatTransport`
 * under core's `TRANSPORT` token, one per container.
 */
export function natTransport(options?: unknown): Registration {
  const opts = parseNatOptions(options)
  return (c) => {
    c.register(NAT_OPTIONS, { useValue: opts })
    c.register(TRANSPORT, { useClass: NatTransport }, { lifecycle: Lifecycle.ContainerScoped })
  }
}

transports.register('nat', natTransport)
