import { ProtocolError } from '@peerkit/core'

/** Header byte of the last (or only) fragment of a message. */
export const LAST = 0x00
/** Header byte of a fragment that more fragments of the same message follow. */
export const MORE = 0x01
/**
 * A 1-byte data channel message that says "I am closing; nothing follows".
 * It travels in order with the data, so the remote knows it got everything
 * even if the channel's close callback overtakes the last messages.
 */
export const CLOSE = 0x02
/** Bytes of header before each fragment's payload. */
export const FRAGMENT_HEADER_SIZE = 1

/**
 * Cuts a message into data channel messages of at most `size` payload bytes,
 * each behind a 1-byte header (`MORE`, …, `LAST`). The pieces are copies:
 * the caller may reuse `data` at once. An empty message is one `LAST` header.
 */
export function fragment(data: Uint8Array, size: number): Uint8Array[] {
  const pieces: Uint8Array[] = []
  let offset = 0
  do {
    const end = Math.min(data.byteLength, offset + size)
    const piece = new Uint8Array(FRAGMENT_HEADER_SIZE + end - offset)
    piece[0] = end === data.byteLength ? LAST : MORE
    piece.set(data.subarray(offset, end), FRAGMENT_HEADER_SIZE)
    pieces.push(piece)
    offset = end
  } while (offset < data.byteLength)
  return pieces
}

/**
 * Puts fragments back together. `push` returns the completed message, or
 * `undefined` while more are expected; it throws `ProtocolError` for a piece
 * without a valid header and as soon as a message grows past `maxSize`,
 * before buffering that piece.
 */
export class Reassembler {
  private parts: Uint8Array[] = []
  private size = 0

  constructor(private readonly maxSize: number) {}

  /** Bytes held for an incomplete message. */
  get pending(): number {
    return this.size
  }

  push(piece: Uint8Array): Uint8Array | undefined {
    if (piece.byteLength < FRAGMENT_HEADER_SIZE) throw new ProtocolError('empty data channel message')
    const header = piece[0]
    if (header !== LAST && header !== MORE) {
      throw new ProtocolError(`bad fragment header 0x${(header as number).toString(16).padStart(2, '0')}`)
    }
    const payload = piece.subarray(FRAGMENT_HEADER_SIZE)
    if (this.size + payload.byteLength > this.maxSize) {
      throw new ProtocolError(
        `message of more than ${this.size + payload.byteLength} bytes exceeds the maximum of ${this.maxSize}`,
      )
    }
    if (header === MORE) {
      this.parts.push(payload)
      this.size += payload.byteLength
      return undefined
    }
    if (this.parts.length === 0) return payload
    this.parts.push(payload)
    const out = new Uint8Array(this.size + payload.byteLength)
    let offset = 0
    for (const part of this.parts) {
      out.set(part, offset)
      offset += part.byteLength
    }
    this.parts = []
    this.size = 0
    return out
  }

  /** Drops what is held. */
  clear(): void {
    this.parts = []
    this.size = 0
  }
}
