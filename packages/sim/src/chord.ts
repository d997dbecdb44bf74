import type { Overlay } from '@peerkit/core'
import {
  type ChordNode,
  ChordOverlay,
  fingersFromRing,
  predecessorFromRing,
  sortById,
  successorIn,
  successorsFromRing,
} from '@peerkit/overlay-chord'
import { exponential } from './distributions.js'
import { round, type Summary, summarize } from './metrics.js'
import type { SimNetwork } from './sim-network.js'

/** Lookup correctness of a Chord ring, against the true successor computed from global knowledge. */
export interface LookupReport {
  checked: number
  /** Lookups that ended at the true successor of their key among the live nodes (each lookup pings the successor it found, skipping dead ones). */
  correct: number
  /** `correct / checked`. */
  correctness: number
  /** Lookups that threw (every route failed). */
  failed: number
  /** Hops per lookup that returned (nodes that answered). */
  hops: Summary
  /** Timeouts per lookup that returned: nodes on the way that did not answer (the paper's "timeouts"). */
  timeouts: Summary
  /** Virtual ms per lookup that returned. */
  latencyMs: Summary
}

function chordOf(overlay: Overlay): ChordOverlay | undefined {
  return overlay instanceof ChordOverlay ? overlay : undefined
}

/** Every live node as a ChordNode, sorted by id. */
function liveRing(net: SimNetwork): ChordNode[] {
  const nodes: ChordNode[] = []
  for (const p of net.livePeers()) {
    const chord = chordOf(p.peer.overlay)
    if (chord) nodes.push(chord.routing.self)
  }
  return sortById(nodes)
}

/**
 * Gives every live Chord node the state a converged ring would have
 * (predecessor, successor list, every finger) from global knowledge, as
 * Chord simulators do to study routing at scale without simulating N joins.
 * The protocol code then runs unchanged: stabilisation, lookups, failures.
 * Returns the number of nodes set up.
 */
export function adoptConvergedRing(net: SimNetwork): number {
  const sorted = liveRing(net)
  for (const p of net.livePeers()) {
    const chord = chordOf(p.peer.overlay)
    if (!chord) continue
    const self = chord.routing.self.id
    const fingers = fingersFromRing(chord.ring, self, sorted)
    const table: (ChordNode | undefined)[] = []
    for (let i = 0; i < chord.ring.bits; i++) table.push(fingers.get(i))
    const state: Parameters<typeof chord.routing.adopt>[0] = {
      successors: successorsFromRing(self, sorted, chord.options.successors),
      fingers: table,
    }
    const predecessor = predecessorFromRing(self, sorted)
    if (predecessor) state.predecessor = predecessor
    chord.routing.adopt(state)
  }
  return sorted.length
}

/** Pauses (false) or resumes (true) the maintenance rounds of every live Chord node. */
export function setRingMaintenance(net: SimNetwork, on: boolean): void {
  for (const p of net.livePeers()) chordOf(p.peer.overlay)?.setMaintenance(on)
}

/**
 * Runs `count` lookups of random keys from random live nodes (Poisson
 * arrivals, `interval` ms apart on average) and checks each against the true
 * successor among the nodes alive when it ends. Undefined when the overlay
 * is not Chord.
 */
export async function runLookups(
  net: SimNetwork,
  count: number,
  interval: number,
  onDone?: (done: number) => void,
): Promise<LookupReport | undefined> {
  const { clock, random } = net
  const first = net.livePeers()[0]
  const probe = first && chordOf(first.peer.overlay)
  if (!probe) return undefined
  const bits = probe.ring.bits
  const mask = (1n << BigInt(bits)) - 1n
  let ring = liveRing(net)
  let ringVersion = net.version
  const randomKey = () => {
    let k = 0n
    for (const b of random.bytes(Math.ceil(bits / 8))) k = (k << 8n) | BigInt(b)
    return k & mask
  }
  let correct = 0
  let failed = 0
  let done = 0
  const hops: number[] = []
  const timeouts: number[] = []
  const latency: number[] = []
  let at = 0
  for (let i = 0; i < count; i++) {
    at += exponential(random, interval)
    clock.setTimeout(() => {
      const asker = net.randomLive()
      const chord = asker && chordOf(asker.peer.overlay)
      const key = randomKey()
      const started = clock.now()
      const run = chord ? chord.lookup(key, { verify: true }) : Promise.reject(new Error('no live node'))
      run
        .then(
          (r) => {
            hops.push(r.hops)
            timeouts.push(r.failures)
            latency.push(clock.now() - started)
            if (net.version !== ringVersion) {
              ring = liveRing(net)
              ringVersion = net.version
            }
            if (r.nodes[0]?.id === successorIn(ring, key).id) correct++
          },
          () => {
            failed++
          },
        )
        .finally(() => {
          done++
          if (done % 16 === 0 || done === count) onDone?.(done)
        })
    }, at)
  }
  await clock.run({ until: () => done === count })
  const rs = (s: Summary): Summary => ({ ...s, mean: round(s.mean), p50: round(s.p50), p95: round(s.p95) })
  return {
    checked: count,
    correct,
    correctness: count === 0 ? 0 : round(correct / count, 4),
    failed,
    hops: rs(summarize(hops)),
    timeouts: rs(summarize(timeouts)),
    latencyMs: rs(summarize(latency)),
  }
}
