import type { Socket } from 'node:net'
import type { RecordCipher } from './record-cipher.js'
import type { TcpConnection } from './tcp-connection.js'

/**
 * Writes that bypass `send` and its checks, for tests that play a broken or
 * hostile peer. Not exported by the package.
 */
export interface RawWire {
  /** Bytes straight onto the socket, outside any record. */
  writeRaw(bytes: Uint8Array): void
  /** `plaintext` sealed as the next record, as if it were framed messages. */
  writeSealed(plaintext: Uint8Array): void
}

const rawWires = new WeakMap<TcpConnection, RawWire>()

export function rawWire(conn: TcpConnection): RawWire {
  return rawWires.get(conn) as RawWire
}

export function registerRawWire(conn: TcpConnection, socket: Socket, sender: RecordCipher): void {
  rawWires.set(conn, {
    writeRaw: (bytes) => void socket.write(bytes),
    writeSealed: (plaintext) => {
      const sealed = sender.seal([plaintext], plaintext.length)
      const write = (chunks: Uint8Array[]) => {
        for (const c of chunks) socket.write(c)
      }
      if (Array.isArray(sealed)) write(sealed)
      else void sealed.then(write)
    },
  })
}
