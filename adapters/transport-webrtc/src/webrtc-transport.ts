import {
  AuthenticationError,
  CLOCK,
  type Clock,
  type DialOptions,
  IDENTITY,
  type Identity,
  InvalidOptionsError,
  Network,
  NotStartedError,
  PEER_CONTAINER,
  type PeerId,
  PeerkitError,
  PeerUnreachableError,
  ProtocolError,
  RANDOM,
  type Random,
  RateLimitError,
  RemoteError,
  type RequestContext,
  type Transport,
  throwIfAborted,
  toHex,
  withTimeout,
} from '@peerkit/core'
import { PeerConnection } from 'node-datachannel'
import { type DependencyContainer, inject, injectable } from 'tsyringe'
import { checkListenAddress, formatWebRtcAddress, isWebRtcAddress, parseWebRtcAddress } from './address.js'
import type { ParsedWebRtcTransportOptions } from './options.js'
import {
  type Answer,
  fingerprintOf,
  type Offer,
  SIGNAL,
  signAnswer,
  signOffer,
  verifyAnswer,
  verifyOffer,
  withoutCandidates,
} from './signal.js'
import { WEBRTC_TRANSPORT_OPTIONS } from './tokens.js'
import { WebRtcConnection } from './webrtc-connection.js'
import { WebRtcListener } from './webrtc-listener.js'

/** Attempts through one relay: a connection that fails locally (ICE, DTLS) gets one fresh PeerConnection. */
const ATTEMPTS_PER_RELAY = 2

/** A local connection failure is worth a fresh attempt; a remote refusal, an authentication failure or a timeout is not. */
function retriable(err: Error): boolean {
  return err.name === 'PeerUnreachableError' && !(err instanceof RemoteError)
}

/** Inbound connections answered but not open yet, at most; more offers are refused with `RateLimitError`. */
const MAX_PENDING_INBOUND = 128

/** Connection ids of answered offers remembered against replay, at most. */
const SEEN_LIMIT = 4096

/**
 * WebRTC data channels on node-datachannel: `webrtc://<PeerId>` addresses.
 * Offers and answers (non-trickle SDP, every ICE candidate included) travel
 * over `peerkit/signal/1` through a peer both sides already reach over
 * another transport; each side signs its SDP (DTLS fingerprint included)
 * together with both PeerIds and a fresh connection id, and once connected
 * checks that the remote DTLS certificate is the one signed, so a relay
 * cannot put itself in the middle.
 *
 * The transport signals through core's `Network`, which in turn holds every
 * transport: it takes the peer's container and resolves the Network lazily.
 */
@injectable()
export class WebRtcTransport implements Transport {
  readonly [Symbol.toStringTag] = '@peerkit/transport-webrtc'
  readonly name = 'webrtc'
  private readonly listeners = new Set<WebRtcListener>()
  /** Every connection, opening or open: holds its PeerConnection and DataChannel alive. */
  private readonly connections = new Set<WebRtcConnection>()
  private readonly seen = new Set<string>()
  private network: Network | undefined
  private pendingInbound = 0
  private closed = false

  constructor(
    @inject(IDENTITY) private readonly identity: Identity,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(RANDOM) private readonly random: Random,
    @inject(PEER_CONTAINER) private readonly container: DependencyContainer,
    @inject(WEBRTC_TRANSPORT_OPTIONS) private readonly options: ParsedWebRtcTransportOptions,
  ) {
    // Relay offers for others as soon as the peer's Network exists (it is being built now).
    queueMicrotask(() => {
      try {
        this.signaling()
      } catch {
        // No Network in this container (yet): attached on the first listen or dial.
      }
    })
  }

  handles(address: string): boolean {
    return isWebRtcAddress(address)
  }

  /** Open connections (and those being opened). */
  connectionList(): WebRtcConnection[] {
    return [...this.connections]
  }

  async listen(address: string): Promise<WebRtcListener> {
    checkListenAddress(address, this.identity.peerId)
    if (this.closed)
      throw new InvalidOptionsError(`cannot listen on ${address}: the webrtc transport is closed`)
    this.signaling()
    const listener = new WebRtcListener(this.identity.peerId, (l) => this.listeners.delete(l))
    this.listeners.add(listener)
    return listener
  }

