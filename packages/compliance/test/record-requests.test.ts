import type { Network, Protocol } from '@peerkit/core'
import test from 'ava'
import { recordRequests } from '../src/index.js'

type Ask = { kind: 'ping'; n: number } | { kind: 'find'; key: string }
// Only the name: recordRequests tells protocols apart by it, and this network validates nothing.
const ASK = { name: 'peerkit/test-record/1' } as Protocol<Ask, { echo: unknown }>
const OTHER = { name: 'peerkit/test-other/1' } as Protocol<Ask, { echo: unknown }>

/** Only what recordRequests wraps: a `request` that answers with its body, or fails for key 'missing'. */
function answering(): Network {
  return {
    async request(_peer: unknown, _protocol: unknown, body: Ask) {
      if (body.kind === 'find' && body.key === 'missing') throw new Error('not found')
      return { echo: body }
    },
  } as unknown as Network
}

test('recordRequests logs the requests of one protocol and kind with their answers, and passes every call through', async (t) => {
  const network = answering()
  const pings = recordRequests(network, ASK, 'ping')
  t.deepEqual(await network.request('p1', ASK, { kind: 'ping', n: 1 }), { echo: { kind: 'ping', n: 1 } })
  await network.request('p2', ASK, { kind: 'find', key: 'k' })
  await network.request('p3', OTHER, { kind: 'ping', n: 3 })
  await network.request('p4', ASK, { kind: 'ping', n: 4 })
  t.deepEqual(
    pings.map((r) => [r.peer, r.body.n, r.answer]),
    [
      ['p1', 1, { echo: { kind: 'ping', n: 1 } }],
      ['p4', 4, { echo: { kind: 'ping', n: 4 } }],
    ],
  )
  const finds = recordRequests(network, ASK, 'find')
  await t.throwsAsync(network.request('p5', ASK, { kind: 'find', key: 'missing' }), { message: 'not found' })
  await network.request('p6', ASK, { kind: 'find', key: 'k6' })
  t.deepEqual(
    finds.map((r) => r.body.key),
    ['k6'],
    'a failed request is not logged; the error reaches the caller',
  )
  t.is(pings.length, 2, 'the first log still sees only pings')
})
