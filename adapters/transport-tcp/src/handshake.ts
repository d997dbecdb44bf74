import {
  AbortError,
  AuthenticationError,
  type Clock,
  concatBytes,
  equalBytes,
  type Identity,
  onAbort,
  type PeerId,
  PeerUnreachableError,
  ProtocolError,
  TimeoutError,
  toBase64url,
  verifySignature,
} from '@peerkit/core'
import { FRAME_HEADER_SIZE, frameHeader } from '@peerkit/core/wire'
import { CIPHERS, type TcpCipher } from './options.js'
import { RecordCipher, TAG_SIZE } from './record-cipher.js'
import { hkdfSha256, sha256, x25519Ephemeral } from './secure-crypto.js'

/** The protocol name, first bytes of every hello and part of every signature and key derivation. */
export const PROTOCOL = 'peerkit-tcp/1'
const MAGIC = new TextEncoder().encode(PROTOCOL)
/** Hello body: protocol name (13) ‖ cipher (1) ‖ ephemeral X25519 public key (32). */
export const HELLO_SIZE = MAGIC.length + 1 + 32
/** Auth record plaintext: Ed25519 public key (32) ‖ signature (64). */
export const AUTH_SIZE = 32 + 64
const AUTH_RECORD_SIZE = AUTH_SIZE + TAG_SIZE
const KEYS_INFO = new TextEncoder().encode(`${PROTOCOL} keys`)
const AUTH_CONTEXT = new TextEncoder().encode(`${PROTOCOL} auth`)

const ignore = () => {}

/** Which end of the TCP connection: the dialer is the initiator. */
export type Role = 'initiator' | 'responder'
const ROLE_BYTE: Record<Role, number> = { initiator: 1, responder: 2 }

/**
 * What the handshake reads and writes: a node:net Socket as it is, or any
 * byte channel shaped like one (a WebSocket's binary messages, in
 * @peerkit/transport-websocket). `data` delivers bytes in order; `pause` is
 * called once the handshake is done, before it resolves.
 */
export interface HandshakeChannel {
  on(event: 'data', listener: (chunk: Uint8Array) => void): unknown
  on(event: 'error', listener: (err: Error) => void): unknown
  on(event: 'close', listener: () => void): unknown
  off(event: 'data', listener: (chunk: Uint8Array) => void): unknown
  off(event: 'error', listener: (err: Error) => void): unknown
  off(event: 'close', listener: () => void): unknown
  write(bytes: Uint8Array): unknown
  pause(): unknown
  destroy(): unknown
}

export interface HandshakeOptions {
  role: Role
  identity: Identity
  /** Proposed when initiating; a responder uses the initiator's. */
  cipher: TcpCipher
  offload: boolean
  clock: Clock
  timeout: number
  /** For messages: the address dialed, or the observed one. */
  address: string
  /** Fail with `AuthenticationError` unless this peer answers. */
  expectedPeer?: PeerId
  signal?: AbortSignal
}

export interface HandshakeResult {
  remotePeer: PeerId
  cipher: TcpCipher
  /** Seals what this side sends. */
  sender: RecordCipher
  /** Opens what the remote sends. */
  receiver: RecordCipher
  /** Bytes received after the remote's auth record (already records of the stream). */
  leftover: Uint8Array
}

/** What the remote's auth signature covers: context ‖ its role ‖ SHA-256(initiator hello ‖ responder hello). */
export function authPayload(role: Role, transcriptHash: Uint8Array): Uint8Array {
  return concatBytes(AUTH_CONTEXT, new Uint8Array([ROLE_BYTE[role]]), transcriptHash)
}

/**
 * Runs the `peerkit-tcp/1` handshake on a connected socket (see the README):
 * hellos with ephemeral X25519 keys cross, both sides derive two AES/ChaCha
 * keys with HKDF over the transcript, then each sends its Ed25519 public key
 * and its signature of the transcript in the first encrypted record. Resolves
 * once the remote's signature verified; the socket is left paused. On failure
 * the socket is destroyed and the promise rejects with `ProtocolError`,
 * `AuthenticationError`, `TimeoutError`, `AbortError` or `PeerUnreachableError`.
 */
