// src/tokens.ts
import type { InjectionToken } from 'tsyringe'
import type { ResolvedRandomWalkOptions } from './options.js'

export const RANDOM_WALK_OPTIONS: InjectionToken<ResolvedRandomWalkOptions> = Symbol.for(
  '@peerkit/example-overlay-randomwalk:Options',
)
