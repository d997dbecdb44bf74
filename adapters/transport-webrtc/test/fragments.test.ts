import test from 'ava'
import fc from 'fast-check'
import { FRAGMENT_HEADER_SIZE, fragment, LAST, MORE, Reassembler } from '../src/fragments.js'

test('fragment cuts a message into pieces of at most `size` bytes, the last one marked LAST', (t) => {
  const data = new Uint8Array(10).map((_, i) => i)
  const pieces = fragment(data, 4)
  t.deepEqual(
    pieces.map((p) => [...p]),
    [
      [MORE, 0, 1, 2, 3],
      [MORE, 4, 5, 6, 7],
      [LAST, 8, 9],
    ],
  )
  t.deepEqual([...(fragment(new Uint8Array(0), 4)[0] as Buffer)], [LAST])
})

test('fragment copies: the caller may reuse its buffer', (t) => {
  const data = new Uint8Array([1, 2, 3])
  const [piece] = fragment(data, 16)
  data.fill(0)
  t.deepEqual([...(piece as Buffer).subarray(FRAGMENT_HEADER_SIZE)], [1, 2, 3])
})

test('reassembling the fragments of any messages gives them back, in order', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }),
      fc.integer({ min: 1, max: 64 }),
      (messages, size) => {
        const r = new Reassembler(1000)
        const out: Uint8Array[] = []
        for (const m of messages) {
          for (const piece of fragment(m, size)) {
            const done = r.push(piece)
            if (done) out.push(done)
          }
        }
        t.deepEqual(
          out.map((m) => [...m]),
          messages.map((m) => [...m]),
        )
        t.is(r.pending, 0)
      },
    ),
  )
})

test('a bad header, an empty piece or an oversized message is a ProtocolError', (t) => {
  t.throws(() => new Reassembler(100).push(new Uint8Array([0x02, 1])), { name: 'ProtocolError' })
  t.throws(() => new Reassembler(100).push(new Uint8Array(0)), { name: 'ProtocolError' })
  const r = new Reassembler(10)
  t.is(r.push(new Uint8Array([MORE, 1, 2, 3, 4, 5, 6])), undefined)
  t.throws(() => r.push(new Uint8Array([LAST, 7, 8, 9, 10, 11])), {
    name: 'ProtocolError',
    message: /maximum of 10/,
  })
  // Exactly the maximum is fine.
  const ok = new Reassembler(10)
  ok.push(new Uint8Array([MORE, 1, 2, 3, 4, 5]))
  t.is(ok.push(new Uint8Array([LAST, 6, 7, 8, 9, 10]))?.byteLength, 10)
})
