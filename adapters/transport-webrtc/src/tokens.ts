import type { InjectionToken } from 'tsyringe'
import type { ParsedWebRtcTransportOptions } from './options.js'

/** The validated, frozen options of the `webrtc` transport. */
export const WEBRTC_TRANSPORT_OPTIONS: InjectionToken<ParsedWebRtcTransportOptions> = Symbol.for(
  '@peerkit/transport-webrtc:Options',
)
