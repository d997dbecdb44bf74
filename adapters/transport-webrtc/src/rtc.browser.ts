/**
 * The browser build's `node-datachannel` (package.json's `browser` field maps
 * the module here): the few calls of its PeerConnection and DataChannel that
 * the webrtc transport makes, over the page's RTCPeerConnection. Same
 * signalling (non-trickle SDP with every candidate, signed, relayed through a
 * peer both sides reach), so a tab connects to a Node peer on node-datachannel
 * or to another tab. The remote DTLS certificate's SHA-256 fingerprint is read
 * from the DTLS transport (`getRemoteCertificates`), as node-datachannel's
 * `remoteFingerprint()` gives it, for the transport to check against the one
 * the remote signed.
 */
import { sha256 } from '@peerkit/core'

type Callback<T> = ((value: T) => void) | undefined

// The page's WebRTC API, as far as used here (the package compiles without the DOM library).
interface RTCIceServer {
  urls: string
  username?: string
  credential?: string
}
interface RTCDataChannel {
  binaryType: string
  bufferedAmountLowThreshold: number
  readonly bufferedAmount: number
  readonly readyState: string
  onbufferedamountlow: (() => void) | null
  onmessage: ((ev: { data: unknown }) => void) | null
  onclose: (() => void) | null
  onerror: ((ev: { error?: { message?: string } }) => void) | null
  onopen: (() => void) | null
  send(data: Uint8Array): void
  close(): void
}
interface RTCSessionDescriptionInit {
  sdp?: string
  type: string
}
interface RTCPeerConnection {
  readonly iceGatheringState: string
  readonly connectionState: string
  readonly localDescription: { sdp: string; type: string } | null
  readonly sctp: { transport: { getRemoteCertificates?(): ArrayBuffer[] } } | null
  onicegatheringstatechange: (() => void) | null
  onconnectionstatechange: (() => void) | null
  ondatachannel: ((ev: { channel: RTCDataChannel }) => void) | null
  createDataChannel(label: string): RTCDataChannel
  createOffer(): Promise<RTCSessionDescriptionInit>
  createAnswer(): Promise<RTCSessionDescriptionInit>
  setLocalDescription(d: RTCSessionDescriptionInit): Promise<void>
  setRemoteDescription(d: RTCSessionDescriptionInit): Promise<void>
  close(): void
}
const RTCPeerConnectionCtor = () =>
  (
    globalThis as unknown as {
      RTCPeerConnection: new (config: { iceServers: RTCIceServer[] }) => RTCPeerConnection
    }
  ).RTCPeerConnection

/** node-datachannel's ICE server strings (`stun:host:port`, `turn:user:pass@host:port`) as RTCIceServers. */
function iceServers(urls: readonly string[] = []): RTCIceServer[] {
  return urls.map((url) => {
    const m = /^(turns?):([^:@]+):([^@]+)@(.+)$/.exec(url)
    return m ? { urls: `${m[1]}:${m[4]}`, username: m[2], credential: m[3] } : { urls: url }
  })
}

export class DataChannel {
  constructor(private readonly dc: RTCDataChannel) {
    dc.binaryType = 'arraybuffer'
  }

  setBufferedAmountLowThreshold(n: number): void {
    this.dc.bufferedAmountLowThreshold = n
  }

  onBufferedAmountLow(cb: () => void): void {
    this.dc.onbufferedamountlow = () => cb()
  }

  onMessage(cb: (msg: string | Uint8Array) => void): void {
    this.dc.onmessage = (ev) =>
      cb(typeof ev.data === 'string' ? ev.data : new Uint8Array(ev.data as ArrayBuffer))
  }

  onClosed(cb: () => void): void {
    this.dc.onclose = () => cb()
  }

  onError(cb: (err: string) => void): void {
    this.dc.onerror = (ev) => cb(ev.error?.message ?? 'data channel error')
  }

  onOpen(cb: () => void): void {
    this.dc.onopen = () => cb()
  }

  isOpen(): boolean {
    return this.dc.readyState === 'open'
  }

  bufferedAmount(): number {
    return this.dc.bufferedAmount
  }

  sendMessageBinary(buffer: Uint8Array): boolean {
    this.dc.send(buffer)
    return true
  }

  close(): void {
    this.dc.close()
  }
}

export class PeerConnection {
  private readonly pc: RTCPeerConnection
  private gathering: Callback<string>
  private state: Callback<string>
  private dataChannel: Callback<DataChannel>

  constructor(_label: string, config: { iceServers?: readonly string[]; bindAddress?: string } = {}) {
    this.pc = new (RTCPeerConnectionCtor())({ iceServers: iceServers(config.iceServers) })
    this.pc.onicegatheringstatechange = () => this.gathering?.(this.pc.iceGatheringState)
    this.pc.onconnectionstatechange = () => this.state?.(this.pc.connectionState)
    this.pc.ondatachannel = (ev) => this.dataChannel?.(new DataChannel(ev.channel))
  }

  onGatheringStateChange(cb: (state: string) => void): void {
    this.gathering = cb
    if (this.pc.iceGatheringState === 'complete' && this.pc.localDescription)
      queueMicrotask(() => cb('complete'))
  }

  onStateChange(cb: (state: string) => void): void {
    this.state = cb
  }

  onDataChannel(cb: (dc: DataChannel) => void): void {
    this.dataChannel = cb
  }

  localDescription(): { sdp: string; type: string } | null {
    const d = this.pc.localDescription
    return d ? { sdp: d.sdp, type: d.type } : null
  }

  /** As node-datachannel: creating the first channel makes the offer (and starts gathering). */
  createDataChannel(label: string): DataChannel {
    const dc = new DataChannel(this.pc.createDataChannel(label))
    this.pc
      .createOffer()
      .then((offer) => this.pc.setLocalDescription(offer))
      .catch(() => this.state?.('failed')) // the dial's state listener reports it
    return dc
  }

  /** As node-datachannel: an offer is answered at once (and gathering starts). */
  setRemoteDescription(sdp: string, type: 'offer' | 'answer'): void {
    this.pc
      .setRemoteDescription({ sdp, type })
      .then(async () => {
        if (type === 'offer') await this.pc.setLocalDescription(await this.pc.createAnswer())
      })
      .catch(() => this.state?.('failed')) // the transport's state listener reports it
  }

  /** The SHA-256 fingerprint of the remote DTLS certificate (`AB:CD:…`), once connected. */
  remoteFingerprint(): { value: string; algorithm: string } | undefined {
    const cert = this.pc.sctp?.transport.getRemoteCertificates?.()[0]
    if (!cert) return undefined
    const digest = sha256(new Uint8Array(cert))
    const value = [...digest].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':')
    return { value, algorithm: 'sha-256' }
  }

  close(): void {
    this.pc.close()
  }
}
