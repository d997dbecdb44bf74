import { parseOptions } from '@peerkit/core'
import type { InjectionToken } from 'tsyringe'
import { z } from 'zod'
import { MAX_BITS } from './ring.js'

/** Options of the `chord` overlay (`config.options.chord`). Every interval is in milliseconds, on the injected Clock. */
export interface ChordOptions {
  /** Identifier bits m: ids live on a ring of 2^m points. @default 64 */
  bits?: number
  /** Length r of the successor list kept for failure recovery. @default 8 */
  successors?: number
  /** Milliseconds between `stabilize` rounds. @default 1000 */
  stabilizeInterval?: number
  /** Milliseconds between `fix_fingers` rounds (one finger looked up per round). @default 500 */
  fixFingersInterval?: number
  /** Milliseconds between `check_predecessor` pings. @default 2000 */
  checkPredecessorInterval?: number
  /** Nodes that hold each key's records: its successor and the next `replication - 1`. Must not exceed `successors + 1`. @default 3 */
  replication?: number
  /** Milliseconds a stored record lives unless its provider refreshes it. @default 360000 */
  recordTtl?: number
  /** Milliseconds between a provider's re-publications of its records. Must be below `recordTtl`. @default 120000 */
  refreshInterval?: number
  /** Milliseconds to wait for one Chord request (a dead node costs this much in a lookup). @default 3000 */
  rpcTimeout?: number
  /** Lookups, stores and removals a node runs at once while publishing. @default 8 */
  concurrency?: number
  /**
   * Node-id puzzle: a PeerId enters a routing table, stores or hands over
   * records only when SHA-256(SHA-256(PeerId)) starts with this many zero bits
   * (0: no puzzle). A node whose identity does not solve it derives one that
   * does (about 2^idDifficulty key generations at start). Every node of a ring
   * must use the same value. @default 8
   */
  idDifficulty?: number
  /** Records of one provider a node holds for the ring; stores beyond it are refused with RateLimitError. @default 10000 */
  maxRecordsPerProvider?: number
  /** Bytes of records (names, keywords, addresses …) of one provider a node holds. @default 4194304 */
  maxBytesPerProvider?: number
  /** Records a node holds for the ring, all providers together; past it the largest provider's records go first. @default 100000 */
  maxStoredRecords?: number
  /** Bytes of records a node holds for the ring, all providers together. @default 67108864 */
  maxStoredBytes?: number
  /** Records of one provider in one `get` or `search` answer (providers take turns, fewest records first), so one cannot crowd out the others. @default 100 */
  maxAnswerPerProvider?: number
  /**
   * A node takes a key's records from a `store` or `replicate` only when it may
   * be one of the key's `replication` holders: the key lies in its own range,
   * or within `replicaWindow × replication` mean node gaps before it (the gap
   * estimated from its successor list). `replicate` comes only from a node within
   * that many gaps on either side. @default 4
   */
  replicaWindow?: number
  /**
   * Searches and `providers` look their key up along this many disjoint paths
   * (S/Kademlia) and trust the answer closest after the key, so one lying
   * node on a path cannot send them elsewhere; each path costs its own hops. @default 1
   */
  disjointPaths?: number
  /** Milliseconds a record's signed expiry may lie beyond `now + recordTtl` (providers' clocks differ). @default 300000 */
  maxClockSkew?: number
  /**
   * N-gram keys a record is published under besides its content hash and its
   * keywords (core's `recordGrams`: every word's first trigram, then every
   * word's second …; bigrams for CJK), so a prefix or substring query
   * (`movi`, `神隠`) routes to one key. Each key costs one more stored copy on
   * `replication` nodes. 0: whole keywords only. Every node of a ring must use
   * the same value. @default 24
   */
  maxGramKeys?: number
  /**
   * Longest wait in milliseconds between two attempts to join through the
   * bootstrap addresses while none answers (the first retry comes after 1 s,
   * each next one waits twice as long). The node starts anyway, as a ring of
   * one, and says `bootstrapping` in `connectivity()`. @default 60000
   */
  bootstrapRetryMax?: number
}

