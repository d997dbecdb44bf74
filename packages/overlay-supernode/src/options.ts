import { parseOptions } from '@peerkit/core'
import { z } from 'zod'

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
  /**
   * Milliseconds between a leaf's heartbeats to its supernode; it drops a silent leaf after 3×. A crash
   * closes the connection and is noticed at once; the heartbeat is for silent failures (a hang, a
   * partition). The default is the central directory's own (5 s, dropped after 15 s): at 2 s, the
   * heartbeats were two thirds of a 10,000-peer network's traffic. A refresh (`refreshInterval`) the
   * supernode answers counts as a heartbeat: the next one is due this long after it, so at the
   * defaults a leaf sends one heartbeat between two refreshes instead of two. @default 5000
   */
  heartbeatInterval?: number
  /**
   * Milliseconds one attempt to attach to a supernode may take, and a supernode's `link` request or
   * `ping` to another (a silent one is given up then, not after the network's requestTimeout). @default 2000
   */
  failoverTimeout?: number
  /** Largest random back-off, in milliseconds, before an orphaned leaf that was not elected tries again. @default 1000 */
  electionDelay?: number
  /** Milliseconds between maintenance rounds (links, promotion, demotion, refresh). @default 1000 */
  maintenanceInterval?: number
  /** Milliseconds between a leaf's refreshes of its list of supernodes and co-leaves. @default 10000 */
  refreshInterval?: number
  /**
   * A leaf and its supernode also swap the supernodes they know (8 each way; 32 at attach) at one refresh in
   * this many (and when it attaches): once a minute at the default refreshInterval, and as often in
   * refreshes when the timers are set faster. The refreshes between carry the leaf's capacity and the
   * election list only. At every refresh (1), those lists were most of a 10,000-peer network's CPU.
   * A supernode's ping to a link asks for the link's list at one ping in this many too.
   * @default 6
   */
  gossipEvery?: number
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

const int = (min: number, max: number, fallback: number) =>
  z.number().int().min(min).max(max).default(fallback)
const MAX = Number.MAX_SAFE_INTEGER

/** The schema of `options.supernode`: every field's bounds and default (documented on `SupernodeOptions`). */
export const supernodeOptionsSchema = z
  .object({
    canBeSupernode: z
      .union([z.boolean(), z.literal('auto')], { error: "true, false or 'auto'" })
      .default('auto'),
    capacity: z.number().min(0).default(0),
    leavesPerSupernode: int(1, 100_000, 32),
    supernodeLinks: int(1, 1000, 32),
    maxSupernodeLinks: int(1, 1000, 48),
    ttl: int(1, PROTOCOL_MAX_TTL, 2),
    expandingRing: z.boolean().default(true),
    hopTimeout: int(1, MAX, 500),
    heartbeatInterval: int(1, MAX, 5000),
    failoverTimeout: int(1, MAX, 2000),
    electionDelay: int(0, MAX, 1000),
    maintenanceInterval: int(1, MAX, 1000),
    refreshInterval: int(1, MAX, 10_000),
    gossipEvery: int(1, 1_000_000, 6),
    demoteAfter: int(0, MAX, 30_000),
    queryRate: z.number().positive().default(50),
    queryBurst: int(1, MAX, 100),
    seenCacheSize: int(1, MAX, 4096),
    seenTtl: int(1, MAX, 30_000),
    maxCapacity: z.number().positive().default(25),
    capacityRamp: int(1, MAX, 3_600_000),
    maxRecords: int(0, MAX, 200_000),
    maxBytes: int(0, MAX, 256 * 1024 * 1024),
  })
  .strict()
  .check((ctx) => {
    const o = ctx.value
    if (o.maxSupernodeLinks < o.supernodeLinks)
      ctx.issues.push({
        code: 'custom',
        path: ['maxSupernodeLinks'],
        message: `at least supernode.supernodeLinks = ${o.supernodeLinks}`,
        input: o.maxSupernodeLinks,
      })
  })

/** Validates `options.supernode` through core's parseOptions (one error format, the nearest name for a typo), merges the defaults and freezes the result. */
export function parseSupernodeOptions(input: unknown): ResolvedSupernodeOptions {
  return parseOptions(supernodeOptionsSchema, input ?? {}, 'supernode') as ResolvedSupernodeOptions
}

export const DEFAULT_SUPERNODE_OPTIONS: ResolvedSupernodeOptions = parseSupernodeOptions({})
