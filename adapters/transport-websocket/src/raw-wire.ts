import { concatBytes } from '@peerkit/core'
import type { RecordCipher } from '@peerkit/transport-tcp/secure'
import type { WireSocket } from './wire-socket.js'

/** Writes that bypass `send` and its checks, for tests that play a broken or hostile peer. Not exported by the package. */
export interface RawWire {
  /** One WebSocket message with these bytes, outside any record. */
  writeRaw(bytes: Uint8Array): void
  /** Bytes straight onto the TCP socket, around the WebSocket framing (Node only). */
  writeStream(bytes: Uint8Array): void
  /** `plaintext` sealed as the next record, whatever its size. */
  writeSealed(plaintext: Uint8Array): Promise<void>
}

const wires = new WeakMap<object, RawWire>()

export function rawWire(conn: object): RawWire {
  return wires.get(conn) as RawWire
}

export function registerRawWire(conn: object, socket: WireSocket, sender: RecordCipher): void {
  wires.set(conn, {
    writeRaw: (bytes) => socket.send(bytes),
    writeStream: (bytes) => {
      const raw = (socket as WireSocket & { raw?: { write(b: Uint8Array): void } }).raw
      if (!raw) throw new Error('writeStream needs a Node socket')
      raw.write(bytes)
    },
    writeSealed: async (plaintext) => {
      const sealed = sender.seal([plaintext], plaintext.length)
      socket.send(concatBytes(...(Array.isArray(sealed) ? sealed : await sealed)))
    },
  })
}
