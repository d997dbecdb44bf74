import { ProtocolError } from '@peerkit/core'
import { FRAME_HEADER_SIZE } from '@peerkit/core/wire'
import { Deque } from './deque.js'

/**
 * Splits a byte stream into length-prefixed frames (`u32 length ‖ body`):
 * the socket's stream into records, and the decrypted stream into messages.
 * A frame that sits inside one chunk is handed over as a view of it; one that
 * spans chunks is gathered into a new buffer, or, with `reuse`, into a scratch
 * buffer that serves again for the next frame (so reading records costs no
 * allocation). Chunks wait in a deque, so a
 * record trickled in byte by byte costs linear time, not quadratic. A length above `maxBody` throws
 * `ProtocolError` before any of that record is buffered.
 */
export class FrameReader {
  private readonly chunks = new Deque<Uint8Array>()
  private buffered = 0
  private need = -1
  private scratch: Uint8Array | undefined

  constructor(
    private readonly maxBody: number,
    /** Gather into one reused scratch buffer: a body is then valid only during its callback. */
    private readonly reuse = false,
    /** What a frame is called in error messages. */
    private readonly what = 'frame',
  ) {}

  /** Bytes held for an incomplete record. */
  get pending(): number {
    return this.buffered
  }

  /** Bytes held for an incomplete record, and the scratch buffer kept for the next. */
  get retained(): number {
    return this.buffered + (this.scratch?.length ?? 0)
  }

  /**
   * Adds a chunk and calls `onFrame` for every frame it completes, in order
   * (with `reuse`, `body` is valid only during the call). Stops early when
   * `onFrame` returns false; the rest waits for the next push.
   */
  push(chunk: Uint8Array, onFrame: (body: Uint8Array) => boolean): void {
    if (chunk.length > 0) {
      this.chunks.push(chunk)
      this.buffered += chunk.length
    }
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < FRAME_HEADER_SIZE) return
        const header = this.take(FRAME_HEADER_SIZE, false)
        const size = new DataView(header.buffer, header.byteOffset, FRAME_HEADER_SIZE).getUint32(0)
        if (size > this.maxBody) {
          throw new ProtocolError(`${this.what} of ${size} bytes exceeds the maximum of ${this.maxBody}`)
        }
        this.need = size
      }
      if (this.buffered < this.need) return
      const body = this.take(this.need, true)
      this.need = -1
      if (!onFrame(body)) return
    }
  }

  /** `n` bytes; `body` frames may go to the scratch buffer, headers never do. */
  private take(n: number, body: boolean): Uint8Array {
    const first = this.chunks.first()
    if (first && first.length >= n) {
      const out = first.subarray(0, n)
      if (first.length === n) this.chunks.shift()
      else this.chunks.replaceFirst(first.subarray(n))
      this.buffered -= n
      return out
    }
    let out: Uint8Array
    if (!body) {
      out = Buffer.allocUnsafe(n)
    } else if (this.reuse) {
      if (!this.scratch || this.scratch.length < n)
        this.scratch = Buffer.allocUnsafeSlow(Math.max(n, 64 * 1024))
      out = this.scratch.subarray(0, n)
    } else {
      out = Buffer.allocUnsafeSlow(n)
    }
    let off = 0
    while (off < n) {
      const c = this.chunks.first() as Uint8Array
      const k = Math.min(c.length, n - off)
      out.set(k === c.length ? c : c.subarray(0, k), off)
      off += k
      if (k === c.length) this.chunks.shift()
      else this.chunks.replaceFirst(c.subarray(k))
    }
    this.buffered -= n
    return out
  }
}
