import { connect, type Socket } from 'node:net'
import { Identity, RealClock } from '@peerkit/core'
import type { ExecutionContext } from 'ava'
import { type HandshakeResult, handshake, MAX_RECORD_SIZE } from '../../src/secure.js'
import { WAIT, within } from './index.js'

/** A TCP socket to `address` from the local address `from` (any 127.x.y.z on Linux), connected. */
export async function socketFrom(address: string, from: string): Promise<Socket> {
  const url = new URL(address)
  const socket = connect({ host: url.hostname, port: Number(url.port), localAddress: from })
  socket.on('error', () => {}) // a refused or reset socket is what these tests count, through 'close'
  await within(
    new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject)),
    `connect from ${from}`,
  )
  return socket
}

/**
 * A hostile peer with its hands on the wire: it runs the real handshake as
 * initiator from `from`, then writes whatever plaintext it likes as sealed
 * records, and reads nothing (its socket stays paused).
 */
export interface RawPeer {
  socket: Socket
  result: HandshakeResult
  identity: Identity
  /** `plaintext` (frames, or part of one) sealed into records of at most 1 MiB and written. */
  write(plaintext: Uint8Array): Promise<void>
}

export async function rawDial(
  t: ExecutionContext,
  address: string,
  options: { from?: string; identity?: Identity } = {},
): Promise<RawPeer> {
  const identity = options.identity ?? Identity.generate()
  const socket = await socketFrom(address, options.from ?? '127.0.0.1')
  t.teardown(() => socket.destroy())
  const result = await handshake(socket, {
    role: 'initiator',
    identity,
    cipher: 'aes-256-gcm',
    offload: false,
    clock: new RealClock(),
    timeout: WAIT,
    address,
  })
  socket.pause()
  const write = async (plaintext: Uint8Array) => {
    for (let off = 0; off < plaintext.length; off += MAX_RECORD_SIZE) {
      const piece = plaintext.subarray(off, off + MAX_RECORD_SIZE)
      const chunks = await result.sender.seal([piece], piece.length)
      for (const c of chunks) if (!socket.destroyed) socket.write(c)
    }
  }
  return { socket, result, identity, write }
}

/** Resolves once `socket` is closed by the far end (it is read, and what comes dropped, to see the end), bounded. */
export function closed(socket: Socket, what = 'socket closed', ms = WAIT): Promise<void> {
  if (socket.destroyed) return Promise.resolve()
  socket.resume()
  return within(new Promise((resolve) => socket.once('close', () => resolve())), what, ms)
}
