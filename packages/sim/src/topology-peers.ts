import type { SimNetwork, SimPeer } from './sim-network.js'
import type { Topology } from './topology.js'

/** Overlays that take a fixed neighbour list (`staticNeighbors`, with `maxNeighbors` at least its length). */
export const STATIC_TOPOLOGY_OVERLAYS: readonly string[] = ['flooding', 'randomwalk']

/** Neighbours a static peer may keep at least (the overlays' own default). */
const MIN_MAX_NEIGHBORS = 8

/** The address the simulator gives peer `i` of a network with no directory (`SimNetwork` names peers p0, p1 …). */
export const simAddress = (i: number): string => `memory://p${i}`

/**
 * Starts one peer per node of `topology` on `net` (which must have none yet), each given the overlay
 * option `staticNeighbors` = its graph neighbours' addresses and `maxNeighbors` raised to its degree
 * when above the default: the overlay's own protocol then connects exactly those links (a later peer
 * joins the earlier ones; a link missed while both started at once is made at a maintenance round).
 * `files[i]` are peer i's catalog ranks. Resolves to the peers, in node order.
 */
export async function startStaticTopology(
  net: SimNetwork,
  topology: Topology,
  files: readonly number[][] = [],
  onProgress?: (done: number) => void,
): Promise<SimPeer[]> {
  if (net.peers.length > 0) throw new Error('startStaticTopology needs a network with no peer yet')
  const base = net.options.overlayOptions
  const starts: Promise<unknown>[] = []
  for (let i = 0; i < topology.nodes; i++) {
    const listed = topology.adjacency[i] as readonly number[]
    const options = {
      ...base,
      staticNeighbors: listed.map(simAddress),
      maxNeighbors: Math.max(MIN_MAX_NEIGHBORS, listed.length, Number(base.maxNeighbors ?? 0)),
    }
    starts.push(net.addPeer(files[i] ?? [], [], options))
    if ((i + 1) % 512 === 0) {
      await net.clock.settle(Promise.all(starts.splice(0)))
      onProgress?.(i + 1)
    }
  }
  await net.clock.settle(Promise.all(starts))
  onProgress?.(topology.nodes)
  return net.peers.slice()
}

/**
 * Peers whose overlay neighbours differ from their graph neighbours (0: the overlay runs exactly
 * the topology). Needs the peers in node order, as `startStaticTopology` gives them.
 */
export function topologyMismatches(peers: readonly SimPeer[], topology: Topology): number {
  const index = new Map<string, number>()
  for (const [i, p] of peers.entries()) index.set(p.peer.id, i)
  let wrong = 0
  for (const [i, p] of peers.entries()) {
    const have = p.peer.overlay
      .neighbors()
      .map((r) => index.get(r.id) ?? -1)
      .sort((a, b) => a - b)
    const want = topology.adjacency[i] as readonly number[]
    if (have.length !== want.length || have.some((v, k) => v !== want[k])) wrong++
  }
  return wrong
}
