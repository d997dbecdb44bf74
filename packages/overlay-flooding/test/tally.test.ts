import test from 'ava'
import { Tally } from '../src/tally.js'

test('stats: messages by kind, only the kinds counted, beside the figures (as MessageCounter gives them)', (t) => {
  const tally = new Tally()
  t.deepEqual(tally.snapshot({ neighbors: 0 }), {
    neighbors: 0,
    duplicates: 0,
    throttled: 0,
    dropped: 0,
    evicted: 0,
    unanswered: 0,
    sent: {},
    received: {},
  })
  tally.sent('query')
  tally.sent('query')
  tally.sent('bye')
  tally.receivedPong++
  const s = tally.snapshot({}, { receivedQuery: 3, duplicates: 1, sentQuery: 4 })
  t.deepEqual(s.sent, { query: 6, bye: 1 }, 'the overlay’s own query counts are added to the tally’s')
  t.deepEqual(s.received, { query: 3, pong: 1 })
  t.is(s.duplicates, 1)
})
