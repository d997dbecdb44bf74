import test from 'ava'
import { container } from 'tsyringe'
import {
  DEFAULT_FLOODING_OPTIONS,
  FLOODING_OPTIONS,
  floodingOverlay,
  parseFloodingOptions,
} from '../src/index.js'

test('defaults fill every field and the result is frozen', (t) => {
  const o = parseFloodingOptions({})
  t.deepEqual(o, DEFAULT_FLOODING_OPTIONS)
  t.true(Object.isFrozen(o))
  t.is(parseFloodingOptions(undefined).ttl, 7)
})

test('given values override the defaults', (t) => {
  const o = parseFloodingOptions({
    minNeighbors: 4,
    maxNeighbors: 8,
    ttl: 3,
    expandingRing: false,
    queryRate: 2.5,
  })
  t.is(o.minNeighbors, 4)
  t.is(o.ttl, 3)
  t.false(o.expandingRing)
  t.is(o.queryRate, 2.5)
  t.is(o.maxTtl, DEFAULT_FLOODING_OPTIONS.maxTtl)
  t.like(DEFAULT_FLOODING_OPTIONS, {
    providerTarget: 8,
    providerRings: 2,
    evictionInterval: 10_000,
    anchorAge: 60_000,
    maxPerGroup: 4,
  })
})

test('bad values fail with InvalidOptionsError naming the field and the value', (t) => {
  const cases: [unknown, string][] = [
    [{ ttl: 0 }, 'flooding.ttl must be an integer from 1 to 16 (got 0)'],
    [{ maxNeighbors: 2.5 }, 'flooding.maxNeighbors must be an integer from 1 to 10000 (got 2.5)'],
    [{ seenCacheSize: '10' }, 'flooding.seenCacheSize must be an integer from 1 to 10000000 (got "10")'],
    [{ expandingRing: 'yes' }, 'flooding.expandingRing must be true or false (got "yes")'],
    [{ queryRate: 0 }, 'flooding.queryRate must be a number > 0 (got 0)'],
    [{ minNeighbors: 9, maxNeighbors: 8 }, 'flooding.minNeighbors must be at most maxNeighbors = 8 (got 9)'],
    [{ ttl: 8, maxTtl: 7 }, 'flooding.ttl must be at most maxTtl = 7 (got 8)'],
    [{ providerTarget: 0 }, 'flooding.providerTarget must be an integer from 1 to 10000 (got 0)'],
    [{ evictionInterval: -1 }, 'flooding.evictionInterval must be an integer from 0 to 86400000 (got -1)'],
    [{ anchorAge: 1.5 }, 'flooding.anchorAge must be an integer from 0 to 86400000 (got 1.5)'],
    [{ providerRings: 17 }, 'flooding.providerRings must be an integer from 0 to 16 (got 17)'],
    [{ maxPerGroup: -1 }, 'flooding.maxPerGroup must be an integer from 0 to 1000 (got -1)'],
    [{ maxNeighbour: 3 }, 'flooding.maxNeighbour is not an option; did you mean maxNeighbors?'],
    [
      { fanout: 3 },
      'flooding.fanout is not an option; options: minNeighbors, maxNeighbors, ttl, expandingRing, maxTtl, ringHits, providerTarget, providerRings, ringTimeout, seenCacheSize, seenTtl, queryRate, queryBurst, dropAfter, banTime, maintenanceInterval, probeAfter, probeTimeout, evictionInterval, anchorAge, maxPerGroup, pongPeers, maxCandidates, staticNeighbors',
    ],
    ['fast', 'flooding must be an object (got "fast")'],
    [null, 'flooding must be an object (got null)'],
  ]
  for (const [input, message] of cases) {
    t.throws(
      () => parseFloodingOptions(input),
      { name: 'InvalidOptionsError', message },
      JSON.stringify(input),
    )
  }
})

test('floodingOverlay() validates before it touches any container', (t) => {
  t.throws(() => floodingOverlay({ ttl: -1 }), { name: 'InvalidOptionsError' })
  const c = container.createChildContainer()
  floodingOverlay({ ttl: 2 })(c)
  t.is(c.resolve(FLOODING_OPTIONS).ttl, 2)
})
