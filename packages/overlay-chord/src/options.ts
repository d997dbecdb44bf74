import { InvalidOptionsError } from '@peerkit/core'
import type { InjectionToken } from 'tsyringe'
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

const DEFAULTS: ParsedChordOptions = {
  bits: DEFAULT_BITS,
  successors: DEFAULT_SUCCESSORS,
  stabilizeInterval: DEFAULT_STABILIZE_INTERVAL,
  fixFingersInterval: DEFAULT_FIX_FINGERS_INTERVAL,
  checkPredecessorInterval: DEFAULT_CHECK_PREDECESSOR_INTERVAL,
  replication: DEFAULT_REPLICATION,
  recordTtl: DEFAULT_RECORD_TTL,
  refreshInterval: DEFAULT_REFRESH_INTERVAL,
  rpcTimeout: DEFAULT_RPC_TIMEOUT,
  concurrency: DEFAULT_CONCURRENCY,
  idDifficulty: DEFAULT_ID_DIFFICULTY,
  maxRecordsPerProvider: DEFAULT_MAX_RECORDS_PER_PROVIDER,
  maxBytesPerProvider: DEFAULT_MAX_BYTES_PER_PROVIDER,
  maxStoredRecords: DEFAULT_MAX_STORED_RECORDS,
  maxStoredBytes: DEFAULT_MAX_STORED_BYTES,
  maxAnswerPerProvider: DEFAULT_MAX_ANSWER_PER_PROVIDER,
  replicaWindow: DEFAULT_REPLICA_WINDOW,
  maxClockSkew: DEFAULT_MAX_CLOCK_SKEW,
  disjointPaths: DEFAULT_DISJOINT_PATHS,
  maxGramKeys: DEFAULT_MAX_GRAM_KEYS,
  bootstrapRetryMax: DEFAULT_BOOTSTRAP_RETRY_MAX,
}

const RANGES: Record<keyof ChordOptions, [number, number]> = {
  bits: [8, MAX_BITS],
  successors: [1, 64],
  stabilizeInterval: [1, 86_400_000],
  fixFingersInterval: [1, 86_400_000],
  checkPredecessorInterval: [1, 86_400_000],
  replication: [1, 65],
  recordTtl: [1, 30 * 86_400_000],
  refreshInterval: [1, 30 * 86_400_000],
  rpcTimeout: [1, 600_000],
  concurrency: [1, 1024],
  idDifficulty: [0, 24],
  maxRecordsPerProvider: [1, 100_000_000],
  maxBytesPerProvider: [1024, 2 ** 40],
  maxStoredRecords: [1, 100_000_000],
  maxStoredBytes: [1024, 2 ** 40],
  maxAnswerPerProvider: [1, 1000],
  replicaWindow: [1, 1024],
  maxClockSkew: [0, 86_400_000],
  disjointPaths: [1, 8],
  maxGramKeys: [0, 256],
  bootstrapRetryMax: [1000, 86_400_000],
}

/** Merges defaults, checks every field, and freezes; throws `InvalidOptionsError` naming the field. */
export function parseChordOptions(input: unknown = {}): ParsedChordOptions {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new InvalidOptionsError(
      `chord options must be an object (got ${input === null ? 'null' : typeof input})`,
    )
  }
  const given = input as Record<string, unknown>
  const out: Record<string, number> = { ...DEFAULTS }
  for (const key of Object.keys(given)) {
    if (!(key in RANGES)) {
      throw new InvalidOptionsError(
        `chord.${key} is not an option (accepted: ${Object.keys(RANGES).join(', ')})`,
      )
    }
    const value = given[key]
    if (value === undefined) continue
    const [min, max] = RANGES[key as keyof ChordOptions]
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new InvalidOptionsError(
        `chord.${key} must be an integer from ${min} to ${max} (got ${JSON.stringify(value)})`,
      )
    }
    out[key] = value
  }
  const opts = out as Required<ChordOptions>
  if (opts.replication > opts.successors + 1) {
    throw new InvalidOptionsError(
      `chord.replication must be at most chord.successors + 1 = ${opts.successors + 1} (got ${opts.replication})`,
    )
  }
  if (opts.refreshInterval >= opts.recordTtl) {
    throw new InvalidOptionsError(
      `chord.refreshInterval must be below chord.recordTtl = ${opts.recordTtl} (got ${opts.refreshInterval})`,
    )
  }
  if (opts.maxRecordsPerProvider > opts.maxStoredRecords) {
    throw new InvalidOptionsError(
      `chord.maxRecordsPerProvider must be at most chord.maxStoredRecords = ${opts.maxStoredRecords} (got ${opts.maxRecordsPerProvider})`,
    )
  }
  if (opts.maxBytesPerProvider > opts.maxStoredBytes) {
    throw new InvalidOptionsError(
      `chord.maxBytesPerProvider must be at most chord.maxStoredBytes = ${opts.maxStoredBytes} (got ${opts.maxBytesPerProvider})`,
    )
  }
  // Nodes built with the same options share one frozen copy.
  const last = lastParsed
  if (last && (Object.keys(RANGES) as (keyof ChordOptions)[]).every((k) => last[k] === opts[k])) return last
  lastParsed = Object.freeze(opts)
  return lastParsed
}

/** The last options parsed (see `parseChordOptions`). */
let lastParsed: ParsedChordOptions | undefined
