import { InvalidOptionsError, isPeerId, type PeerId } from '@peerkit/core'

export const WEBRTC_SCHEME = 'webrtc://'

export function isWebRtcAddress(address: string): boolean {
  return address.startsWith(WEBRTC_SCHEME)
}

/** `webrtc://<PeerId>`. */
export function formatWebRtcAddress(peer: PeerId): string {
  return `${WEBRTC_SCHEME}${peer}`
}

/** The PeerId a `webrtc://<PeerId>` address names; throws `InvalidOptionsError` for anything else. */
export function parseWebRtcAddress(address: string): PeerId {
  const id = address.startsWith(WEBRTC_SCHEME) ? address.slice(WEBRTC_SCHEME.length) : ''
  if (!isPeerId(id)) {
    throw new InvalidOptionsError(`a webrtc address is webrtc://<PeerId> (got '${address}')`)
  }
  return id
}

/**
 * Checks a listen address: `webrtc://`, `webrtc://*` or `webrtc://<own PeerId>`
 * all mean "accept WebRTC connections signalled to me".
 */
export function checkListenAddress(address: string, self: PeerId): void {
  if (address === WEBRTC_SCHEME || address === `${WEBRTC_SCHEME}*` || address === formatWebRtcAddress(self))
    return
  throw new InvalidOptionsError(
    `a webrtc listen address is webrtc://* (or webrtc://<this peer's id>) (got '${address}')`,
  )
}
