import { InvalidOptionsError } from '@peerkit/core'

/** The protocol's largest TTL among supernodes. */
export const PROTOCOL_MAX_TTL = 7

/** Options of the `supernode` overlay, under `options.supernode` of the peer configuration. */
export interface SupernodeOptions {
  /**
   * Whether this peer may become a supernode: `true`, `false`, or `'auto'`
   * (when it listens on at least one address others can dial).
   * @default 'auto'
   */
  canBeSupernode?: boolean | 'auto'
  /**
   * Relative capacity (bandwidth, uptime …) for elections: higher is preferred.
   * `0` measures it: 1 for a reachable peer, plus one per hour of uptime (at most 24).
   * @default 0
   */
  capacity?: number
  /** Leaves per supernode the network aims at: one with over 1.5× as many promotes a leaf (and hands it half); it accepts 2× at most. @default 32 */
  leavesPerSupernode?: number
  /** Links a supernode keeps to other supernodes (fewer when fewer exist). @default 32 */
  supernodeLinks?: number
  /** Links a supernode accepts at most. @default 48 */
  maxSupernodeLinks?: number
  /** Hops a search travels among supernodes (after the leaf's own supernode). @default 2 */
  ttl?: number
  /** Supernode-level expanding ring for searches with a `limit`: own index, then TTL 1, 2 … @default true */
  expandingRing?: boolean
  /** Milliseconds a supernode waits for answers per TTL step of a search. @default 500 */
  hopTimeout?: number
  /** Milliseconds between a leaf's heartbeats to its supernode; it drops a silent leaf after 3×. @default 2000 */
  heartbeatInterval?: number
  /** Milliseconds one attempt to attach to a supernode may take. @default 2000 */
  failoverTimeout?: number
  /** Largest random back-off, in milliseconds, before an orphaned leaf that was not elected tries again. @default 1000 */
  electionDelay?: number
  /** Milliseconds between maintenance rounds (links, promotion, demotion, refresh). @default 1000 */
  maintenanceInterval?: number
  /** Milliseconds between a leaf's refreshes of its list of supernodes and co-leaves. @default 10000 */
  refreshInterval?: number
  /** Milliseconds a supernode serves before it may demote itself when it has few leaves; 0 never demotes. @default 30000 */
  demoteAfter?: number
  /** Queries a second a neighbor (leaf or linked supernode) may send, on average. @default 50 */
  queryRate?: number
  /** Queries a neighbor may send at once before the rate applies. @default 100 */
  queryBurst?: number
  /** Query ids remembered for duplicate suppression and reverse routing. @default 4096 */
  seenCacheSize?: number
  /** Milliseconds a query id is remembered. @default 30000 */
  seenTtl?: number
  /**
   * Capacity a supernode credits a leaf with at most in elections, whatever
   * the leaf reports (a measured capacity reaches 25 after a day). @default 25
   */
  maxCapacity?: number
  /**
   * Milliseconds a leaf must stay attached to a supernode to be credited one
   * more unit of the capacity it reports (a newcomer counts as 1). @default 3600000
   */
  capacityRamp?: number
  /** Records a supernode's directory holds for its leaves in all. @default 200000 */
  maxRecords?: number
  /** Estimated bytes a supernode's directory holds for its leaves in all. @default 268435456 (256 MiB) */
  maxBytes?: number
}

export type ResolvedSupernodeOptions = Readonly<Required<SupernodeOptions>>

export const DEFAULT_SUPERNODE_OPTIONS: ResolvedSupernodeOptions = Object.freeze({
  canBeSupernode: 'auto',
  capacity: 0,
  leavesPerSupernode: 32,
  supernodeLinks: 32,
  maxSupernodeLinks: 48,
  ttl: 2,
  expandingRing: true,
  hopTimeout: 500,
  heartbeatInterval: 2000,
  failoverTimeout: 2000,
  electionDelay: 1000,
  maintenanceInterval: 1000,
  refreshInterval: 10_000,
  demoteAfter: 30_000,
  queryRate: 50,
  queryBurst: 100,
  seenCacheSize: 4096,
  seenTtl: 30_000,
  maxCapacity: 25,
  capacityRamp: 3_600_000,
  maxRecords: 200_000,
  maxBytes: 256 * 1024 * 1024,
})

type Check = (field: string, value: unknown) => void

const int =
  (min: number, max = Number.MAX_SAFE_INTEGER): Check =>
  (field, value) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`
      throw new InvalidOptionsError(`${field} must be an integer ${range} (got ${JSON.stringify(value)})`)
    }
  }

const nonNegative: Check = (field, value) => {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw new InvalidOptionsError(`${field} must be a number >= 0 (got ${JSON.stringify(value)})`)
}

const positive: Check = (field, value) => {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new InvalidOptionsError(`${field} must be a number > 0 (got ${JSON.stringify(value)})`)
}

const bool: Check = (field, value) => {
  if (typeof value !== 'boolean')
    throw new InvalidOptionsError(`${field} must be true or false (got ${JSON.stringify(value)})`)
}

const CHECKS: Record<keyof SupernodeOptions, Check> = {
  canBeSupernode: (field, value) => {
    if (value !== 'auto' && typeof value !== 'boolean')
      throw new InvalidOptionsError(`${field} must be true, false or 'auto' (got ${JSON.stringify(value)})`)
  },
  capacity: nonNegative,
  leavesPerSupernode: int(1, 100_000),
  supernodeLinks: int(1, 1000),
  maxSupernodeLinks: int(1, 1000),
  ttl: int(1, PROTOCOL_MAX_TTL),
  expandingRing: bool,
  hopTimeout: int(1),
  heartbeatInterval: int(1),
  failoverTimeout: int(1),
  electionDelay: int(0),
  maintenanceInterval: int(1),
  refreshInterval: int(1),
  demoteAfter: int(0),
  queryRate: positive,
  queryBurst: int(1),
  seenCacheSize: int(1),
  seenTtl: int(1),
  maxCapacity: positive,
  capacityRamp: int(1),
  maxRecords: int(0),
  maxBytes: int(0),
}

/** Validates `options.supernode`, merges the defaults and freezes the result; throws `InvalidOptionsError` naming the field. */
export function parseSupernodeOptions(input: unknown): ResolvedSupernodeOptions {
  if (input === undefined || input === null) return DEFAULT_SUPERNODE_OPTIONS
  if (typeof input !== 'object' || Array.isArray(input))
    throw new InvalidOptionsError(`supernode options must be an object (got ${JSON.stringify(input)})`)
  const out: Record<string, unknown> = { ...DEFAULT_SUPERNODE_OPTIONS }
  for (const [key, value] of Object.entries(input)) {
    const check = CHECKS[key as keyof SupernodeOptions]
    if (!check)
      throw new InvalidOptionsError(
        `supernode.${key} is not an option; known: ${Object.keys(CHECKS).join(', ')}`,
      )
    if (value === undefined) continue
    check(`supernode.${key}`, value)
    out[key] = value
  }
  const o = out as Required<SupernodeOptions>
  if (o.maxSupernodeLinks < o.supernodeLinks)
    throw new InvalidOptionsError(
      `supernode.maxSupernodeLinks must be >= supernode.supernodeLinks (${o.supernodeLinks}) (got ${o.maxSupernodeLinks})`,
    )
  return Object.freeze(o)
}
