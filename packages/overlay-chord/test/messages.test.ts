import { ProtocolError } from '@peerkit/core'
import { validate } from '@peerkit/core/wire'
import test from 'ava'
import { CHORD_PROTOCOL } from '../src/index.js'
import { wireRef } from '../src/messages.js'

const peer = { id: 'a'.repeat(43), addresses: ['memory://a'] }

test('requests of every kind validate; unknown kinds and bad fields do not', (t) => {
  const ok = [
    { type: 'find_successor', key: '00ff' },
    { type: 'find_successor', key: '00ff', max: 1 },
    { type: 'find_successor', key: '00ff', max: 64 },
    { type: 'get_predecessor' },
    { type: 'notify', node: peer },
    { type: 'ping' },
    { type: 'stabilize' },
    { type: 'store', records: [] },
    { type: 'replicate', records: [], ttls: [] },
    { type: 'remove', hashes: ['0'.repeat(64)] },
    { type: 'get', hash: '0'.repeat(64) },
    { type: 'search', query: { keywords: ['x'], limit: 3 } },
    { type: 'leave', predecessor: null, successors: [peer] },
  ]
  for (const m of ok) t.notThrows(() => validate(CHORD_PROTOCOL.request, m, 'chord request'), m.type)
  const bad = [
    { type: 'find_successor', key: 'XYZ' },
    { type: 'find_successor', key: 'f'.repeat(65) },
    { type: 'find_successor', key: '00ff', max: 0 },
    { type: 'find_successor', key: '00ff', max: 65 },
    { type: 'find_successor', key: '00ff', max: 1.5 },
    { type: 'teleport' },
    { type: 'notify', node: { id: 'short', addresses: [] } },
    { type: 'store', records: [{ hash: '0'.repeat(64) }] },
    { type: 'get', hash: 'nope' },
    { type: 'search', query: { keywords: ['x'], hash: '0'.repeat(64) } },
    { type: 'leave', predecessor: null, successors: Array(65).fill(peer) },
    'find_successor',
  ]
  for (const m of bad)
    t.throws(() => validate(CHORD_PROTOCOL.request, m, 'chord request'), { instanceOf: ProtocolError })
})

test('responses validate; a step needs at least one node', (t) => {
  t.notThrows(() => validate(CHORD_PROTOCOL.response, { type: 'step', done: true, nodes: [peer] }, 'r'))
  t.notThrows(() =>
    validate(CHORD_PROTOCOL.response, { type: 'neighbors', predecessor: null, successors: [] }, 'r'),
  )
  t.throws(() => validate(CHORD_PROTOCOL.response, { type: 'step', done: true, nodes: [] }, 'r'), {
    name: 'ProtocolError',
  })
  t.throws(() => validate(CHORD_PROTOCOL.response, { type: 'records', records: [{}] }, 'r'), {
    name: 'ProtocolError',
  })
  // version 2: records travel signed, search is answered with records
  t.throws(() => validate(CHORD_PROTOCOL.response, { type: 'hits', hits: [] }, 'r'), {
    name: 'ProtocolError',
  })
  t.is(CHORD_PROTOCOL.name, 'peerkit/chord/3')
})

test('a ref travels as it is with up to 16 addresses, else as a copy cut to 16', (t) => {
  const few = { id: 'p', addresses: ['memory://a', 'memory://b'] }
  t.is(wireRef(few), few)
  const many = { id: 'q', addresses: Array.from({ length: 40 }, (_, i) => `memory://q${i}`) }
  const cut = wireRef(many)
  t.not(cut, many)
  t.deepEqual(cut, { id: 'q', addresses: many.addresses.slice(0, 16) })
  t.is(many.addresses.length, 40, 'the ref itself is left whole')
})
