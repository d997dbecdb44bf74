import { InvalidOptionsError } from '@peerkit/core'

/** The largest TTL the protocol carries; a query arriving with more is clamped to `maxTtl`. */
export const PROTOCOL_MAX_TTL = 16

/** Options of the `flooding` overlay (`config.options.flooding`). */
export interface FloodingOptions {
  /** Neighbors the node tries to keep; below this it looks for more. @default 3 */
  minNeighbors?: number
  /** Neighbors the node accepts; join requests beyond this are declined (with other peers to try). @default 8 */
  maxNeighbors?: number
  /** TTL of a plain flood (when `expandingRing` is off). @default 7 */
  ttl?: number
  /** Search with TTL 1, 2, 3 … up to `maxTtl`, stopping once enough hits arrived. @default true */
  expandingRing?: boolean
  /** Last TTL the expanding ring tries; incoming queries with a larger TTL are clamped to it. @default 7 */
  maxTtl?: number
  /** Distinct files that end the expanding ring (the query's `limit` wins when set). @default 1 */
  ringHits?: number
  /**
   * Providers the expanding ring collects before it ends (over all files found; for `providers()`,
   * of the one hash): after the first step with hits it goes on, one hop further each step up to
   * `maxTtl`, until this many peers hold what was found, so a search lists every provider within
   * reach up to this many. A query `limit` ends the search at that many files regardless. @default 8
   */
  providerTarget?: number
  /**
   * Steps the expanding ring may go on past the first step with hits to reach `providerTarget`: it
   * bounds what collecting providers costs for a file with few copies, which would otherwise take
   * the ring to `maxTtl` (a full flood after the smaller ones). @default 2
   */
  providerRings?: number
  /** Milliseconds to wait for hits per hop: a step (or a plain flood) at TTL t waits t × ringTimeout. @default 250 */
  ringTimeout?: number
  /** Query ids remembered (to drop duplicates and route hits back). @default 2048 */
  seenCacheSize?: number
  /** Milliseconds a query id is remembered. @default 60000 */
  seenTtl?: number
  /** Queries per second a neighbor may send before it is throttled. @default 50 */
  queryRate?: number
  /** Queries a neighbor may send in a burst above `queryRate`. @default 100 */
  queryBurst?: number
  /** Throttled queries (without a pause long enough to refill the burst) before the neighbor is dropped. @default 100 */
  dropAfter?: number
  /** Milliseconds a dropped neighbor is refused as a neighbor. @default 60000 */
  banTime?: number
  /** Milliseconds between neighbor maintenance rounds. @default 5000 */
  maintenanceInterval?: number
  /**
   * A neighbor not heard from for this many milliseconds is pinged at the next maintenance round, and
   * dropped (and replaced) when it does not answer within `probeTimeout`: a link that goes down
   * silently is noticed. @default 10000
   */
  probeAfter?: number
  /** Milliseconds a probed neighbor has to answer. @default 3000 */
  probeTimeout?: number
  /**
   * Milliseconds between two evictions: a full node makes room for a joiner (one with no neighbor,
   * or one below `minNeighbors` asking for room) at most once per interval; other joins are refused
   * with peers to try. @default 10000
   */
  evictionInterval?: number
  /**
   * A neighbor for this many milliseconds is an anchor, never evicted to make room for a joiner. The
   * `minNeighbors` longest-standing neighbors, and any neighbor that brought a hit to a search of this
   * node, are anchors too, whatever their age. @default 60000
   */
  anchorAge?: number
  /**
   * Neighbors that may join this node from one network group (a public IPv4 /16 or IPv6 /32 of the
   * connection's observed address; loopback, private and link-local addresses and transports without
   * IP addresses are not grouped); 0: no limit. Keys are free, public addresses are not. @default 4
   */
  maxPerGroup?: number
  /** Peers given in a pong. @default 8 */
  pongPeers?: number
  /** Known non-neighbor peers remembered as candidates. @default 64 */
  maxCandidates?: number
}

