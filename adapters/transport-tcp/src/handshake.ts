import { createHash, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync } from 'node:crypto'
import type { Socket } from 'node:net'
import {
  AbortError,
  AuthenticationError,
  type Clock,
  FRAME_HEADER_SIZE,
  frameHeader,
  type Identity,
  type PeerId,
  PeerUnreachableError,
  ProtocolError,
  TimeoutError,
  verifySignature,
} from '@peerkit/core'
import { CIPHERS, type TcpCipher } from './options.js'
import { RecordCipher, TAG_SIZE } from './record-cipher.js'

/** The protocol name, first bytes of every hello and part of every signature and key derivation. */
export const PROTOCOL = 'peerkit-tcp/1'
const MAGIC = Buffer.from(PROTOCOL)
/** Hello body: protocol name (13) ‖ cipher (1) ‖ ephemeral X25519 public key (32). */
export const HELLO_SIZE = MAGIC.length + 1 + 32
/** Auth record plaintext: Ed25519 public key (32) ‖ signature (64). */
export const AUTH_SIZE = 32 + 64
const AUTH_RECORD_SIZE = AUTH_SIZE + TAG_SIZE
const KEYS_INFO = Buffer.from(`${PROTOCOL} keys`)
const AUTH_CONTEXT = Buffer.from(`${PROTOCOL} auth`)
const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex')

const ignore = () => {}

/** Which end of the TCP connection: the dialer is the initiator. */
export type Role = 'initiator' | 'responder'
const ROLE_BYTE: Record<Role, number> = { initiator: 1, responder: 2 }

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
  return Buffer.concat([AUTH_CONTEXT, Buffer.from([ROLE_BYTE[role]]), transcriptHash])
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
export function handshake(socket: Socket, options: HandshakeOptions): Promise<HandshakeResult> {
  const { role, identity, clock, signal, address } = options
  return new Promise((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0)
    let stage: 'hello' | 'deriving' | 'auth' | 'done' = 'hello'
    let myHello: Buffer | undefined
    let keys:
      | { sender: RecordCipher; receiver: RecordCipher; cipher: TcpCipher; transcript: Buffer }
      | undefined

    const cleanup = () => {
      clock.clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      socket.off('data', onData)
      socket.off('error', onError)
      socket.off('close', onClose)
    }
    const fail = (err: Error) => {
      if (stage === 'done') return
      stage = 'done'
      cleanup()
      socket.destroy()
      reject(err)
    }
    const onAbort = () => fail(new AbortError(`dial ${address} aborted`, { cause: signal?.reason }))
    const onError = (err: Error) =>
      fail(
        new PeerUnreachableError(`connection with ${address} failed during the handshake: ${err.message}`, {
          cause: err,
        }),
      )
    const onClose = () =>
      fail(new PeerUnreachableError(`${address} closed the connection during the handshake`))
    const onData = (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk])
      advance()
    }
    const timer = clock.setTimeout(
      () => fail(new TimeoutError(`handshake with ${address} timed out after ${options.timeout} ms`)),
      options.timeout,
    )

    /** The next frame's body once it is whole; checks the announced length before waiting for it. */
    const frame = (size: number, what: string): Buffer | undefined => {
      if (buffered.length < FRAME_HEADER_SIZE) return undefined
      const announced = buffered.readUInt32BE(0)
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
          derive(Buffer.from(hello)).then(
            (k) => {
              if (stage !== 'deriving') return
              keys = k
              stage = 'auth'
              const payload = authPayload(role, k.transcript)
              const auth = Buffer.concat([identity.publicKey, identity.sign(payload)])
              socket.write(Buffer.concat(k.sender.seal([auth], auth.length) as Uint8Array[]))
              advance()
            },
            (err: Error) => fail(err),
          )
        } else if (stage === 'auth' && keys) {
          const record = frame(AUTH_RECORD_SIZE, 'auth record')
          if (!record) return
          const auth = keys.receiver.open(record) as Uint8Array
          const remotePeer = Buffer.from(auth.subarray(0, 32)).toString('base64url')
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
          // Until the connection attaches its own handlers, an error must not go unhandled.
          socket.on('error', ignore)
          cleanup()
          resolve({
            remotePeer,
            cipher: keys.cipher,
            sender: keys.sender,
            receiver: keys.receiver,
            leftover: buffered,
          })
        }
      } catch (err) {
        fail(err as Error)
      }
    }

    const ephemeral = generateKeyPairSync('x25519')
    const ephemeralPublic = ephemeral.publicKey
      .export({ format: 'der', type: 'spki' })
      .subarray(X25519_SPKI_PREFIX.length)

    const derive = async (theirHello: Buffer) => {
      if (!theirHello.subarray(0, MAGIC.length).equals(MAGIC)) {
        throw new ProtocolError(`${address} does not speak ${PROTOCOL}`)
      }
      const cipherByte = theirHello[MAGIC.length] as number
      if (cipherByte < 1 || cipherByte > CIPHERS.length) {
        throw new ProtocolError(`${address} proposed an unknown cipher (${cipherByte})`)
      }
      let shared: Buffer
      try {
        const theirKey = createPublicKey({
          key: Buffer.concat([X25519_SPKI_PREFIX, theirHello.subarray(MAGIC.length + 1)]),
          format: 'der',
          type: 'spki',
        })
        shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: theirKey })
      } catch (err) {
        throw new ProtocolError(`${address} sent an unusable ephemeral key`, { cause: err })
      }
      if (shared.every((b) => b === 0)) throw new ProtocolError(`${address} sent a low-order ephemeral key`)
      const [helloI, helloR] = role === 'initiator' ? [myHello, theirHello] : [theirHello, myHello]
      const transcript = createHash('sha256')
        .update(helloI as Buffer)
        .update(helloR as Buffer)
        .digest()
      const cipher =
        CIPHERS[(((role === 'initiator' ? myHello : theirHello) as Buffer)[MAGIC.length] as number) - 1]
      const okm = Buffer.from(hkdfSync('sha256', shared, transcript, KEYS_INFO, 64))
      const i2r = okm.subarray(0, 32)
      const r2i = okm.subarray(32, 64)
      const [sendKey, receiveKey] = role === 'initiator' ? [i2r, r2i] : [r2i, i2r]
      const [sender, receiver] = await Promise.all([
        RecordCipher.create(cipher as TcpCipher, sendKey, options.offload),
        RecordCipher.create(cipher as TcpCipher, receiveKey, options.offload),
      ])
      return { sender, receiver, cipher: cipher as TcpCipher, transcript }
    }

    if (signal?.aborted) return onAbort()
    signal?.addEventListener('abort', onAbort, { once: true })
    socket.on('data', onData)
    socket.on('error', onError)
    socket.on('close', onClose)
    myHello = Buffer.concat([MAGIC, Buffer.from([CIPHERS.indexOf(options.cipher) + 1]), ephemeralPublic])
    socket.write(Buffer.concat([frameHeader(HELLO_SIZE), myHello]))
  })
}
