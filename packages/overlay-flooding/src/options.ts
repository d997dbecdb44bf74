import { parseOptions } from '@peerkit/core'
import { z } from 'zod'

/** The largest TTL the protocol carries; a query arriving with more is clamped to `maxTtl`. */
export const PROTOCOL_MAX_TTL = 16

/**
 * Options of the `flooding` overlay (`config.options.flooding`): one schema, with the defaults in it.
 * Cross-field rules: `minNeighbors <= maxNeighbors`, `ttl <= maxTtl`, `staticNeighbors.length <= maxNeighbors`.
 */
export const floodingOptionsSchema = z
  .object({
    /** Neighbors the node tries to keep; below this it looks for more. */
    minNeighbors: z.number().int().min(0).max(1000).default(3),
    /** Neighbors the node accepts; join requests beyond this are declined (with other peers to try). */
    maxNeighbors: z.number().int().min(1).max(10_000).default(8),
    /** TTL of a plain flood (when `expandingRing` is off). */
    ttl: z.number().int().min(1).max(PROTOCOL_MAX_TTL).default(7),
    /** Search with TTL 1, 2, 3 … up to `maxTtl`, stopping once enough hits arrived. */
    expandingRing: z.boolean().default(true),
    /** Last TTL the expanding ring tries; incoming queries with a larger TTL are clamped to it. */
    maxTtl: z.number().int().min(1).max(PROTOCOL_MAX_TTL).default(7),
    /** Distinct files that end the expanding ring (the query's `limit` wins when set). */
    ringHits: z.number().int().min(1).max(10_000).default(1),
    /**
     * Providers the expanding ring collects before it ends (over all files found; for `providers()`,
     * of the one hash): after the first step with hits it goes on, one hop further each step up to
     * `maxTtl`, until this many peers hold what was found, so a search lists every provider within
     * reach up to this many. A query `limit` ends the search at that many files regardless.
     */
    providerTarget: z.number().int().min(1).max(10_000).default(8),
    /**
     * Steps the expanding ring may go on past the first step with hits to reach `providerTarget`: it
     * bounds what collecting providers costs for a file with few copies, which would otherwise take
     * the ring to `maxTtl` (a full flood after the smaller ones).
     */
    providerRings: z.number().int().min(0).max(PROTOCOL_MAX_TTL).default(2),
    /** Milliseconds to wait for hits per hop: a step (or a plain flood) at TTL t waits t × ringTimeout. */
    ringTimeout: z.number().int().min(1).max(3_600_000).default(250),
    /** Query ids remembered (to drop duplicates and route hits back). */
    seenCacheSize: z.number().int().min(1).max(10_000_000).default(2048),
    /** Milliseconds a query id is remembered. */
    seenTtl: z.number().int().min(1).max(86_400_000).default(60_000),
    /** Queries per second a neighbor may send before it is throttled. */
    queryRate: z.number().positive().default(50),
    /** Queries a neighbor may send in a burst above `queryRate`. */
    queryBurst: z.number().int().min(1).max(1_000_000).default(100),
    /** Throttled queries (without a pause long enough to refill the burst) before the neighbor is dropped. */
    dropAfter: z.number().int().min(1).max(1_000_000).default(100),
    /** Milliseconds a dropped neighbor is refused as a neighbor. */
    banTime: z.number().int().min(0).max(86_400_000).default(60_000),
    /** Milliseconds between neighbor maintenance rounds. */
    maintenanceInterval: z.number().int().min(1).max(3_600_000).default(5000),
    /**
     * A neighbor not heard from for this many milliseconds is pinged at the next maintenance round, and
     * dropped (and replaced) when it does not answer within `probeTimeout`: a link that goes down
     * silently is noticed.
     */
    probeAfter: z.number().int().min(1).max(3_600_000).default(10_000),
    /** Milliseconds a probed neighbor has to answer. */
    probeTimeout: z.number().int().min(1).max(3_600_000).default(3000),
    /**
     * Milliseconds between two evictions: a full node makes room for a joiner (one with no neighbor,
     * or one below `minNeighbors` asking for room) at most once per interval; other joins are refused
     * with peers to try.
     */
    evictionInterval: z.number().int().min(0).max(86_400_000).default(10_000),
    /**
     * A neighbor for this many milliseconds is an anchor, never evicted to make room for a joiner. The
     * `minNeighbors` longest-standing neighbors, and any neighbor that brought a hit to a search of this
     * node, are anchors too, whatever their age.
     */
    anchorAge: z.number().int().min(0).max(86_400_000).default(60_000),
    /**
     * Neighbors that may join this node from one network group (a public IPv4 /16 or IPv6 /32 of the
     * connection's observed address; loopback, private and link-local addresses and transports without
     * IP addresses are not grouped); 0: no limit. Keys are free, public addresses are not.
     */
    maxPerGroup: z.number().int().min(0).max(1000).default(4),
    /** Peers given in a pong. */
    pongPeers: z.number().int().min(0).max(256).default(8),
    /** Known non-neighbor peers remembered as candidates. */
    maxCandidates: z.number().int().min(0).max(100_000).default(64),
    /**
     * A fixed neighbor list (Gnutella's "connect to these hosts"): the addresses of the peers to be
     * neighbors with. When set, the node joins these and only these: it joins no bootstrap peer or
     * candidate, accepts a join only from the peer it reached itself at one of these addresses, evicts nobody and
     * probes nobody, and re-joins a listed peer it lost at the next maintenance round. Empty: the
     * neighbors are found and kept by the protocol.
     */
    staticNeighbors: z.array(z.string().min(1).max(1024)).max(10_000).default([]),
  })
  .strict()
  .check((ctx) => {
    const o = ctx.value
    if (o.staticNeighbors.length > o.maxNeighbors)
      ctx.issues.push({
        code: 'custom',
        path: ['staticNeighbors'],
        message: `at most maxNeighbors = ${o.maxNeighbors} addresses (raise maxNeighbors for a node of this degree)`,
        input: o.staticNeighbors.length,
      })
    for (const [field, limit] of [
      ['minNeighbors', 'maxNeighbors'],
      ['ttl', 'maxTtl'],
    ] as const) {
      if (o[field] > o[limit])
        ctx.issues.push({
          code: 'custom',
          path: [field],
          message: `at most ${limit} = ${o[limit]}`,
          input: o[field],
        })
    }
  })

/** What a user gives (every field optional). */
export type FloodingOptions = z.input<typeof floodingOptionsSchema>
/** The parsed, frozen options the overlay runs with. */
export type ResolvedFloodingOptions = Readonly<z.output<typeof floodingOptionsSchema>>

/**
 * Fills the defaults, checks types, ranges and the cross-field rules, and freezes; throws
 * `InvalidOptionsError` in core's one format (`flooding.maxNeighbour is not an option; did you mean maxNeighbors?`).
 */
export function parseFloodingOptions(input: unknown = {}): ResolvedFloodingOptions {
  return parseOptions(floodingOptionsSchema, input, 'flooding')
}

/** Every option at its default. */
export const DEFAULT_FLOODING_OPTIONS: ResolvedFloodingOptions = parseFloodingOptions({})
