import { SeededRandom } from '@peerkit/core'
import { decode, encode, validate } from '@peerkit/core/wire'
import test from 'ava'
import { FLOODING, type FloodingMessage, MAX_HITS_PER_MESSAGE, newQueryId } from '../src/index.js'

const HASH = 'ab'.repeat(32)
const PEER = 'A'.repeat(43)
const ID = '0f'.repeat(16)
const hit = {
  hash: HASH,
  name: 'Harry.Potter.mkv',
  size: 10,
  chunkSize: 65536,
  providers: [{ id: PEER, addresses: [] }],
}

function roundTrip(msg: unknown): FloodingMessage {
  return validate(FLOODING.request, decode(encode(msg)), 'flooding message')
}

test('the protocol is peerkit/flooding/1', (t) => {
  t.is(FLOODING.name, 'peerkit/flooding/1')
})

test('every message kind survives the wire and its schema', (t) => {
  const msgs: FloodingMessage[] = [
    { kind: 'ping', join: true, addresses: ['tcp://127.0.0.1:4001'], degree: 3 },
    { kind: 'query', id: ID, ttl: 3, hops: 1, query: { keywords: ['harry', 'potter'], limit: 5 } },
    { kind: 'query', id: ID, ttl: 1, hops: 0, query: { hash: HASH } },
    { kind: 'hit', id: ID, hops: 2, hits: [hit] },
    { kind: 'bye', reason: 'leaving' },
  ]
  for (const m of msgs) t.deepEqual(roundTrip(m), m)
  const pong = {
    kind: 'pong',
    accepted: false,
    addresses: [],
    peers: [{ id: PEER, addresses: ['memory://x'] }],
  }
  t.deepEqual(validate(FLOODING.response, decode(encode(pong)), 'pong'), pong)
})

test('malformed messages are ProtocolErrors naming the problem', (t) => {
  const bad: [unknown, RegExp][] = [
    [{ kind: 'shout' }, /invalid flooding message/],
    [{ kind: 'query', id: 'xyz', ttl: 3, hops: 0, query: { keywords: ['a'] } }, /at id/],
    [{ kind: 'query', id: ID, ttl: 0, hops: 0, query: { keywords: ['a'] } }, /at ttl/],
    [{ kind: 'query', id: ID, ttl: 200, hops: 0, query: { keywords: ['a'] } }, /at ttl/],
    [
      { kind: 'query', id: ID, ttl: 2, hops: 0, query: { keywords: ['a'], hash: HASH } },
      /keywords or a hash/,
    ],
    [{ kind: 'hit', id: ID, hops: 0, hits: [] }, /at hits/],
    [{ kind: 'hit', id: ID, hops: 0, hits: Array(MAX_HITS_PER_MESSAGE + 1).fill(hit) }, /at hits/],
    [{ kind: 'ping', join: 'yes', addresses: [], degree: 0 }, /at join/],
  ]
  for (const [msg, message] of bad) {
    t.throws(() => roundTrip(msg), { name: 'ProtocolError', message }, JSON.stringify(msg).slice(0, 60))
  }
})

test('query ids are 32 hex digits, fresh each time, and reproducible from a seed', (t) => {
  const a = new SeededRandom(7)
  const b = new SeededRandom(7)
  const ids = Array.from({ length: 100 }, () => newQueryId(a))
  t.true(ids.every((id) => /^[0-9a-f]{32}$/.test(id)))
  t.is(new Set(ids).size, 100)
  t.is(newQueryId(b), ids[0] as string)
})
