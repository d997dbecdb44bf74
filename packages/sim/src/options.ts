import { InvalidOptionsError } from '@peerkit/core'
import { parseTopologyKind, type TopologyKind } from './topology.js'
import { STATIC_TOPOLOGY_OVERLAYS } from './topology-peers.js'

/** What `runSimulation` simulates. Times are virtual milliseconds. */
export interface SimulationOptions {
  /** Overlay strategy by registry name: `central`, `flooding`, `supernode`, `chord`. */
  overlay: string
  /** Peers at the start. @default 100 */
  nodes?: number
  /** Keyword searches issued in the measured phase. @default 100 */
  queries?: number
  /** Seed of every random choice; the same seed gives the same result. @default 1 */
  seed?: number
  /** Distinct files in the catalog. @default max(10, nodes) */
  files?: number
  /** Peers that hold a copy of each file. @default 3 */
  replicas?: number
  /** Zipf exponent of file popularity (which files queries ask for). @default 1 */
  zipf?: number
  /** Mean one-way latency of a link, exponentially distributed (the Chord paper's set-up). @default 50 */
  latency?: number
  /** Churn: joins per virtual second, and as many leaves on average (sessions last nodes/churn s). @default 0 */
  churn?: number
  /** Fraction of peers that fail at once just before the queries. @default 0 */
  fail?: number
  /** Mean milliseconds between two peers joining. @default 20 */
  joinInterval?: number
  /** Milliseconds the network runs after the last join, before publishing. @default 30000 */
  warmup?: number
  /**
   * Peers publishing their shares at once after the warm-up; each next one
   * starts as one ends. A Chord publish holds its lookups, their connections
   * and its records in flight until it ends: ten thousand peers publishing in
   * the same virtual millisecond kept all of theirs at once, and a 4,000-peer
   * publish cost 1.7 times the CPU (most of it collecting garbage) of one with
   * at most a few hundred at a time. @default 128
   */
  publishers?: number
  /** Milliseconds after publishing before the queries (the second half measures the background rate). @default 20000 (chord: 120000) */
  settle?: number
  /** Mean milliseconds between two queries (Poisson arrivals). @default 200 */
  queryInterval?: number
  /** Milliseconds a search may take. @default 10000 */
  queryTimeout?: number
  /**
   * How the initial peers join: `protocol` runs the overlay's own join, one
   * peer after another; `oracle` (Chord only) starts every node alone and then
   * gives each the state of a converged ring from global knowledge, as Chord
   * simulators do for routing studies at scale. Churn joins always use the protocol.
   * @default 'oracle' for chord, 'protocol' for the others
   */
  join?: 'protocol' | 'oracle'
  /**
   * The neighbour graph: `protocol`, the one the overlay's own join builds; `random`, `powerlaw` or
   * `grid` (Lv et al. 2002; see `buildTopology`: over `nodes`, the largest component for the first
   * two), given to every peer as its overlay's `staticNeighbors` (flooding, randomwalk), so the
   * overlay's protocol makes exactly those links and its maintenance keeps them.
   * @default 'protocol'
   */
  topology?: TopologyKind
  /**
   * Open connections each peer keeps before closing the least recently used
   * idle ones (`config.network.maxConnections`); connections an overlay
   * protects (neighbors, successors, leaves) are never closed for room. Each
   * open connection costs about 2.6 KB of heap (both ends), and a DHT node
   * talks to hundreds of others while publishing, so the simulator keeps
   * fewer than the library's 512. @default 64
   */
  maxConnections?: number
  /** Chord only: lookups of random keys to check against the true successor (0: none), after the queries. @default queries */
  lookups?: number
  /** Chord only: mean milliseconds between two checked lookups (Poisson arrivals). @default 20 */
  lookupInterval?: number
  /** Chord only: also check each lookup against the true successor, from global knowledge. @default true */
  checkLookups?: boolean
  /**
   * Chord only: whether the ring goes on stabilising after the simultaneous
   * failure. `false` pauses stabilize, fix_fingers and check_predecessor on
   * every node just before the failure, as the ToN 2003 Table II experiment
   * does, so lookups meet the failed nodes in the tables as they stood.
   * @default true
   */
  repairAfterFail?: boolean
  /** Options of the overlay (`config.options[overlay]`), over `SIM_OVERLAY_DEFAULTS[overlay]`. @default {} */
  overlayOptions?: Record<string, unknown>
}

export type ParsedSimulationOptions = Readonly<Required<SimulationOptions>>