export type ResolvedFloodingOptions = Readonly<Required<FloodingOptions>>

export const DEFAULT_FLOODING_OPTIONS: ResolvedFloodingOptions = Object.freeze({
  minNeighbors: 3,
  maxNeighbors: 8,
  ttl: 7,
  expandingRing: true,
  maxTtl: 7,
  ringHits: 1,
  providerTarget: 8,
  providerRings: 2,
  ringTimeout: 250,
  seenCacheSize: 2048,
  seenTtl: 60_000,
  queryRate: 50,
  queryBurst: 100,
  dropAfter: 100,
  banTime: 60_000,
  maintenanceInterval: 5000,
  probeAfter: 10_000,
  probeTimeout: 3000,
  evictionInterval: 10_000,
  anchorAge: 60_000,
  maxPerGroup: 4,
  pongPeers: 8,
  maxCandidates: 64,
})

type IntField = Exclude<keyof FloodingOptions, 'expandingRing' | 'queryRate'>

const INT_RANGES: Record<IntField, [number, number]> = {
  minNeighbors: [0, 1000],
  maxNeighbors: [1, 1000],
  ttl: [1, PROTOCOL_MAX_TTL],
  maxTtl: [1, PROTOCOL_MAX_TTL],
  ringHits: [1, 10_000],
  providerTarget: [1, 10_000],
  providerRings: [0, PROTOCOL_MAX_TTL],
  ringTimeout: [1, 3_600_000],
  seenCacheSize: [1, 10_000_000],
  seenTtl: [1, 86_400_000],
  queryBurst: [1, 1_000_000],
  dropAfter: [1, 1_000_000],
  banTime: [0, 86_400_000],
  maintenanceInterval: [1, 3_600_000],
  probeAfter: [1, 3_600_000],
  probeTimeout: [1, 3_600_000],
  evictionInterval: [0, 86_400_000],
  anchorAge: [0, 86_400_000],
  maxPerGroup: [0, 1000],
  pongPeers: [0, 256],
  maxCandidates: [0, 100_000],
}

/** Merges defaults, checks types and ranges, and freezes; throws `InvalidOptionsError` naming the field. */
export function parseFloodingOptions(input: unknown = {}): ResolvedFloodingOptions {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new InvalidOptionsError(`flooding options must be an object (got ${describe(input)})`)
  }
  const known = Object.keys(DEFAULT_FLOODING_OPTIONS)
  for (const key of Object.keys(input)) {
    if (!known.includes(key)) {
      throw new InvalidOptionsError(`flooding.${key} is not an option (accepted: ${known.join(', ')})`)
    }
  }
  const o = { ...DEFAULT_FLOODING_OPTIONS, ...stripUndefined(input as Record<string, unknown>) } as Record<
    string,
    unknown
  >
  for (const [field, [min, max]] of Object.entries(INT_RANGES)) {
    const v = o[field]
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new InvalidOptionsError(
        `flooding.${field} must be an integer from ${min} to ${max} (got ${describe(v)})`,
      )
    }
  }
  if (typeof o.expandingRing !== 'boolean') {
    throw new InvalidOptionsError(
      `flooding.expandingRing must be true or false (got ${describe(o.expandingRing)})`,
    )
  }
  const rate = o.queryRate
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0) {
    throw new InvalidOptionsError(`flooding.queryRate must be a number > 0 (got ${describe(rate)})`)
  }
  const r = o as Required<FloodingOptions>
  if (r.minNeighbors > r.maxNeighbors) {
    throw new InvalidOptionsError(
      `flooding.minNeighbors must be <= flooding.maxNeighbors (got ${r.minNeighbors} > ${r.maxNeighbors})`,
    )
  }
  if (r.ttl > r.maxTtl) {
    throw new InvalidOptionsError(`flooding.ttl must be <= flooding.maxTtl (got ${r.ttl} > ${r.maxTtl})`)
  }
  return Object.freeze({ ...r })
}

function describe(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`
  if (Array.isArray(v)) return 'an array'
  return String(v)
}

function stripUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined))
}