export const DEFAULT_BITS = 64
export const DEFAULT_SUCCESSORS = 8
export const DEFAULT_STABILIZE_INTERVAL = 1000
export const DEFAULT_FIX_FINGERS_INTERVAL = 500
export const DEFAULT_CHECK_PREDECESSOR_INTERVAL = 2000
export const DEFAULT_REPLICATION = 3
export const DEFAULT_RECORD_TTL = 360_000
export const DEFAULT_REFRESH_INTERVAL = 120_000
export const DEFAULT_RPC_TIMEOUT = 3000
export const DEFAULT_CONCURRENCY = 8
export const DEFAULT_ID_DIFFICULTY = 8
export const DEFAULT_MAX_RECORDS_PER_PROVIDER = 10_000
export const DEFAULT_MAX_BYTES_PER_PROVIDER = 4 * 1024 * 1024
export const DEFAULT_MAX_STORED_RECORDS = 100_000
export const DEFAULT_MAX_STORED_BYTES = 64 * 1024 * 1024
export const DEFAULT_MAX_ANSWER_PER_PROVIDER = 100
export const DEFAULT_REPLICA_WINDOW = 4
export const DEFAULT_MAX_CLOCK_SKEW = 300_000
export const DEFAULT_DISJOINT_PATHS = 1
export const DEFAULT_MAX_GRAM_KEYS = 24
export const DEFAULT_BOOTSTRAP_RETRY_MAX = 60_000

export type ParsedChordOptions = Readonly<Required<ChordOptions>>

export const CHORD_OPTIONS: InjectionToken<ParsedChordOptions> = Symbol.for('@peerkit/overlay-chord:Options')

const DAY = 86_400_000
const int = (min: number, max: number, fallback: number) =>
  z.number().int().min(min).max(max).default(fallback)

/** The schema of `options.chord`: every field's bounds and default (documented on `ChordOptions`). */
export const chordOptionsSchema = z
  .object({
    bits: int(8, MAX_BITS, DEFAULT_BITS),
    successors: int(1, 64, DEFAULT_SUCCESSORS),
    stabilizeInterval: int(1, DAY, DEFAULT_STABILIZE_INTERVAL),
    fixFingersInterval: int(1, DAY, DEFAULT_FIX_FINGERS_INTERVAL),
    checkPredecessorInterval: int(1, DAY, DEFAULT_CHECK_PREDECESSOR_INTERVAL),
    replication: int(1, 65, DEFAULT_REPLICATION),
    recordTtl: int(1, 30 * DAY, DEFAULT_RECORD_TTL),
    refreshInterval: int(1, 30 * DAY, DEFAULT_REFRESH_INTERVAL),
    rpcTimeout: int(1, 600_000, DEFAULT_RPC_TIMEOUT),
    concurrency: int(1, 1024, DEFAULT_CONCURRENCY),
    idDifficulty: int(0, 24, DEFAULT_ID_DIFFICULTY),
    maxRecordsPerProvider: int(1, 100_000_000, DEFAULT_MAX_RECORDS_PER_PROVIDER),
    maxBytesPerProvider: int(1024, 2 ** 40, DEFAULT_MAX_BYTES_PER_PROVIDER),
    maxStoredRecords: int(1, 100_000_000, DEFAULT_MAX_STORED_RECORDS),
    maxStoredBytes: int(1024, 2 ** 40, DEFAULT_MAX_STORED_BYTES),
    maxAnswerPerProvider: int(1, 1000, DEFAULT_MAX_ANSWER_PER_PROVIDER),
    replicaWindow: int(1, 1024, DEFAULT_REPLICA_WINDOW),
    maxClockSkew: int(0, DAY, DEFAULT_MAX_CLOCK_SKEW),
    disjointPaths: int(1, 8, DEFAULT_DISJOINT_PATHS),
    maxGramKeys: int(0, 256, DEFAULT_MAX_GRAM_KEYS),
    bootstrapRetryMax: int(1000, DAY, DEFAULT_BOOTSTRAP_RETRY_MAX),
  })
  .strict()
  .check((ctx) => {
    const o = ctx.value
    const atMost = (field: keyof ChordOptions, bound: string, limit: number, strict = false) => {
      const value = o[field]
      if (strict ? value >= limit : value > limit)
        ctx.issues.push({
          code: 'custom',
          path: [field],
          message: `${strict ? 'below' : 'at most'} ${bound} = ${limit}`,
          input: value,
        })
    }
    atMost('replication', 'chord.successors + 1', o.successors + 1)
    atMost('refreshInterval', 'chord.recordTtl', o.recordTtl, true)
    atMost('maxRecordsPerProvider', 'chord.maxStoredRecords', o.maxStoredRecords)
    atMost('maxBytesPerProvider', 'chord.maxStoredBytes', o.maxStoredBytes)
  })

/** Fills in the defaults, checks every field and freezes; throws `InvalidOptionsError` naming the field. */
export function parseChordOptions(input: unknown = {}): ParsedChordOptions {
  return parseOptions(chordOptionsSchema, input, 'chord')
}