  async dial(address: string, options: DialOptions = {}): Promise<WebRtcConnection> {
    const target = parseWebRtcAddress(address)
    const { signal } = options
    throwIfAborted(signal)
    if (options.peer !== undefined && options.peer !== target) {
      throw new AuthenticationError(`${address} is peer ${target}, not the expected ${options.peer}`)
    }
    if (this.closed) throw new PeerUnreachableError(`cannot dial ${address}: the webrtc transport is closed`)
    if (target === this.identity.peerId) throw new PeerUnreachableError(`${address} is this peer itself`)
    const network = this.signaling()
    if (!network.isStarted) throw new NotStartedError(`cannot dial ${address}: the network is not started`)
    const relays = this.relaysFor(network, target)
    if (relays.length === 0) {
      throw new PeerUnreachableError(
        `cannot dial ${address}: no connected peer to relay the offer (connect to a peer that reaches it first)`,
      )
    }
    const errors: Error[] = []
    for (const relay of relays) {
      for (let attempt = 1; attempt <= ATTEMPTS_PER_RELAY; attempt++) {
        throwIfAborted(signal)
        try {
          return await this.attempt(network, relay, target, address, signal)
        } catch (err) {
          if ((err as Error).name === 'AbortError') throw err
          errors.push(err as Error)
          if (this.closed || !retriable(err as Error)) break
        }
      }
      if (this.closed) break
    }
    const refused = errors.find((e) => e.name === 'AuthenticationError')
    if (refused) throw new AuthenticationError(`${address}: ${refused.message}`, { cause: refused })
    throw new PeerUnreachableError(
      `could not reach ${address} through ${relays.length} relay(s): ${errors.map((e) => e.message).join('; ')}`,
      { cause: errors[0] },
    )
  }

  /** Closes every listener and connection it made, and abandons the dials in progress. */
  async close(): Promise<void> {
    this.closed = true
    for (const l of [...this.listeners]) await l.close()
    await Promise.allSettled([...this.connections].map((c) => c.close()))
    this.seen.clear()
  }

  /** Called by the container when the peer is disposed. */
  dispose(): Promise<void> {
    return this.close()
  }

  /** The peer's Network, with the signal protocol handled on it (once). */
  private signaling(): Network {
    if (this.network) return this.network
    if (!this.container.isRegistered(Network, true)) {
      throw new NotStartedError(
        "the webrtc transport signals through core's Network, which this peer's container does not have",
      )
    }
    const network = this.container.resolve(Network)
    network.handle(SIGNAL, (offer, context) => this.onSignal(offer, context))
    this.network = network
    return network
  }

  /** Who to send an offer to: the target itself when connected, configured relays, then every connected peer. */
  private relaysFor(network: Network, target: PeerId): PeerId[] {
    const ids = new Set<PeerId>()
    if (network.isConnected(target)) ids.add(target)
    for (const id of this.options.relays) if (id !== target && id !== this.identity.peerId) ids.add(id)
    for (const { id } of network.peers()) if (id !== target && network.isConnected(id)) ids.add(id)
    return [...ids]
  }

  private newPeerConnection(label: string): PeerConnection {
    return new PeerConnection(label, {
      iceServers: [...this.options.iceServers],
      ...(this.options.bindAddress ? { bindAddress: this.options.bindAddress } : {}),
    })
  }

  /** The local SDP once ICE gathering completed (non-trickle: every candidate is in it). */
  private gathered(pc: PeerConnection): Promise<string> {
    return new Promise((resolve, reject) => {
      pc.onGatheringStateChange((state) => {
        if (state !== 'complete') return
        const description = pc.localDescription()
        if (description) resolve(description.sdp)
        else reject(new PeerUnreachableError('ICE gathering completed without a local description'))
      })
    })
  }

  private track(conn: WebRtcConnection): WebRtcConnection {
    this.connections.add(conn)
    return conn
  }

  private async attempt(
    network: Network,
    relay: PeerId,
    target: PeerId,
    address: string,
    signal: AbortSignal | undefined,
  ): Promise<WebRtcConnection> {
    const id = toHex(this.random.bytes(16))
    const pc = this.newPeerConnection(`dial:${id}`)
    const conn: WebRtcConnection = this.track(
      new WebRtcConnection({
        id: `webrtc:${id}`,
        pc,
        direction: 'outbound',
        remotePeer: target,
        remoteAddress: address,
        options: this.options,
        clock: this.clock,
        onClosed: () => this.connections.delete(conn),
      }),
    )
    const timeout = this.options.connectTimeout
    const bounded = <T>(p: Promise<T>, what: string) =>
      withTimeout(this.clock, p, timeout, {
        signal,
        message: `${what} for ${address} timed out after ${timeout} ms`,
      })
    try {
      const gathering = this.gathered(pc)
      conn.attach(pc.createDataChannel('peerkit'))
      const sdp = await bounded(gathering, 'ICE gathering')
      const offer = signOffer(this.identity, target, id, sdp)
      const ref = {
        id: relay,
        addresses: network.addressesOf(relay).filter((a) => !this.handles(a)),
      }
      const answer = await network.request(ref, SIGNAL, offer, { timeout, signal })
      verifyAnswer(offer, answer)
      const fingerprint = fingerprintOf(answer.sdp)
      if (!fingerprint) throw new AuthenticationError(`the answer of ${target} carries no DTLS fingerprint`)
      pc.setRemoteDescription(answer.sdp, 'answer')
      await bounded(conn.ready, 'connecting')
      this.checkFingerprint(pc, fingerprint, target)
      if (this.closed)
        throw new PeerUnreachableError(`dial ${address} abandoned: the webrtc transport is closed`)
      conn.open()
      return conn
    } catch (err) {
      conn.destroy()
      if (err instanceof PeerkitError) throw err
      throw new PeerUnreachableError(`connecting to ${address} failed: ${(err as Error).message}`, {
        cause: err,
      })
    }
  }

