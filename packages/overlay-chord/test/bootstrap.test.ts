import '@peerkit/transport-memory'
import '@peerkit/index-memory'
import type { TestClock } from '@peerkit/compliance'
import { collect, type OverlayConnectivity, overlayConnectivity } from '@peerkit/core'
import test from 'ava'
import {
  FAST,
  recordFor,
  ringIsCorrect,
  SETTLE,
  startNode,
  startRing,
  until,
  virtualParent,
} from './helpers/ring.js'

test('a node started before its bootstrap retries with backoff, says so, and joins once the bootstrap appears', async (t) => {
  const { clock, parent } = virtualParent()
  const address = `memory://chord-late-bootstrap-${process.pid}`
  const early = await startNode(t, {
    transport: 'memory',
    listen: [`memory://chord-early-${process.pid}`],
    bootstrap: [address],
    chord: { ...FAST, bootstrapRetryMax: 8000 },
    parent,
  })
  const states: OverlayConnectivity[] = []
  early.overlay.on('connectivity', (c) => states.push(c))
  let c = early.overlay.connectivity()
  t.is(c.state, 'bootstrapping', 'it started anyway, as a ring of one')
  t.is(c.retries, 1)
  t.regex(c.reason ?? '', /could not join/)
  // It publishes while alone; the record waits on this node for the ring.
  const record = recordFor(early.network.self(), 'Early.Bird.Notes.txt')
  await early.overlay.publish([record])
  // Backoff: retries after 1, 2, 4, 8, 8 … seconds (bootstrapRetryMax 8000), not every stabilize round.
  await (clock as TestClock).advance(30_000)
  c = early.overlay.connectivity()
  t.is(c.state, 'bootstrapping')
  t.true((c.retries ?? 0) >= 5 && (c.retries ?? 0) <= 7, `${c.retries} retries in 30 s`)
  const first = await startNode(t, { transport: 'memory', listen: [address], chord: FAST, parent })
  const nodes = [early, first]
  await until(() => ringIsCorrect(nodes), SETTLE, 'the early node to join once the bootstrap is up', clock)
  t.is(overlayConnectivity(early.overlay).state, 'connected')
  t.is(early.overlay.connectivity().neighbors, 1)
  t.is(states.at(-1)?.state, 'connected', 'a connectivity event said so')
  const found = await clock.settle(collect(first.overlay.search({ keywords: ['bird'] })))
  t.deepEqual(
    found.map((h) => h.name),
    [record.name],
    'what it published while alone is found from the ring',
  )
})

test('the first node of a ring, with no bootstrap address, is isolated until a node joins it', async (t) => {
  const nodes = await startRing(t, 1, { chord: FAST, virtual: true })
  const [first] = nodes as [(typeof nodes)[0]]
  t.is(first.overlay.connectivity().state, 'isolated')
  const second = await startNode(t, {
    transport: 'memory',
    listen: [`memory://chord-second-${process.pid}`],
    bootstrap: first.network.addresses(),
    chord: FAST,
    parent: first.parent,
  })
  await until(() => ringIsCorrect([first, second]), SETTLE, 'the ring of two', first.clock)
  t.is(first.overlay.connectivity().state, 'connected')
})

test('a provider that leaves is no longer listed: it withdraws its records as it stops', async (t) => {
  const nodes = await startRing(t, 8, { chord: FAST, virtual: true })
  const clock = nodes[0]?.clock as TestClock
  await until(() => ringIsCorrect(nodes), SETTLE, 'the ring to stabilise', clock)
  const [alice, bob, carol] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]]
  const film = recordFor(alice.network.self(), 'Leaving.Film.mkv')
  await alice.overlay.publish([film])
  await bob.overlay.publish([{ ...film, provider: bob.network.self() }])
  const providers = async () =>
    (await clock.settle(collect(carol.overlay.providers(film.hash)))).map((p) => p.id).sort()
  t.deepEqual(await providers(), [alice.network.peerId, bob.network.peerId].sort())
  const stoppedAt = clock.now()
  await alice.stop()
  t.deepEqual(await providers(), [bob.network.peerId], 'gone right after it stopped')
  const hits = await clock.settle(collect(carol.overlay.search({ keywords: ['leaving'] })))
  t.deepEqual(
    hits.flatMap((h) => h.providers.map((p) => p.id)),
    [bob.network.peerId],
  )
  t.true(clock.now() - stoppedAt < 2 * (FAST.rpcTimeout ?? 0), 'well before recordTtl')
})
