// src/options.ts
import { parseOptions } from '@peerkit/core'
import { z } from 'zod'

/** The largest TTL a walker may carry; a walk message with more is refused by its schema. */
export const PROTOCOL_MAX_TTL = 1024

/** Options of the `randomwalk` overlay (`config.options.randomwalk`). */
export const randomWalkOptionsSchema = z
  .object({
    /** Walkers each search sends (k in Lv et al. 2002). @default 4 */
    walkers: z.number().int().min(1).max(64).default(4),
    /** Steps a walker takes at most. @default 64 */
    ttl: z.number().int().min(1).max(PROTOCOL_MAX_TTL).default(64),
    /**
     * Providers (over every file found) that satisfy a search without a `limit`: its walkers stop at
     * their next check once it has this many (with a `limit`, the limit of distinct files decides). @default 8
     */
    hitTarget: z.number().int().min(1).max(100_000).default(8),
    /** A walker asks its origin whether to go on every this many steps. @default 4 */
    checkEvery: z.number().int().min(1).max(PROTOCOL_MAX_TTL).default(4),
    /** Milliseconds a search waits for its walkers when the caller gives no `timeout`. @default 5000 */
    searchTimeout: z.number().int().min(1).max(3_600_000).default(5000),
    /** Neighbors the node tries to keep; below this, maintenance looks for more. @default 3 */
    minNeighbors: z.number().int().min(1).max(1000).default(3),
    /** Neighbors the node accepts; joins beyond this are declined (with other peers to try). @default 8 */
    maxNeighbors: z.number().int().min(1).max(10_000).default(8),
    /** Milliseconds between neighbor maintenance rounds. @default 5000 */
    maintenanceInterval: z.number().int().min(1).max(3_600_000).default(5000),
    /** Known peers kept as candidate neighbors. @default 64 */
    maxCandidates: z.number().int().min(0).max(100_000).default(64),
    /** Walkers per second one neighbor may hand this node; more are dropped. @default 50 */
    walkRate: z.number().positive().max(1_000_000).default(50),
    /** Walkers one neighbor may hand this node in a burst above `walkRate`. @default 100 */
    walkBurst: z.number().int().min(1).max(1_000_000).default(100),
    /** Searches of this node running at once; a search beyond it yields nothing. @default 64 */
    maxSearches: z.number().int().min(1).max(100_000).default(64),
    /**
     * A fixed neighbor list, as addresses: the node joins these peers and only these (no bootstrap, no
     * candidates), accepts a join only from the peer it reached itself at one of these addresses, and
     * re-joins a listed peer it lost at the next maintenance round. At most `maxNeighbors`. @default []
     */
    staticNeighbors: z.array(z.string().min(1).max(1024)).max(10_000).default([]),
  })
  .strict()
  .refine((o) => o.minNeighbors <= o.maxNeighbors, {
    message: 'minNeighbors must be <= maxNeighbors',
    path: ['minNeighbors'],
  })
  .refine((o) => o.staticNeighbors.length <= o.maxNeighbors, {
    message:
      'staticNeighbors must list at most maxNeighbors addresses (raise maxNeighbors for a node of this degree)',
    path: ['staticNeighbors'],
  })

export type RandomWalkOptions = z.input<typeof randomWalkOptionsSchema>
export type ResolvedRandomWalkOptions = Readonly<z.output<typeof randomWalkOptionsSchema>>

/** Fills the defaults, checks, and freezes; throws `InvalidOptionsError` in core's one format, naming the field. */
export function parseRandomWalkOptions(input?: unknown): ResolvedRandomWalkOptions {
  return parseOptions(randomWalkOptionsSchema, input ?? {}, 'randomwalk')
}
