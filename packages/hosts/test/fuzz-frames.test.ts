import { encodeFrame, FRAME_HEADER_SIZE, FrameDecoder, frameHeader } from '@peerkit/core/wire'
import test from 'ava'
import fc from 'fast-check'
import { PARAMS } from './helpers/fuzz.js'

const MAX = 4096
/** Random bytes, or a plausible header (some sizes past the maximum) with random bytes after it. */
const chunk = fc.oneof(
  fc.uint8Array({ maxLength: 700 }),
  fc
    .tuple(fc.nat(MAX + 300), fc.uint8Array({ maxLength: 700 }))
    .map(([size, body]) => Buffer.concat([frameHeader(size), body])),
)

test('FrameDecoder: random byte chunks give frames no larger than the maximum, or a clean ProtocolError; what it holds stays bounded', (t) => {
  let frames = 0
  let errors = 0
  fc.assert(
    fc.property(fc.array(chunk, { maxLength: 12 }), (chunks) => {
      const d = new FrameDecoder(MAX)
      try {
        for (const c of chunks) {
          for (const f of d.push(c)) {
            if (f.length > MAX) return false
            frames++
          }
          // Never more than one incomplete frame and its header.
          if (d.pending > MAX + FRAME_HEADER_SIZE + 700) return false
        }
      } catch (err) {
        errors++
        return (err as Error).name === 'ProtocolError'
      }
      return true
    }),
    PARAMS,
  )
  t.true(frames > 0 && errors > 0, `both outcomes were reached (${frames} frames, ${errors} errors)`)
})

test('FrameDecoder: valid frames split at any points come out whole and in order', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }),
      fc.array(fc.nat(), { maxLength: 10 }),
      (bodies, cuts) => {
        const stream = Buffer.concat(bodies.map((b) => encodeFrame(b)))
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b)
        const d = new FrameDecoder(MAX)
        const out: Uint8Array[] = []
        let from = 0
        for (const p of [...points, stream.length]) {
          out.push(...d.push(stream.subarray(from, p)))
          from = p
        }
        return (
          d.pending === 0 &&
          out.length === bodies.length &&
          out.every((f, i) => Buffer.compare(Buffer.from(f), Buffer.from(bodies[i] as Uint8Array)) === 0)
        )
      },
    ),
    PARAMS,
  )
  t.pass()
})

test('FrameDecoder: an oversized frame is refused from its header, before any body is buffered', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: MAX + 1, max: 2 ** 32 - 1 }),
      fc.uint8Array({ maxLength: 100 }),
      (size, tail) => {
        const d = new FrameDecoder(MAX)
        try {
          d.push(Buffer.concat([frameHeader(size), tail]))
          return false
        } catch (err) {
          return (err as Error).name === 'ProtocolError' && /exceeds the maximum/.test((err as Error).message)
        }
      },
    ),
    PARAMS,
  )
  t.pass()
})

test('FrameDecoder: a flood of bytes never grows memory past one frame', (t) => {
  const d = new FrameDecoder(1024 * 1024)
  const before = process.memoryUsage().arrayBuffers
  // A 1 MiB frame announced, then 64 MiB of bytes in 64 KiB pieces: each frame is released as it completes.
  const piece = new Uint8Array(64 * 1024)
  const frame = frameHeader(1024 * 1024 - FRAME_HEADER_SIZE)
  let frames = 0
  let peak = 0
  for (let i = 0; i < 1024; i++) {
    if (i % 16 === 0) frames += d.push(frame).length
    frames += d.push(i % 16 === 15 ? piece.subarray(FRAME_HEADER_SIZE) : piece).length
    peak = Math.max(peak, d.pending)
  }
  t.true(peak <= 1024 * 1024, `held at most one frame (peak ${peak})`)
  t.true(frames >= 60)
  t.true(process.memoryUsage().arrayBuffers - before < 64 * 1024 * 1024, 'the stream was not kept')
})
