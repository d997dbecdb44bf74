import type { InjectionToken } from 'tsyringe'
import type { ParsedTcpTransportOptions } from './options.js'

/** The validated, frozen options of the `tcp` transport. */
export const TCP_TRANSPORT_OPTIONS: InjectionToken<ParsedTcpTransportOptions> = Symbol.for(
  '@peerkit/transport-tcp:Options',
)
