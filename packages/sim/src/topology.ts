import { InvalidOptionsError, type Random } from '@peerkit/core'

/**
 * Neighbour graphs the simulator can impose on an unstructured overlay, as in
 * Lv, Cao, Cohen, Li and Shenker (ICS 2002): `random` (a uniform random graph
 * of a given mean degree), `powerlaw` (a power-law random graph), `grid` (a
 * 2-D lattice); `protocol` imposes none (each overlay builds its own).
 */
export const TOPOLOGIES = ['protocol', 'random', 'powerlaw', 'grid'] as const
export type TopologyKind = (typeof TOPOLOGIES)[number]

/** An undirected simple graph over peers 0 … nodes-1: each peer's neighbours, sorted. */
export interface Topology {
  readonly kind: Exclude<TopologyKind, 'protocol'>
  readonly nodes: number
  readonly edges: number
  readonly adjacency: readonly (readonly number[])[]
}

/**
 * Nodes generated for the paper's graphs (before the largest component is taken): a random graph
 * of 10^4 (component about 9,800 nodes, mean degree about 4.08; theirs 9,836 and 4.09), a PLRG of
 * 9,400 (component about 9,130, mean degree about 4.47; theirs 9,230 and 4.46), a 100 × 100 grid.
 */
export const LV_SIZES = Object.freeze({ random: 10_000, powerlaw: 9_400, grid: 10_000 })
/** Mean degree asked of the random graph (its largest component, about 98 % of it, comes out near 4.09). */
export const RANDOM_MEAN_DEGREE = 4
/** Rank exponent of the power-law graph: the r-th best-connected node has a degree ∝ r^-0.8. */
export const POWERLAW_EXPONENT = 0.8
/**
 * Degree asked of the best-connected node of a 9,400-node PLRG (the scale of its degree sequence,
 * scaled by (nodes / 9,400)^exponent for other sizes): with exponent 0.8 its largest component has
 * about 9,130 nodes of mean degree about 4.47 (seeds 1–3), the largest degree about 1,100.
 */
export const POWERLAW_TOP_DEGREE = 1650

/** Checks a topology name (`--topology`), naming the known ones. */
export function parseTopologyKind(name: string): TopologyKind {
  if ((TOPOLOGIES as readonly string[]).includes(name)) return name as TopologyKind
  throw new InvalidOptionsError(`unknown topology '${name}' (known: ${TOPOLOGIES.join(', ')})`)
}

/** The graph of `kind` over about `nodes` peers (the largest component for random and powerlaw). */
export function buildTopology(
  kind: Exclude<TopologyKind, 'protocol'>,
  random: Random,
  nodes: number,
): Topology {
  if (!Number.isInteger(nodes) || nodes < 4)
    throw new InvalidOptionsError(`topology nodes must be an integer >= 4 (got ${nodes})`)
  switch (kind) {
    case 'random':
      return randomGraph(random, nodes, RANDOM_MEAN_DEGREE)
    case 'powerlaw':
      return powerLawGraph(random, nodes, POWERLAW_EXPONENT)
    case 'grid': {
      const side = Math.round(Math.sqrt(nodes))
      return gridGraph(side, Math.round(nodes / side))
    }
  }
}

/**
 * A uniform random graph G(n, m) with m = n × meanDegree / 2 distinct edges and
 * no self-loop, reduced to its largest connected component.
 */
export function randomGraph(random: Random, nodes: number, meanDegree: number): Topology {
  const m = Math.round((nodes * meanDegree) / 2)
  const edges = new EdgeSet(nodes)
  while (edges.size < m) edges.add(random.int(nodes), random.int(nodes))
  return largestComponent('random', edges.adjacency())
}

/**
 * A power-law random graph in the Aiello–Chung–Lu family: node r (0-based) is
 * given r + 1's share of a degree sequence d_r = max(1, round(D × (r + 1)^-exponent)),
 * with D scaled to the size (POWERLAW_TOP_DEGREE at 9,400 nodes), and the stubs
 * are paired at random (the configuration model); self-loops and repeated edges are
 * dropped and the largest connected component kept. A rank exponent of 0.8 is a
 * degree distribution P(d) ∝ d^-2.25.
 */
export function powerLawGraph(
  random: Random,
  nodes: number,
  exponent: number,
  top = POWERLAW_TOP_DEGREE * (nodes / LV_SIZES.powerlaw) ** exponent,
): Topology {
  if (!(exponent > 0)) throw new InvalidOptionsError(`power-law exponent must be > 0 (got ${exponent})`)
  let total = 0
  const degrees: number[] = []
  for (let r = 0; r < nodes; r++) {
    const d = Math.max(1, Math.round(top * (r + 1) ** -exponent))
    degrees.push(d)
    total += d
  }
  const stubs = new Int32Array(total)
  let k = 0
  for (let v = 0; v < nodes; v++) for (let i = 0; i < (degrees[v] as number); i++) stubs[k++] = v
  for (let i = stubs.length - 1; i > 0; i--) {
    const j = random.int(i + 1)
    const t = stubs[i] as number
    stubs[i] = stubs[j] as number
    stubs[j] = t
  }
  const edges = new EdgeSet(nodes)
  for (let i = 0; i + 1 < stubs.length; i += 2) edges.add(stubs[i] as number, stubs[i + 1] as number)
  return largestComponent('powerlaw', edges.adjacency())
}