export function handshake(socket: HandshakeChannel, options: HandshakeOptions): Promise<HandshakeResult> {
  const { role, identity, clock, signal, address } = options
  return new Promise((resolve, reject) => {
    let buffered: Uint8Array = new Uint8Array(0)
    let stage: 'hello' | 'deriving' | 'auth' | 'opening' | 'done' = 'hello'
    let myHello: Uint8Array | undefined
    let keys:
      | { sender: RecordCipher; receiver: RecordCipher; cipher: TcpCipher; transcript: Uint8Array }
      | undefined

    // Many handshakes on one signal (a search's dials) share one listener on it (core's onAbort).
    let unlisten: () => void = () => {}
    const cleanup = () => {
      clock.clearTimeout(timer)
      unlisten()
      socket.off('data', onData)
      socket.off('error', onError)
      socket.off('close', onClose)
    }
    const failed = () => stage === 'done'
    const fail = (err: Error) => {
      if (stage === 'done') return
      stage = 'done'
      cleanup()
      socket.destroy()
      reject(err)
    }
    const aborted = () => fail(new AbortError(`dial ${address} aborted`, { cause: signal?.reason }))
    const onError = (err: Error) =>
      fail(
        new PeerUnreachableError(`connection with ${address} failed during the handshake: ${err.message}`, {
          cause: err,
        }),
      )
    const onClose = () =>
      fail(new PeerUnreachableError(`${address} closed the connection during the handshake`))
    const onData = (chunk: Uint8Array) => {
      buffered = buffered.length === 0 ? chunk : concatBytes(buffered, chunk)
      advance()
    }
    const timer = clock.setTimeout(
      () => fail(new TimeoutError(`handshake with ${address} timed out after ${options.timeout} ms`)),
      options.timeout,
    )

    /** The next frame's body once it is whole; checks the announced length before waiting for it. */
    const frame = (size: number, what: string): Uint8Array | undefined => {
      if (buffered.length < FRAME_HEADER_SIZE) return undefined
      const announced = new DataView(buffered.buffer, buffered.byteOffset, FRAME_HEADER_SIZE).getUint32(0)
      if (announced !== size) {
        throw new ProtocolError(
          `expected a ${PROTOCOL} ${what} of ${size} bytes from ${address}, got a frame of ${announced}`,
        )
      }
      if (buffered.length < FRAME_HEADER_SIZE + size) return undefined
      const body = buffered.subarray(FRAME_HEADER_SIZE, FRAME_HEADER_SIZE + size)
      buffered = buffered.subarray(FRAME_HEADER_SIZE + size)
      return body
    }

    const advance = () => {
      try {
        if (stage === 'hello') {
          const hello = frame(HELLO_SIZE, 'hello')
          if (!hello) return
          stage = 'deriving'
          derive(hello.slice())
            .then(async (k) => {
              if (stage !== 'deriving') return
              keys = k
              stage = 'auth'
              const payload = authPayload(role, k.transcript)
              const auth = concatBytes(identity.publicKey, identity.sign(payload))
              // Sealed before anything else is read: the record counter starts at this record.
              const sealed = k.sender.seal([auth], auth.length)
              const record = concatBytes(...(Array.isArray(sealed) ? sealed : await sealed))
              if (failed()) return // failed while sealing
              socket.write(record)
              advance()
            })
            .catch((err: Error) => fail(err))
        } else if (stage === 'auth' && keys) {
          const record = frame(AUTH_RECORD_SIZE, 'auth record')
          if (!record) return
          const opened = keys.receiver.open(record)
          if (opened instanceof Uint8Array) return authenticated(opened)
          stage = 'opening'
          opened.then(
            (auth) => {
              if (stage !== 'opening') return
              try {
                authenticated(auth)
              } catch (err) {
                fail(err as Error)
              }
            },
            (err: Error) => fail(err),
          )
        }
      } catch (err) {
        fail(err as Error)
      }
    }

    /** The remote's auth record opened: check its signature and finish. */
    const authenticated = (auth: Uint8Array) => {
      if (!keys) return
      const remotePeer = toBase64url(auth.subarray(0, 32))
      const remoteRole: Role = role === 'initiator' ? 'responder' : 'initiator'
      if (!verifySignature(remotePeer, authPayload(remoteRole, keys.transcript), auth.subarray(32))) {
        throw new AuthenticationError(
          `${address} claimed to be ${remotePeer} but its signature did not verify`,
        )
      }
      if (options.expectedPeer !== undefined && options.expectedPeer !== remotePeer) {
        throw new AuthenticationError(
          `expected ${options.expectedPeer} at ${address}, but ${remotePeer} answered`,
        )
      }
      stage = 'done'
      socket.pause()
      socket.on('error', ignore) // until the connection attaches its handlers: it sees the error too, and closes
      cleanup()
      resolve({
        remotePeer,
        cipher: keys.cipher,
        sender: keys.sender,
        receiver: keys.receiver,
        leftover: buffered,
      })
    }

    const ephemeral = x25519Ephemeral()

    const derive = async (theirHello: Uint8Array) => {
      if (!equalBytes(theirHello.subarray(0, MAGIC.length), MAGIC)) {
        throw new ProtocolError(`${address} does not speak ${PROTOCOL}`)
      }
      const cipherByte = theirHello[MAGIC.length] as number
      if (cipherByte < 1 || cipherByte > CIPHERS.length) {
        throw new ProtocolError(`${address} proposed an unknown cipher (${cipherByte})`)
      }
      let shared: Uint8Array
      try {
        shared = ephemeral.agree(theirHello.subarray(MAGIC.length + 1))
      } catch (err) {
        throw new ProtocolError(`${address} sent an unusable ephemeral key`, { cause: err })
      }
      if (shared.every((b) => b === 0)) throw new ProtocolError(`${address} sent a low-order ephemeral key`)
      const [helloI, helloR] = role === 'initiator' ? [myHello, theirHello] : [theirHello, myHello]
      const transcript = sha256(helloI as Uint8Array, helloR as Uint8Array)
      const cipher =
        CIPHERS[(((role === 'initiator' ? myHello : theirHello) as Uint8Array)[MAGIC.length] as number) - 1]
      const okm = hkdfSha256(shared, transcript, KEYS_INFO, 64)
      const i2r = okm.subarray(0, 32)
      const r2i = okm.subarray(32, 64)
      const [sendKey, receiveKey] = role === 'initiator' ? [i2r, r2i] : [r2i, i2r]
      const [sender, receiver] = await Promise.all([
        RecordCipher.create(cipher as TcpCipher, sendKey, options.offload),
        RecordCipher.create(cipher as TcpCipher, receiveKey, options.offload),
      ])
      return { sender, receiver, cipher: cipher as TcpCipher, transcript }
    }

    if (signal?.aborted) return aborted()
    if (signal) unlisten = onAbort(signal, aborted)
    socket.on('data', onData)
    socket.on('error', onError)
    socket.on('close', onClose)
    myHello = concatBytes(MAGIC, new Uint8Array([CIPHERS.indexOf(options.cipher) + 1]), ephemeral.publicKey)
    socket.write(concatBytes(frameHeader(HELLO_SIZE), myHello))
  })
}
