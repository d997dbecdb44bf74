import { connect, type Socket } from 'node:net'
import { Identity, RealClock } from '@peerkit/core'
import { type HandshakeResult, handshake, MAX_RECORD_SIZE } from '@peerkit/transport-tcp/secure'
import { within } from './attack-node.js'

/**
 * A TCP socket to `address` (from `from`, any 127.x.y.z on Linux), connected
 * and saying nothing. Errors are ignored: the node closing on it is the point,
 * and 'close' is what is counted.
 */
export async function silentSocket(address: string, from = '127.0.0.1'): Promise<Socket> {
  const url = new URL(address)
  const socket = connect({ host: url.hostname, port: Number(url.port), localAddress: from })
  socket.on('error', () => {}) // see above: a reset is counted through 'close'
  await within(
    new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject)),
    `connect to ${address} from ${from}`,
    10_000,
  )
  return socket
}

/**
 * A hostile peer with its hands on the wire of a real node: the real
 * handshake as initiator, then sealed records of whatever plaintext it
 * likes (frames, or a message cut short); it never reads (its socket stays
 * paused), so whatever the node sends piles up on the node's side.
 */
export class WireAttacker {
  private constructor(
    readonly socket: Socket,
    readonly keys: HandshakeResult,
  ) {}

  static async dial(address: string, identity = Identity.generate()): Promise<WireAttacker> {
    const socket = await silentSocket(address)
    const keys = await handshake(socket, {
      role: 'initiator',
      identity,
      cipher: 'aes-256-gcm',
      offload: false,
      clock: new RealClock(),
      timeout: 10_000,
      address,
    })
    socket.pause()
    return new WireAttacker(socket, keys)
  }

  /** `plaintext` sealed in records of at most 1 MiB, written; resolves when the socket took them. */
  async write(plaintext: Uint8Array): Promise<void> {
    for (let off = 0; off < plaintext.length && !this.socket.destroyed; off += MAX_RECORD_SIZE) {
      const piece = plaintext.subarray(off, off + MAX_RECORD_SIZE)
      for (const c of await this.keys.sender.seal([piece], piece.length)) this.socket.write(c)
    }
    if (this.socket.writableLength > 0 && !this.socket.destroyed)
      await new Promise((resolve) => this.socket.once('drain', resolve).once('close', resolve))
  }

  /** True once the node closed the connection (whatever it sent is read and dropped to see the end). */
  closedWithin(ms: number): Promise<boolean> {
    if (this.socket.destroyed) return Promise.resolve(true)
    this.socket.resume()
    return within(
      new Promise<boolean>((resolve) => this.socket.once('close', () => resolve(true))),
      'close',
      ms,
    ).catch(() => false)
  }

  destroy(): void {
    this.socket.destroy()
  }
}
