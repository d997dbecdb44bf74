import { type Connection, type ConnectionEvents, RealClock } from '@peerkit/core'
import { decode, encode, envelopeSchema, Kind, Mux, validate } from '@peerkit/core/wire'
import test from 'ava'
import { EventEmitter } from 'eventemitter3'
import fc from 'fast-check'
import { junk, mutatedBytes, PARAMS } from './helpers/fuzz.js'

/** Envelopes as a peer would send them, with junk bodies and sometimes wrong kinds or ids. */
const envelope = fc.oneof(
  fc.tuple(fc.constant(Kind.Request), fc.nat(2 ** 32), fc.constantFrom('peerkit/chord/1', 'x', ''), junk),
  fc.tuple(fc.constant(Kind.Response), fc.nat(2 ** 32 + 5), junk),
  fc.tuple(
    fc.constant(Kind.Error),
    fc.nat(),
    fc.oneof(junk, fc.record({ name: fc.string(), message: fc.string() })),
  ),
  fc.tuple(fc.constant(Kind.Message), fc.constantFrom('peerkit/flooding/1', 'a'.repeat(200)), junk),
  // A draining close (GOAWAY) naming the last request read: often 0, the only id a fresh Mux may be told.
  fc.tuple(fc.constant(Kind.GoAway), fc.oneof(fc.constant(0), fc.nat(2 ** 32 + 5))),
  fc.tuple(fc.integer({ min: -2, max: 9 }), junk, junk),
)
const validBytes = envelope.map((e) => encode(e))
const hostileBytes = fc.oneof(fc.uint8Array({ maxLength: 200 }), validBytes, mutatedBytes(validBytes))

test('decode + envelope schema: any bytes give an envelope or a clean ProtocolError', (t) => {
  let ok = 0
  let refused = 0
  fc.assert(
    fc.property(hostileBytes, (bytes) => {
      try {
        validate(envelopeSchema, decode(bytes), 'envelope')
        ok++
      } catch (err) {
        refused++
        return (err as Error).name === 'ProtocolError'
      }
      return true
    }),
    PARAMS,
  )
  t.true(ok > 0 && refused > 0, `both outcomes were reached (${ok} accepted, ${refused} refused)`)
})

/** A Connection that records what the Mux does with it. */
class FakeConnection extends EventEmitter<ConnectionEvents> implements Connection {
  readonly id = 'fuzz'
  readonly remotePeer = 'tVXXu7FwONy6AoT3c9DX6IFXbm8OGgLC7f4Kc_zNR-w'
  readonly remoteAddress = 'memory://fuzz'
  readonly direction = 'inbound' as const
  closed = false
  reason: Error | undefined
  sent = 0
  async send(): Promise<void> {
    this.sent++
  }
  async close(err?: Error): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.reason = err
    this.emit('close', err)
  }
}

test('Mux: a hostile frame either reaches a handler or closes the connection with a ProtocolError (or cleanly, after a well-formed GOAWAY), never throws', (t) => {
  const clock = new RealClock()
  let delivered = 0
  let closed = 0
  let drained = 0
  fc.assert(
    fc.property(fc.array(hostileBytes, { minLength: 1, maxLength: 5 }), (frames) => {
      const conn = new FakeConnection()
      const mux = new Mux(conn, clock)
      mux.on('request', (_p, _b, reply) => {
        delivered++
        reply.respond(null)
      })
      mux.on('message', () => delivered++)
      for (const f of frames) {
        if (conn.closed) break
        conn.emit('message', f) // throws here would fail the property
      }
      if (conn.closed) {
        closed++
        // The remote's GOAWAY with nothing pending either way: the connection closes without an error.
        if (conn.reason === undefined && mux.goingAway) {
          drained++
          return true
        }
        return conn.reason?.name === 'ProtocolError'
      }
      return mux.inFlight === 0
    }),
    PARAMS,
  )
  t.true(
    delivered > 0 && closed > drained && drained > 0,
    `every outcome was reached (${delivered} delivered, ${closed} closed, ${drained} of them by a GOAWAY)`,
  )
})

test('decode: hostile input does not grow the heap without bound', (t) => {
  const runs = Math.min(PARAMS.numRuns * 4, 200_000)
  const sample = fc.sample(hostileBytes, { numRuns: 2000, seed: PARAMS.seed })
  globalThis.gc?.()
  const before = process.memoryUsage().heapUsed
  for (let i = 0; i < runs; i++) {
    try {
      decode(sample[i % sample.length] as Uint8Array)
    } catch {} // refused: what this test wants (it measures the heap, not the verdicts)
  }
  globalThis.gc?.()
  const grown = process.memoryUsage().heapUsed - before
  t.true(grown < 64 * 1024 * 1024, `heap grew by ${Math.round(grown / 1024)} KiB over ${runs} decodes`)
})
