import type { InjectionToken } from 'tsyringe'
import type { ParsedNatOptions } from './options.js'

/** The validated, frozen options of the `nat` transport. */
export const NAT_OPTIONS: InjectionToken<ParsedNatOptions> = Symbol.for('@peerkit/nat:Options')
