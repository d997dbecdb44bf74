import '@peerkit/transport-memory'
import '@peerkit/index-memory'
import type { TestClock } from '@peerkit/compliance'
import { defineProtocol } from '@peerkit/core'
import test from 'ava'
import { z } from 'zod'
import { CHORD_PROTOCOL } from '../src/index.js'
import {
  clockOf,
  FAST,
  rawPeer,
  ringIsCorrect,
  SETTLE,
  signedFor,
  startRing,
  type TestNode,
  until,
} from './helpers/ring.js'

test('lying and malformed requests get a ProtocolError and change nothing', async (t) => {
  const nodes = await startRing(t, 3, { chord: FAST, virtual: true })
  await until(() => ringIsCorrect(nodes), SETTLE, 'the ring to stabilise', clockOf(nodes))
  const target = nodes[0] as (typeof nodes)[0]
  const other = nodes[1] as (typeof nodes)[0]
  const { network: raw, identity } = await rawPeer(t, { parent: (nodes[0] as TestNode).parent })
  const to = target.network.self()
  const before = target.overlay.routing.predecessor?.id

  // notify on behalf of another node
  await t.throwsAsync(raw.request(to, CHORD_PROTOCOL, { type: 'notify', node: other.network.self() }), {
    name: 'ProtocolError',
    message: /notified on behalf of/,
  })
  t.is(target.overlay.routing.predecessor?.id, before)

  // store a record whose provider is someone else: all refused, none applied
  const clock = clockOf(nodes) as TestClock
  const expires = clock.now() + 10_000
  const mine = signedFor(identity, raw.self(), 'mine.txt', expires)
  const forged = { ...signedFor(identity, raw.self(), 'forged.txt', expires), provider: other.network.self() }
  await t.throwsAsync(raw.request(to, CHORD_PROTOCOL, { type: 'store', records: [mine, forged] }), {
    name: 'ProtocolError',
    message: /record of provider/,
  })
  t.is(target.overlay.stats().records, 0)

  // a key beyond 2^m, and a replicate whose lists disagree
  await t.throwsAsync(raw.request(to, CHORD_PROTOCOL, { type: 'find_successor', key: 'f'.repeat(64) }), {
    name: 'ProtocolError',
  })
  await t.throwsAsync(raw.request(to, CHORD_PROTOCOL, { type: 'replicate', records: [mine], ttls: [] }), {
    name: 'ProtocolError',
  })
  t.is(target.overlay.stats().records, 0)

  // a message outside the schema closes the connection; the node goes on
  const loose = defineProtocol(CHORD_PROTOCOL.name, z.unknown(), z.unknown())
  const err = await t.throwsAsync(raw.request(to, loose, { type: 'teleport', to: 'mars' }))
  t.true(['ProtocolError', 'PeerUnreachableError'].includes(err?.name as string), err?.name)
  await until(() => !raw.isConnected(target.network.peerId), 2000, 'the connection to close', clock)
  const answer = await raw.request(to, CHORD_PROTOCOL, { type: 'ping' })
  t.deepEqual(answer, { type: 'ok' })

  // an honest store from the same peer works
  await raw.request(to, CHORD_PROTOCOL, { type: 'store', records: [mine] })
  t.is(target.overlay.stats().records, 1)
})

test('a peer that does not speak chord is dropped from lookups, not trusted', async (t) => {
  const nodes = await startRing(t, 4, { chord: FAST, virtual: true })
  await until(() => ringIsCorrect(nodes), SETTLE, 'the ring to stabilise', clockOf(nodes))
  const { network: raw } = await rawPeer(t, { parent: (nodes[0] as TestNode).parent })
  const node = nodes[0] as (typeof nodes)[0]
  // a node that answers nothing of chord
  const joining = node.overlay.routing.join([node.overlay.routing.node(raw.self())])
  await t.throwsAsync((clockOf(nodes) as TestClock).settle(joining), {
    name: 'PeerUnreachableError',
    message: /lookup .* failed/,
  })
})
