import type { EventEmitter } from 'eventemitter3'
import type { PeerId } from './peer-id.js'

/** Per-call options: cancellation. */
export interface AbortOptions {
  signal?: AbortSignal
}

export interface DialOptions extends AbortOptions {
  /** The PeerId expected at the address; the dial fails with `AuthenticationError` if another answers. */
  peer?: PeerId
}

export interface ConnectionEvents {
  /** One whole message, as sent. */
  message: [data: Uint8Array]
  /** The connection failed; `close` follows. */
  error: [err: Error]
  /** The connection is closed, by either side; `err` says why when it was not a clean close. */
  close: [err?: Error]
}

/**
 * How a connection reached its peer: `direct` (dialed or accepted), `relayed`
 * (through a relay, end-to-end encrypted), `pushed` (the firewalled peer
 * dialed back), `hole-punched` (a simultaneous open coordinated over a relay).
 */
export type ConnectionPath = 'direct' | 'relayed' | 'pushed' | 'hole-punched'

/**
 * An authenticated, message-framed, flow-controlled link to one peer.
 * Messages arrive whole and in order.
 */
export interface Connection extends EventEmitter<ConnectionEvents> {
  readonly id: string
  /** Proven by the handshake. */
  readonly remotePeer: PeerId
  /** Where the remote side is: the dialed address, or the observed one for inbound connections. */
  readonly remoteAddress: string
  readonly direction: 'inbound' | 'outbound'
  /** Which way it reached the peer, where the transport knows (the `nat` transport always says). */
  readonly path?: ConnectionPath
  readonly closed: boolean
  /**
   * Sends one message. Resolves once it is accepted into a bounded send buffer:
   * a sender that awaits every `send` never queues more than that bound.
   * Rejects with `PeerUnreachableError` when the connection is closed, and
   * `ProtocolError` when the message exceeds the transport's maximum size.
   */
  send(data: Uint8Array, options?: AbortOptions): Promise<void>
  /** Closes both directions; `err` (if any) is passed to `close` listeners locally. */
  close(err?: Error): Promise<void>
}

export interface ListenerEvents {
  connection: [connection: Connection]
  /** A connection attempt that failed (bad handshake, malformed frame); the listener goes on. */
  error: [err: Error]
  close: []
}

export interface Listener extends EventEmitter<ListenerEvents> {
  /** The addresses it is reachable at, with the real port when asked for port 0. */
  addresses(): string[]
  close(): Promise<void>
}

/**
 * Moves framed messages between two peers; knows nothing of files or overlays.
 * It is constructed with the local `Identity` (token `IDENTITY`) and a `Clock`.
 */
export interface Transport {
  /** The registry name: `tcp`, `memory`, `webrtc`. */
  readonly name: string
  /** True when this transport handles an address (by URL scheme). */
  handles(address: string): boolean
  listen(address: string): Promise<Listener>
  dial(address: string, options?: DialOptions): Promise<Connection>
  /** Closes every listener and connection it made. */
  close(): Promise<void>
}

/** Default largest message, in bytes, that a transport accepts (4 MiB). */
export const DEFAULT_MAX_MESSAGE_SIZE = 4 * 1024 * 1024
