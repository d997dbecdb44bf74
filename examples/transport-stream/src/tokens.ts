// src/tokens.ts
import type { InjectionToken } from 'tsyringe'
import type { ResolvedStreamTransportOptions } from './options.js'

export const STREAM_TRANSPORT_OPTIONS: InjectionToken<ResolvedStreamTransportOptions> = Symbol.for(
  '@peerkit/example-transport-stream:Options',
)
