import type { InjectionToken } from 'tsyringe'
import type { ResolvedSupernodeOptions } from './options.js'

/** The validated options of the `supernode` overlay. */
export const SUPERNODE_OPTIONS: InjectionToken<ResolvedSupernodeOptions> = Symbol.for(
  '@peerkit/overlay-supernode:SupernodeOptions',
)
