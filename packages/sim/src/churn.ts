import type { LookupReport } from './chord.js'
import { round } from './metrics.js'
import type { SimulationOptions } from './options.js'
import type { SimulationResult } from './result.js'

/**
 * One row of Stoica et al., "Chord: a scalable peer-to-peer lookup protocol
 * for Internet applications", IEEE/ACM ToN 11(1), 2003, Table III: lookups
 * while nodes join and fail, each by a Poisson process of rate R per second,
 * 500 nodes at the start, stabilisation every 30 s on average, one lookup a
 * second. `pathLength` and `timeouts` are means per lookup.
 */
export interface TonChurnRow {
  /** Joins per second, and as many failures. */
  rate: number
  pathLength: number
  timeouts: number
  /** Lookups that did not end at the key's current successor, per 10,000. */
  failuresPer10k: number
}

/** The paper's Table III, as published. */
export const TON_TABLE_III: readonly TonChurnRow[] = Object.freeze([
  { rate: 0.05, pathLength: 3.9, timeouts: 0.05, failuresPer10k: 0 },
  { rate: 0.1, pathLength: 3.83, timeouts: 0.11, failuresPer10k: 0 },
  { rate: 0.15, pathLength: 3.84, timeouts: 0.16, failuresPer10k: 2 },
  { rate: 0.2, pathLength: 3.81, timeouts: 0.23, failuresPer10k: 5 },
  { rate: 0.25, pathLength: 3.83, timeouts: 0.3, failuresPer10k: 6 },
  { rate: 0.3, pathLength: 3.91, timeouts: 0.34, failuresPer10k: 8 },
  { rate: 0.35, pathLength: 3.94, timeouts: 0.42, failuresPer10k: 16 },
  { rate: 0.4, pathLength: 4.06, timeouts: 0.46, failuresPer10k: 15 },
])

/** The churn rates of the paper's Table III (per second). */
export const TON_CHURN_RATES: readonly number[] = Object.freeze(TON_TABLE_III.map((r) => r.rate))

export interface ChurnScenarioOptions {
  /** Peers at the start. @default 500 (the paper's) */
  nodes?: number
  seed?: number
}

/**
 * The ToN 2003 Table III set-up for `runSimulation`: Chord, 500 nodes from a
 * converged ring, successor lists of 20, stabilize, fix_fingers and
 * check_predecessor every 30 s (each node at its own phase), then `lookups`
 * random-key lookups, one a second on average (Poisson), while peers join
 * through the protocol and crash, each by a Poisson process of `rate` per
 * second. Each lookup is checked against the key's successor among the nodes
 * alive when it ends.
 */
export function tonChurnOptions(
  rate: number,
  lookups: number,
  options: ChurnScenarioOptions = {},
): SimulationOptions {
  return {
    overlay: 'chord',
    nodes: options.nodes ?? 500,
    seed: options.seed ?? 1,
    queries: 0,
    files: 10,
    join: 'oracle',
    warmup: 0,
    settle: 0,
    churn: rate,
    lookups,
    lookupInterval: 1000,
    overlayOptions: {
      successors: 20,
      stabilizeInterval: 30_000,
      fixFingersInterval: 30_000,
      checkPredecessorInterval: 30_000,
    },
  }
}

/** Lookups that did not end at the key's successor (wrong or thrown), per 10,000. */
export function lookupFailuresPer10k(l: LookupReport): number {
  return l.checked === 0 ? 0 : round(((l.checked - l.correct) / l.checked) * 10_000, 1)
}

/**
 * The same churn on any overlay: `nodes` peers (joined through the overlay's
 * protocol, chord from a converged ring with the Table III upkeep), then
 * `queries` keyword searches, one a second on average, while peers join and
 * crash at `rate` per second each (a leaver's files go to the next joiner,
 * which publishes them).
 */
export function churnOptions(
  overlay: string,
  rate: number,
  queries: number,
  options: ChurnScenarioOptions = {},
): SimulationOptions {
  return {
    overlay,
    nodes: options.nodes ?? 500,
    seed: options.seed ?? 1,
    queries,
    queryInterval: 1000,
    churn: rate,
    ...(overlay === 'chord'
      ? {
          lookups: queries,
          lookupInterval: 1000,
          overlayOptions: {
            stabilizeInterval: 30_000,
            fixFingersInterval: 30_000,
            checkPredecessorInterval: 30_000,
          },
        }
      : {}),
  }
}

/** What a churn comparison reports per overlay and rate. */
export interface ChurnRow {
  overlay: string
  rate: number
  successRate: number
  firstHitMs: number
  firstHitP95: number
  hops: number
  messagesPerQuery: number
  joined: number
  left: number
  /** Chord: lookups that did not end at the key's successor, per 10,000. */
  lookupFailuresPer10k?: number
}

export function churnRow(r: SimulationResult): ChurnRow {
  const row: ChurnRow = {
    overlay: r.overlay,
    rate: r.options.churn,
    successRate: r.queries.successRate,
    firstHitMs: r.firstHitMs.mean,
    firstHitP95: r.firstHitMs.p95,
    hops: r.hops.mean,
    messagesPerQuery: r.messages.perQuery,
    joined: r.network.joined,
    left: r.network.left,
  }
  if (r.lookups) row.lookupFailuresPer10k = lookupFailuresPer10k(r.lookups)
  return row
}
