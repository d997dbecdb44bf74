import type { Listener, ListenerEvents, PeerId } from '@peerkit/core'
import { EventEmitter } from 'eventemitter3'
import { formatWebRtcAddress } from './address.js'

/**
 * Accepts the WebRTC connections signalled to this peer. Its one address is
 * `webrtc://<PeerId>`; closing it stops accepting (open connections go on
 * until closed or until the transport closes).
 */
export class WebRtcListener extends EventEmitter<ListenerEvents> implements Listener {
  readonly [Symbol.toStringTag] = '@peerkit/transport-webrtc:WebRtcListener'
  private open = true

  constructor(
    private readonly peer: PeerId,
    private readonly onClose: (listener: WebRtcListener) => void,
  ) {
    super()
  }

  get listening(): boolean {
    return this.open
  }

  addresses(): string[] {
    return this.open ? [formatWebRtcAddress(this.peer)] : []
  }

  async close(): Promise<void> {
    if (!this.open) return
    this.open = false
    this.onClose(this)
    this.emit('close')
  }
}
