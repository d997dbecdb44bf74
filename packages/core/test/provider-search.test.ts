import test from 'ava'
import type { PeerRef } from '../src/index.js'
import {
  keepLookingForProviders,
  PROVIDER_SEARCH_RETRY_MAX,
  PROVIDER_SEARCH_RETRY_MIN,
} from '../src/provider-search.js'
import { TestClock } from '../src/testing.js'

const ref = (id: string): PeerRef => ({ id, addresses: [`memory://${id}`] })

/**
 * A search like a supernode's: it ends after `lasts` virtual ms, yielding
 * `answers[n]` on the n-th call (nothing once the list runs out). Records when
 * each call started and with how much time left.
 */
function searches(clock: TestClock, answers: PeerRef[][], lasts = 1200) {
  const calls: { at: number; left: number }[] = []
  const search = async function* (left: number): AsyncGenerator<PeerRef> {
    const n = calls.length
    calls.push({ at: clock.now(), left })
    await new Promise<void>((r) => clock.setTimeout(r, Math.min(lasts, left)))
    yield* answers[n] ?? []
  }
  return { calls, search }
}

async function collect(clock: TestClock, it: AsyncIterable<PeerRef>, limit = 120_000): Promise<PeerRef[]> {
  const out: PeerRef[] = []
  await clock.settle(
    (async () => {
      for await (const r of it) out.push(r)
    })(),
    limit,
  )
  return out
}

test('a search that ended empty is made again after the backoff, and the provider found then is yielded', async (t) => {
  const clock = new TestClock()
  const { calls, search } = searches(clock, [[], [], [ref('p1')]])
  const found = await collect(clock, keepLookingForProviders(clock, search, 30_000))
  t.deepEqual(
    found.map((r) => r.id),
    ['p1'],
  )
  t.is(calls.length, 3, 'asked three times: twice empty, then found')
  // 1.2 s for each search, then the wait: 1 s, then 2 s.
  t.deepEqual(
    calls.map((c) => c.at),
    [0, 1200 + PROVIDER_SEARCH_RETRY_MIN, 2 * 1200 + 3 * PROVIDER_SEARCH_RETRY_MIN],
  )
  t.deepEqual(
    calls.map((c) => c.left),
    calls.map((c) => 30_000 - c.at),
    'each search gets what is left of the timeout',
  )
})

test('once a search yields a provider nothing more is asked', async (t) => {
  const clock = new TestClock()
  const { calls, search } = searches(clock, [[ref('p1'), ref('p2')], [ref('p3')]])
  const found = await collect(clock, keepLookingForProviders(clock, search, 30_000))
  t.deepEqual(
    found.map((r) => r.id),
    ['p1', 'p2'],
  )
  t.is(calls.length, 1)
})

test('nobody found: the stream ends at the timeout, with a bounded number of searches', async (t) => {
  const clock = new TestClock()
  const { calls, search } = searches(clock, [])
  const timeout = 60_000
  const found = await collect(clock, keepLookingForProviders(clock, search, timeout))
  t.deepEqual(found, [])
  t.true(clock.now() >= timeout && clock.now() <= timeout + 1200, `ended at ${clock.now()} virtual ms`)
  // The waits double up to the maximum: 1, 2, 4, 8, 8 … s between searches of 1.2 s.
  for (let i = 2; i < calls.length; i++) {
    const gap = (calls[i]?.at ?? 0) - (calls[i - 1]?.at ?? 0) - 1200
    t.true(gap <= PROVIDER_SEARCH_RETRY_MAX, `wait ${gap} ms`)
  }
  t.true(calls.length <= 4 + timeout / PROVIDER_SEARCH_RETRY_MAX, `${calls.length} searches in ${timeout} ms`)
  t.true(calls.length >= 5, `${calls.length} searches`)
  t.true(
    calls.every((c) => c.left >= 1),
    'no search starts with no time left',
  )
})

test('an abort ends the stream while it waits between searches', async (t) => {
  const clock = new TestClock()
  const { calls, search } = searches(clock, [])
  const ac = new AbortController()
  const it = keepLookingForProviders(clock, search, 30_000, ac.signal)
  const done = collect(clock, it, 1500)
  clock.setTimeout(() => ac.abort(), 1500)
  t.deepEqual(await done, [])
  t.is(calls.length, 1, 'no search after the abort')
  t.true(clock.now() <= 1500)
})

test('a search that fails ends the stream with its error', async (t) => {
  const clock = new TestClock()
  const failing = async function* (): AsyncGenerator<PeerRef> {
    yield* []
    throw new Error('the overlay is not started')
  }
  await t.throwsAsync(collect(clock, keepLookingForProviders(clock, failing, 30_000)), {
    message: 'the overlay is not started',
  })
})