/** A `width` × `height` 4-neighbour lattice (no wrap-around); node = row × width + column. */
export function gridGraph(width: number, height: number): Topology {
  const adjacency: number[][] = []
  let edges = 0
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const out: number[] = []
      if (y > 0) out.push((y - 1) * width + x)
      if (x > 0) out.push(y * width + x - 1)
      if (x + 1 < width) out.push(y * width + x + 1)
      if (y + 1 < height) out.push((y + 1) * width + x)
      edges += out.length
      adjacency.push(out)
    }
  return { kind: 'grid', nodes: width * height, edges: edges / 2, adjacency }
}

/**
 * What a flood of TTL `ttl` would cost if every peer it reaches were reached along a shortest path
 * (synchronous rounds, no latency): the mean over `sources` random origins of the messages sent
 * (the origin to all its neighbours, every other peer nearer than `ttl` to all but one) and of the
 * peers reached. With random link latencies a peer is often first reached along a longer path,
 * with less TTL left, so a real flood costs less and reaches fewer.
 */
export function floodBall(
  t: Topology,
  ttl: number,
  sources: number,
  random: Random,
): { messages: number; reached: number } {
  const dist = new Int32Array(t.nodes)
  const queue = new Int32Array(t.nodes)
  let messages = 0
  let reached = 0
  for (let k = 0; k < sources; k++) {
    const s = random.int(t.nodes)
    dist.fill(-1)
    dist[s] = 0
    let head = 0
    let tail = 0
    queue[tail++] = s
    while (head < tail) {
      const v = queue[head++] as number
      const d = dist[v] as number
      reached++
      const list = t.adjacency[v] as readonly number[]
      if (d >= ttl) continue
      messages += v === s ? list.length : list.length - 1
      for (const w of list)
        if (dist[w] === -1) {
          dist[w] = d + 1
          queue[tail++] = w
        }
    }
  }
  return { messages: messages / sources, reached: reached / sources }
}

/** The largest degree of a graph. */
export function maxDegree(t: Topology): number {
  let max = 0
  for (const list of t.adjacency) if (list.length > max) max = list.length
  return max
}

export interface TopologyStats {
  nodes: number
  edges: number
  meanDegree: number
  medianDegree: number
  maxDegree: number
  minDegree: number
  /** Peers of degree 1, 2, 3 … (index = degree). */
  histogram: number[]
  connected: boolean
}

/** Size, degrees and connectivity of a graph. */
export function topologyStats(t: Topology): TopologyStats {
  const degrees = t.adjacency.map((n) => n.length)
  let max = 0
  let min = Number.POSITIVE_INFINITY
  for (const d of degrees) {
    if (d > max) max = d
    if (d < min) min = d
  }
  const histogram = new Array<number>(max + 1).fill(0)
  for (const d of degrees) histogram[d] = (histogram[d] as number) + 1
  const sorted = degrees.slice().sort((a, b) => a - b)
  return {
    nodes: t.nodes,
    edges: t.edges,
    meanDegree: (2 * t.edges) / t.nodes,
    medianDegree: sorted[sorted.length >> 1] ?? 0,
    maxDegree: max,
    minDegree: t.nodes === 0 ? 0 : min,
    histogram,
    connected: components(t.adjacency).count === 1,
  }
}

/** Undirected edges without self-loops or repeats, kept as sorted pairs. */
class EdgeSet {
  private readonly seen = new Set<number>()
  private readonly lists: number[][]

  constructor(private readonly nodes: number) {
    this.lists = Array.from({ length: nodes }, () => [])
  }

  get size(): number {
    return this.seen.size
  }

  add(a: number, b: number): void {
    if (a === b) return
    const key = a < b ? a * this.nodes + b : b * this.nodes + a
    if (this.seen.has(key)) return
    this.seen.add(key)
    ;(this.lists[a] as number[]).push(b)
    ;(this.lists[b] as number[]).push(a)
  }

  adjacency(): number[][] {
    return this.lists
  }
}

/** Component label of each node (iterative BFS: no recursion whose depth grows with the graph). */
function components(adjacency: readonly (readonly number[])[]): { label: Int32Array; count: number } {
  const label = new Int32Array(adjacency.length).fill(-1)
  const queue = new Int32Array(adjacency.length)
  let count = 0
  for (let s = 0; s < adjacency.length; s++) {
    if (label[s] !== -1) continue
    let head = 0
    let tail = 0
    queue[tail++] = s
    label[s] = count
    while (head < tail) {
      const v = queue[head++] as number
      for (const w of adjacency[v] as number[])
        if (label[w] === -1) {
          label[w] = count
          queue[tail++] = w
        }
    }
    count++
  }
  return { label, count }
}

/** The largest connected component, renumbered 0 … k-1 in the nodes' order, each list sorted. */
function largestComponent(kind: Topology['kind'], adjacency: number[][]): Topology {
  const { label, count } = components(adjacency)
  const sizes = new Array<number>(count).fill(0)
  for (const l of label) sizes[l] = (sizes[l] as number) + 1
  let best = 0
  for (let c = 1; c < count; c++) if ((sizes[c] as number) > (sizes[best] as number)) best = c
  const renumber = new Int32Array(adjacency.length).fill(-1)
  let k = 0
  for (let v = 0; v < adjacency.length; v++) if (label[v] === best) renumber[v] = k++
  const out: number[][] = []
  let edges = 0
  for (let v = 0; v < adjacency.length; v++) {
    if (label[v] !== best) continue
    const list = (adjacency[v] as number[]).map((w) => renumber[w] as number).sort((a, b) => a - b)
    edges += list.length
    out.push(list)
  }
  return { kind, nodes: k, edges: edges / 2, adjacency: out }
}
