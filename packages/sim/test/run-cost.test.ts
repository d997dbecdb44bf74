import test from 'ava'
import { estimateCpuSeconds, longestFirst } from '../src/index.js'

const all = (nodes: number, queries: number) =>
  ['central', 'flooding', 'supernode', 'chord'].map((overlay) => ({
    overlay,
    nodes,
    queries,
    ...(overlay === 'flooding' ? { overlayOptions: { providerRings: 0 } } : {}),
  }))

test('estimateCpuSeconds gives the measured 10^4 x 300 runs back', (t) => {
  const [central, flooding, supernode] = all(10_000, 300).map(estimateCpuSeconds)
  t.is(Math.round(central as number), 35)
  t.is(Math.round(flooding as number), 119)
  t.is(Math.round(supernode as number), 159)
})

test('--overlay all at 10^4 x 10^4 starts chord, then flooding, supernode and central', (t) => {
  // The order the fourth pass measured: chord's set-up alone is over 2,000 s, flooding about 1,920, supernode 1,390, central 200.
  t.deepEqual(
    longestFirst(all(10_000, 10_000)).map((i) => all(10_000, 10_000)[i]?.overlay),
    ['chord', 'flooding', 'supernode', 'central'],
  )
})

test("with many queries flooding goes before chord (its queries grow with the peers, chord's with their log); with few, chord first", (t) => {
  const many = all(10_000, 1_000_000)
  t.is(many[longestFirst(many)[0] as number]?.overlay, 'flooding')
  const few = all(1_000, 10)
  t.is(few[longestFirst(few)[0] as number]?.overlay, 'chord')
})

test("flooding's provider rings multiply its queries' cost; a larger network goes first; ties keep the list's order", (t) => {
  const rings = (providerRings?: number) =>
    estimateCpuSeconds({
      overlay: 'flooding',
      nodes: 10_000,
      queries: 10_000,
      ...(providerRings === undefined ? {} : { overlayOptions: { providerRings } }),
    })
  t.true(rings(2) > 4 * rings(0))
  t.is(rings(), rings(0), "the simulator's flooding ends its ring at the first hit (SIM_OVERLAY_BASE)")
  const sweep = [64, 4096, 256].map((nodes) => ({ overlay: 'chord', nodes, queries: 100 }))
  t.deepEqual(longestFirst(sweep), [1, 2, 0])
  const same = [1, 2, 3].map(() => ({ overlay: 'central', nodes: 10, queries: 10 }))
  t.deepEqual(longestFirst(same), [0, 1, 2])
  t.true(
    estimateCpuSeconds({ overlay: 'randomwalk', nodes: 100 }) > 0,
    'an overlay without figures gets an estimate',
  )
})