/**
 * Overlay options the simulator starts from, under `overlayOptions`. Chord's
 * upkeep is slowed from the library's defaults (stabilize every 1 s,
 * fix_fingers every 0.5 s, records refreshed every 2 min: about 12 messages
 * per node per second, which would drown 10,000 simulated nodes' queries):
 * a stabilize round every 30 s, as in the ToN 2003 paper's simulations,
 * fix_fingers and check_predecessor every 60 s, and records that live two
 * hours, refreshed every hour. A node refreshes first one to two intervals
 * after it starts (a random phase, then a whole interval), so no refresh falls
 * inside a run of up to about an hour: 10^4 queries 200 ms apart span 33 min,
 * and with a refresh every 30 min, as before, about a fifth of the nodes
 * re-published all their records inside that query window (in a 1,000-node
 * run whose queries spanned 38 min, +1,268 msgs/query and 11 % of the CPU).
 * A run long enough to meet them measures refreshes as the upkeep they are.
 * They apply to a ring built from global knowledge (`join: 'oracle'`, the
 * default for chord), which is converged from the start; a ring built by the
 * join protocol keeps the library's defaults (concurrent joins, a join every
 * 20 ms, need fast stabilisation to sort themselves out), and churn joins
 * still enter within a few round trips (a newcomer tells its predecessor to
 * stabilize and fills its fingers at once).
 */
export const SIM_OVERLAY_DEFAULTS: Readonly<Record<string, Readonly<Record<string, unknown>>>> =
  Object.freeze({
    chord: Object.freeze({
      idDifficulty: 0, // the id puzzle's cost is measured by bench:chord; thousands of simulated nodes skip it
      stabilizeInterval: 30_000,
      fixFingersInterval: 60_000,
      checkPredecessorInterval: 60_000,
      refreshInterval: 3_600_000,
      recordTtl: 7_200_000,
    }),
  })

/**
 * Overlay options the simulator sets whatever the join, under `overlayOptions`:
 * Chord's node-id puzzle at difficulty 0. Solving it costs about
 * 2^idDifficulty key generations per peer at start (the library's default,
 * 10, is about 1,000: some 50 ms of CPU per peer, more than the rest of a
 * simulated peer's life at 10^5 peers); it is a start-up cost of each
 * identity, not of the messages the simulator measures.
 *
 * Flooding's expanding ring ends at its first step with a hit
 * (`providerRings` 0), the search the simulator measures (success, hops,
 * messages until the answer, time to the first hit) and the flood of the
 * figures it is compared with (the 10^4-peer run of issue #25 and the
 * overlays' earlier figures). The library's default, 2, goes on up to two
 * steps further to collect `providerTarget` providers of what was found:
 * about 4.7 times the messages a query at 2,000 peers (6,807 against
 * 1,436), for providers the other overlays' answers list without more
 * messages. `--options '{"flooding":{"providerRings":2}}'` simulates it.
 */
export const SIM_OVERLAY_BASE: Readonly<Record<string, Readonly<Record<string, unknown>>>> = Object.freeze({
  chord: Object.freeze({ idDifficulty: 0 }),
  flooding: Object.freeze({ providerRings: 0 }),
})

export const DEFAULT_NODES = 100
export const DEFAULT_QUERIES = 100
export const DEFAULT_SEED = 1
export const DEFAULT_REPLICAS = 3
export const DEFAULT_ZIPF = 1
export const DEFAULT_LATENCY = 50
export const DEFAULT_JOIN_INTERVAL = 20
export const DEFAULT_WARMUP = 30_000
/**
 * The background is measured over the second half: 10 s, one whole period of
 * the slowest default upkeep (supernode leaves refresh their lists every 10 s;
 * a window of half a period misjudged it by a fifth, more than the queries' own bytes).
 */
export const DEFAULT_SETTLE = 20_000
/** Chord's upkeep runs every 30–60 s in the simulator: the background is measured over a minute. */
export const DEFAULT_CHORD_SETTLE = 120_000
export const DEFAULT_QUERY_INTERVAL = 200
export const DEFAULT_QUERY_TIMEOUT = 10_000
export const DEFAULT_MAX_CONNECTIONS = 64
export const DEFAULT_LOOKUP_INTERVAL = 20
export const DEFAULT_PUBLISHERS = 128

const DAY = 86_400_000

function int(o: Record<string, unknown>, key: string, fallback: number, min: number, max: number): number {
  const v = o[key] ?? fallback
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw new InvalidOptionsError(
      `sim.${key} must be an integer from ${min} to ${max} (got ${JSON.stringify(v)})`,
    )
  return v
}

function num(o: Record<string, unknown>, key: string, fallback: number, min: number, max: number): number {
  const v = o[key] ?? fallback
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max)
    throw new InvalidOptionsError(
      `sim.${key} must be a number from ${min} to ${max} (got ${JSON.stringify(v)})`,
    )
  return v
}

const KEYS = [
  'overlay',
  'nodes',
  'queries',
  'seed',
  'files',
  'replicas',
  'zipf',
  'latency',
  'churn',
  'fail',
  'joinInterval',
  'warmup',
  'publishers',
  'settle',
  'queryInterval',
  'queryTimeout',
  'checkLookups',
  'lookups',
  'lookupInterval',
  'maxConnections',
  'join',
  'topology',
  'repairAfterFail',
  'overlayOptions',
]

