import { ProtocolError } from '../errors.js'

/** Bytes of the big-endian length prefix before every frame on a byte stream. */
export const FRAME_HEADER_SIZE = 4

/** The 4-byte big-endian length prefix for a frame body of `length` bytes. */
export function frameHeader(length: number): Uint8Array {
  const header = new Uint8Array(FRAME_HEADER_SIZE)
  new DataView(header.buffer).setUint32(0, length)
  return header
}

/** One length-prefixed frame: header and body in one buffer. */
export function encodeFrame(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_SIZE + body.length)
  out.set(frameHeader(body.length))
  out.set(body, FRAME_HEADER_SIZE)
  return out
}

/**
 * Splits a byte stream into length-prefixed frames. `push` returns the frames
 * completed by a chunk; a frame announced larger than `maxSize` throws
 * `ProtocolError` before any of it is buffered.
 */
export class FrameDecoder {
  /** Chunks not yet consumed start at `head` (no `shift`: many small chunks cost O(1) each). */
  private chunks: Uint8Array[] = []
  private head = 0
  private buffered = 0
  private need = -1

  constructor(private readonly maxSize: number) {}

  /** Bytes held for an incomplete frame. */
  get pending(): number {
    return this.buffered
  }

  push(chunk: Uint8Array): Uint8Array[] {
    const frames: Uint8Array[] = []
    if (chunk.length > 0) {
      this.chunks.push(chunk)
      this.buffered += chunk.length
    }
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < FRAME_HEADER_SIZE) break
        const header = this.take(FRAME_HEADER_SIZE)
        const size = new DataView(header.buffer, header.byteOffset, FRAME_HEADER_SIZE).getUint32(0)
        if (size > this.maxSize) {
          throw new ProtocolError(`frame of ${size} bytes exceeds the maximum of ${this.maxSize}`)
        }
        this.need = size
      }
      if (this.buffered < this.need) break
      frames.push(this.take(this.need))
      this.need = -1
    }
    if (this.head === this.chunks.length) {
      this.chunks = []
      this.head = 0
    } else if (this.head > 64 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head)
      this.head = 0
    }
    return frames
  }

  /** Consumes `n` buffered bytes: a view into one chunk when it holds them all, else a copy. */
  private take(n: number): Uint8Array {
    const first = this.chunks[this.head]
    if (first && first.length >= n) {
      const out = first.subarray(0, n)
      this.consume(first, n)
      this.buffered -= n
      return out
    }
    const out = new Uint8Array(n)
    let off = 0
    while (off < n) {
      const c = this.chunks[this.head] as Uint8Array
      const k = Math.min(c.length, n - off)
      out.set(c.subarray(0, k), off)
      off += k
      this.consume(c, k)
    }
    this.buffered -= n
    return out
  }

  private consume(chunk: Uint8Array, k: number): void {
    if (k === chunk.length) this.chunks[this.head++] = EMPTY
    else this.chunks[this.head] = chunk.subarray(k)
  }
}

const EMPTY = new Uint8Array(0)
