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
  // Nodes built with the same options share one frozen copy.
  const last = lastParsed
  if (last && (Object.keys(RANGES) as (keyof ChordOptions)[]).every((k) => last[k] === opts[k])) return last
  lastParsed = Object.freeze(opts)
  return lastParsed
}

/** The last options parsed (see `parseChordOptions`). */
let lastParsed: ParsedChordOptions | undefined