/** Merges defaults, checks types and ranges (`InvalidOptionsError` names the field), and freezes. */
export function parseSimulationOptions(input: unknown): ParsedSimulationOptions {
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    throw new InvalidOptionsError('sim options must be an object with at least an overlay')
  const o = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined))
  for (const key of Object.keys(o))
    if (!KEYS.includes(key))
      throw new InvalidOptionsError(`sim.${key} is not an option (accepted: ${KEYS.join(', ')})`)
  if (typeof o.overlay !== 'string' || !/^[a-z][a-z0-9-]*$/.test(o.overlay))
    throw new InvalidOptionsError(
      `sim.overlay must be an overlay name such as 'chord' (got ${JSON.stringify(o.overlay)})`,
    )
  const nodes = int(o, 'nodes', DEFAULT_NODES, 1, 10_000_000)
  const replicas = int(o, 'replicas', DEFAULT_REPLICAS, 1, 1000)
  const queries = int(o, 'queries', DEFAULT_QUERIES, 0, 100_000_000)
  const overlayOptions = o.overlayOptions ?? {}
  if (overlayOptions === null || typeof overlayOptions !== 'object' || Array.isArray(overlayOptions))
    throw new InvalidOptionsError('sim.overlayOptions must be an object')
  const checkLookups = o.checkLookups ?? true
  if (typeof checkLookups !== 'boolean')
    throw new InvalidOptionsError(
      `sim.checkLookups must be true or false (got ${JSON.stringify(checkLookups)})`,
    )
  const repairAfterFail = o.repairAfterFail ?? true
  if (typeof repairAfterFail !== 'boolean')
    throw new InvalidOptionsError(
      `sim.repairAfterFail must be true or false (got ${JSON.stringify(repairAfterFail)})`,
    )
  const join = o.join ?? (o.overlay === 'chord' ? 'oracle' : 'protocol')
  if (join !== 'protocol' && join !== 'oracle')
    throw new InvalidOptionsError(`sim.join must be 'protocol' or 'oracle' (got ${JSON.stringify(join)})`)
  if (join === 'oracle' && o.overlay !== 'chord')
    throw new InvalidOptionsError(
      `sim.join 'oracle' is for the chord overlay only (got overlay '${o.overlay}')`,
    )
  const topology = parseTopologyKind(String(o.topology ?? 'protocol'))
  if (topology !== 'protocol' && !STATIC_TOPOLOGY_OVERLAYS.includes(o.overlay))
    throw new InvalidOptionsError(
      `sim.topology '${topology}' needs an overlay that takes a static neighbour list (${STATIC_TOPOLOGY_OVERLAYS.join(', ')}; got '${o.overlay}')`,
    )
  if (topology !== 'protocol' && o.churn)
    throw new InvalidOptionsError(`sim.topology '${topology}' is a fixed graph: it cannot run with churn`)
  return Object.freeze({
    overlay: o.overlay,
    join: join as 'protocol' | 'oracle',
    topology,
    nodes,
    queries,
    lookups: int(o, 'lookups', queries, 0, 100_000_000),
    lookupInterval: num(o, 'lookupInterval', DEFAULT_LOOKUP_INTERVAL, 0, DAY),
    maxConnections: int(o, 'maxConnections', DEFAULT_MAX_CONNECTIONS, 1, 1_000_000),
    seed: int(o, 'seed', DEFAULT_SEED, -(2 ** 31), 2 ** 31 - 1),
    files: int(o, 'files', Math.max(10, nodes), 1, 100_000_000),
    replicas: Math.min(replicas, nodes),
    zipf: num(o, 'zipf', DEFAULT_ZIPF, 0, 10),
    latency: num(o, 'latency', DEFAULT_LATENCY, 0, 60_000),
    churn: num(o, 'churn', 0, 0, 1_000_000),
    fail: num(o, 'fail', 0, 0, 0.99),
    joinInterval: num(o, 'joinInterval', DEFAULT_JOIN_INTERVAL, 0, DAY),
    warmup: num(o, 'warmup', DEFAULT_WARMUP, 0, 30 * DAY),
    publishers: int(o, 'publishers', DEFAULT_PUBLISHERS, 1, 10_000_000),
    settle: num(o, 'settle', o.overlay === 'chord' ? DEFAULT_CHORD_SETTLE : DEFAULT_SETTLE, 0, 30 * DAY),
    queryInterval: num(o, 'queryInterval', DEFAULT_QUERY_INTERVAL, 0, DAY),
    queryTimeout: num(o, 'queryTimeout', DEFAULT_QUERY_TIMEOUT, 1, DAY),
    checkLookups,
    repairAfterFail,
    overlayOptions: Object.freeze({
      ...SIM_OVERLAY_BASE[o.overlay],
      // A ring built from global knowledge needs little upkeep; one built by joins needs the library's.
      ...(join === 'oracle' ? SIM_OVERLAY_DEFAULTS[o.overlay] : undefined),
      ...(overlayOptions as Record<string, unknown>),
    }),
  })
}
