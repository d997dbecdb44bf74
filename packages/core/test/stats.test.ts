import test from 'ava'
import { MAX_COUNTED_KINDS, MessageCounter, OTHER_KIND } from '../src/stats.js'

test('a counter counts each kind sent and received, and gives them by kind with their totals', (t) => {
  const a = new MessageCounter()
  t.deepEqual(a.snapshot({ peers: 3 }), { peers: 3, sent: {}, received: {} })
  a.sent('ping')
  a.sent('ping')
  a.sent('query', 5)
  a.received('pong')
  t.deepEqual(a.snapshot(), { sent: { ping: 2, query: 5 }, received: { pong: 1 } })
  t.is(a.totalSent(), 7)
  t.is(a.totalReceived(), 1)
  // Another counter that saw the kinds in another order keeps its own counts, and only the kinds it counted.
  const b = new MessageCounter()
  b.received('query')
  b.received('ping', 0)
  t.deepEqual(b.snapshot(), { sent: {}, received: { query: 1, ping: 0 } })
  t.is(b.totalReceived(), 1)
  t.deepEqual(a.snapshot().sent, { ping: 2, query: 5 }, 'the first counter is unchanged')
})

test('past MAX_COUNTED_KINDS kinds in the process, a new kind is counted under OTHER_KIND: the table stays bounded', (t) => {
  const c = new MessageCounter()
  for (let i = 0; i < MAX_COUNTED_KINDS + 500; i++) c.sent(`kind-${i}`)
  const sent = c.snapshot().sent as Record<string, number>
  t.true(Object.keys(sent).length <= MAX_COUNTED_KINDS, `${Object.keys(sent).length} kinds`)
  t.true((sent[OTHER_KIND] ?? 0) > 500, 'the kinds past the bound went to other')
  t.is(c.totalSent(), MAX_COUNTED_KINDS + 500, 'none was lost')
  t.is(sent['kind-0'], 1, 'a kind counted before the bound keeps its own count')
  c.sent('kind-0')
  t.is((c.snapshot().sent as Record<string, number>)['kind-0'], 2)
})
