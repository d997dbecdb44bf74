import { TestClock } from '@peerkit/compliance'
import type { Hit, PeerRef } from '@peerkit/core'
import test from 'ava'
import { SearchSession } from '../src/index.js'

const h = (n: number, ...providers: string[]): Hit => ({
  hash: n.toString(16).padStart(64, '0'),
  name: `file-${n}`,
  size: n,
  chunkSize: 65536,
  providers: providers.map((id) => ({ id, addresses: [] })),
})

test('merges hits by hash and reports each new provider once', (t) => {
  const seen: [string, string[]][] = []
  const s = new SearchSession('hits', undefined, (hit, added) =>
    seen.push([hit.name, added.map((p) => p.id)]),
  )
  s.add([h(1, 'a')], 2)
  s.add([h(1, 'a', 'b'), h(2, 'c')], 3)
  s.add([h(1, 'b')], 1)
  t.deepEqual(seen, [
    ['file-1', ['a']],
    ['file-1', ['b']],
    ['file-2', ['c']],
  ])
  t.is(s.count, 2)
})

test('the provider count drives providers mode; hits keep the first hop count', (t) => {
  const hits: Hit[] = []
  const s = new SearchSession('providers', undefined, (hit) => hits.push(hit))
  s.add([h(1, 'a', 'b')], 4)
  s.add([h(1, 'c')], 1)
  t.is(s.count, 3)
  t.is(hits.at(-1)?.hops, 4)
  t.deepEqual(
    hits.at(-1)?.providers.map((p: PeerRef) => p.id),
    ['a', 'b', 'c'],
  )
})

test('never reports more distinct files than the limit', (t) => {
  const names: string[] = []
  const s = new SearchSession('hits', 2, (hit) => names.push(hit.name))
  s.add([h(1, 'a'), h(2, 'a'), h(3, 'a')], 1)
  s.add([h(2, 'b')], 1)
  t.true(s.atLimit)
  t.deepEqual(names, ['file-1', 'file-2', 'file-2'])
})

test('wait() ends at the target, at the timeout or on abort, whichever is first', async (t) => {
  const clock = new TestClock()
  const s = new SearchSession('hits', undefined, () => {})
  const ac = new AbortController()
  let done = false
  const w = s.wait(clock, 2, 1000, ac.signal).then(() => {
    done = true
  })
  s.add([h(1, 'a')], 1)
  await Promise.resolve()
  t.false(done)
  s.add([h(2, 'a')], 1)
  await w
  t.is(clock.pending, 0, 'its timer is cleared')

  const timedOut = s.wait(clock, 5, 1000, ac.signal)
  await clock.advance(1000)
  await timedOut
  const aborted = s.wait(clock, 5, 1000, ac.signal)
  ac.abort()
  await aborted
  t.is(clock.pending, 0)
  await s.wait(clock, 1, 1000, ac.signal)
  t.pass()
})

test('providers counts the providers summed over the files', (t) => {
  const s = new SearchSession('hits', undefined, () => {})
  s.add([h(1, 'a')], 1)
  t.is(s.providers, 1)
  s.add([h(1, 'a', 'b'), h(2, 'a')], 2)
  t.is(s.providers, 3)
  t.is(s.count, 2)
})
