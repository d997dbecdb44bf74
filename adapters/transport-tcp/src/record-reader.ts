import { FRAME_HEADER_SIZE, ProtocolError } from '@peerkit/core'

/**
 * Splits the socket's byte stream into records (`u32 length ‖ body`). A
 * record that sits inside one chunk is handed over as a view of it; one that
 * spans chunks is gathered into a scratch buffer that is reused for the next
 * record, so reading costs no allocation. A length above `maxBody` throws
 * `ProtocolError` before any of that record is buffered.
 */
export class RecordReader {
  private chunks: Uint8Array[] = []
  private buffered = 0
  private need = -1
  private scratch: Uint8Array | undefined

  constructor(private readonly maxBody: number) {}

  /** Bytes held for an incomplete record. */
  get pending(): number {
    return this.buffered
  }

  /**
   * Adds a chunk and calls `onRecord` for every record it completes, in
   * order. `body` is valid only during the call (it may be the scratch buffer).
   * Stops early when `onRecord` returns false.
   */
  push(chunk: Uint8Array, onRecord: (body: Uint8Array) => boolean): void {
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
          throw new ProtocolError(`record of ${size} bytes exceeds the maximum of ${this.maxBody}`)
        }
        this.need = size
      }
      if (this.buffered < this.need) return
      const body = this.take(this.need, true)
      this.need = -1
      if (!onRecord(body)) return
    }
  }

  private take(n: number, useScratch: boolean): Uint8Array {
    const first = this.chunks[0]
    if (first && first.length >= n) {
      const out = first.subarray(0, n)
      if (first.length === n) this.chunks.shift()
      else this.chunks[0] = first.subarray(n)
      this.buffered -= n
      return out
    }
    let out: Uint8Array
    if (useScratch) {
      if (!this.scratch || this.scratch.length < n)
        this.scratch = Buffer.allocUnsafeSlow(Math.max(n, 64 * 1024))
      out = this.scratch.subarray(0, n)
    } else {
      out = new Uint8Array(n)
    }
    let off = 0
    while (off < n) {
      const c = this.chunks[0] as Uint8Array
      const k = Math.min(c.length, n - off)
      out.set(k === c.length ? c : c.subarray(0, k), off)
      off += k
      if (k === c.length) this.chunks.shift()
      else this.chunks[0] = c.subarray(k)
    }
    this.buffered -= n
    return out
  }
}
