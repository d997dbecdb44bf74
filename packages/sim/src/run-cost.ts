import { DEFAULT_NODES, DEFAULT_QUERIES, SIM_OVERLAY_BASE, type SimulationOptions } from './options.js'

/**
 * CPU of one simulation, in µs per peer for its set-up (joins, warm-up,
 * publishing, settle and teardown) and per peer and query for its measured
 * phase, from the runs at 10^4 peers × 300 queries, seed 1
 * (docs/benchmarks/sim.md, issue #25 fourth pass): flooding (`providerRings`
 * 0) 63.6 s + 55.9 s, supernode 120.3 s + 38.6 s, central 29.4 s + 5.0 s.
 * Chord's set-up at 10^4 did not finish; its figures are from 2,000 peers
 * × 300 queries (285.6 s publishing, 16.7 s the rest), scaled as below.
 */
const SETUP_US_PER_PEER: Readonly<Record<string, number>> = Object.freeze({
  central: 2_940,
  flooding: 6_360,
  supernode: 12_030,
  chord: 143_000,
})
const QUERY_US_PER_PEER: Readonly<Record<string, number>> = Object.freeze({
  central: 1.7,
  flooding: 18.6,
  supernode: 12.9,
})
/** Chord: µs per query (and its checked lookup) at 2,000 peers, growing with log2 of the peers. */
const CHORD_QUERY_US = 55_700
/** Chord's set-up per peer grew 1.25 times from 1,000 to 2,000 peers: about the cube root of the peers. */
const CHORD_SETUP_GROWTH = 1 / 3
/** An overlay none of the figures cover: about supernode's cost. */
const OTHER = 'supernode'

/**
 * A rough estimate of one simulation's CPU seconds, only to start the
 * longest first (`peerkit sim` runs `--jobs` at a time: with the longest
 * first, the lanes end at about the same time). Flooding's expanding ring
 * costs about 1 + 1.85 × `providerRings` times the messages of one ring
 * (6,807 against 1,436 a query at `providerRings` 2 and 0, 2,000 peers).
 */
export function estimateCpuSeconds(s: SimulationOptions): number {
  const nodes = s.nodes ?? DEFAULT_NODES
  const queries = s.queries ?? DEFAULT_QUERIES
  const overlay = s.overlay in SETUP_US_PER_PEER ? s.overlay : OTHER
  if (overlay === 'chord') {
    const setup = nodes * (SETUP_US_PER_PEER.chord as number) * (nodes / 2000) ** CHORD_SETUP_GROWTH
    const perQuery = (CHORD_QUERY_US * Math.log2(Math.max(2, nodes))) / Math.log2(2000)
    return (setup + queries * perQuery) / 1e6
  }
  let perQuery = (QUERY_US_PER_PEER[overlay] as number) * nodes
  if (overlay === 'flooding') {
    const rings = Number(s.overlayOptions?.providerRings ?? SIM_OVERLAY_BASE.flooding?.providerRings ?? 0)
    perQuery *= 1 + 1.85 * (Number.isFinite(rings) && rings > 0 ? rings : 0)
  }
  return (nodes * (SETUP_US_PER_PEER[overlay] as number) + queries * perQuery) / 1e6
}

/** Indexes of `list`, the longest simulation first by `estimateCpuSeconds` (ties in list order). */
export function longestFirst(list: readonly SimulationOptions[]): number[] {
  const cost = list.map(estimateCpuSeconds)
  return list.map((_, i) => i).sort((a, b) => (cost[b] as number) - (cost[a] as number) || a - b)
}