  private async onSignal(offer: Offer, context: RequestContext): Promise<Answer> {
    const self = this.identity.peerId
    if (offer.to !== self) return this.relay(offer, context)
    const listener = [...this.listeners].reverse().find((l) => l.listening)
    if (this.closed || !listener) throw new PeerUnreachableError(`${self} does not accept webrtc connections`)
    const fingerprint = fingerprintOf(offer.sdp)
    try {
      verifyOffer(offer)
      if (!fingerprint)
        throw new AuthenticationError(`the offer of ${offer.from} carries no DTLS fingerprint`)
    } catch (err) {
      listener.emit('error', err as Error)
      throw err
    }
    if (this.pendingInbound >= MAX_PENDING_INBOUND) {
      throw new RateLimitError(`${self} is already opening ${MAX_PENDING_INBOUND} webrtc connections`)
    }
    if (this.seen.has(offer.connection))
      throw new ProtocolError(`offer ${offer.connection} was already answered`)
    this.seen.add(offer.connection)
    if (this.seen.size > SEEN_LIMIT) this.seen.delete(this.seen.values().next().value as string)
    const pc = this.newPeerConnection(`accept:${offer.connection}`)
    const conn: WebRtcConnection = this.track(
      new WebRtcConnection({
        id: `webrtc:${offer.connection}`,
        pc,
        direction: 'inbound',
        remotePeer: offer.from,
        remoteAddress: formatWebRtcAddress(offer.from),
        options: this.options,
        clock: this.clock,
        onClosed: () => this.connections.delete(conn),
      }),
    )
    pc.onDataChannel((dc) => conn.attach(dc))
    const timeout = this.options.connectTimeout
    this.pendingInbound++ // until accept() settles
    try {
      const gathering = this.gathered(pc)
      pc.setRemoteDescription(withoutCandidates(offer.sdp), 'offer')
      const sdp = await withTimeout(this.clock, gathering, timeout, {
        message: `ICE gathering for ${offer.from} timed out after ${timeout} ms`,
      })
      void this.accept(conn, pc, fingerprint as string, listener)
      return signAnswer(this.identity, offer, sdp)
    } catch (err) {
      this.pendingInbound--
      conn.destroy()
      throw new PeerUnreachableError(`cannot answer ${offer.from}: ${(err as Error).message}`, { cause: err })
    }
  }

  /** Waits for the answered connection to open, checks the remote certificate, and hands it to the listener. */
  private async accept(
    conn: WebRtcConnection,
    pc: PeerConnection,
    fingerprint: string,
    listener: WebRtcListener,
  ): Promise<void> {
    const timeout = this.options.connectTimeout
    try {
      await withTimeout(this.clock, conn.ready, timeout, {
        message: `connection from ${conn.remotePeer} did not open within ${timeout} ms`,
      })
      this.checkFingerprint(pc, fingerprint, conn.remotePeer)
      if (!listener.listening || this.closed) throw new PeerUnreachableError('the webrtc listener closed')
      conn.open()
      listener.emit('connection', conn)
    } catch (err) {
      conn.destroy()
      if (listener.listening) listener.emit('error', err as Error)
    } finally {
      this.pendingInbound--
    }
  }

  /** Forwards an offer to its target, once, and returns the target's answer. */
  private async relay(offer: Offer, context: RequestContext): Promise<Answer> {
    if (offer.from !== context.peer.id) {
      throw new AuthenticationError(`${context.peer.id} sent an offer claiming to come from ${offer.from}`)
    }
    const network = this.signaling()
    if (this.closed || !network.isConnected(offer.to)) {
      throw new PeerUnreachableError(`${this.identity.peerId} is not connected to ${offer.to}`)
    }
    return network.request(offer.to, SIGNAL, offer, { timeout: this.options.connectTimeout })
  }

  /** The remote DTLS certificate must be the one whose fingerprint the remote signed. */
  private checkFingerprint(pc: PeerConnection, expected: string, peer: PeerId): void {
    const actual = pc.remoteFingerprint()?.value?.toUpperCase()
    if (actual !== expected) {
      throw new AuthenticationError(
        `the DTLS certificate of ${peer} (${actual ?? 'none'}) is not the one it signed (${expected})`,
      )
    }
  }
}
