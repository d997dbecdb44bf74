import type { InjectionToken } from 'tsyringe'
import type { ResolvedFloodingOptions } from './options.js'

/** The validated, frozen options of the flooding overlay. */
export const FLOODING_OPTIONS: InjectionToken<ResolvedFloodingOptions> = Symbol.for(
  '@peerkit/overlay-flooding:FloodingOptions',
)
