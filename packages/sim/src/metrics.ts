import type { OverlayStats } from '@peerkit/core'

/** Mean, median, 95th percentile and maximum of a sample. */
export interface Summary {
  count: number
  mean: number
  p50: number
  p95: number
  max: number
}

/** Summarises a sample (zeros for an empty one). */
export function summarize(values: readonly number[]): Summary {
  const n = values.length
  if (n === 0) return { count: 0, mean: 0, p50: 0, p95: 0, max: 0 }
  const sorted = Float64Array.from(values).sort()
  let sum = 0
  for (const v of sorted) sum += v
  const at = (q: number) => sorted[Math.min(n - 1, Math.floor(q * n))] as number
  return { count: n, mean: sum / n, p50: at(0.5), p95: at(0.95), max: sorted[n - 1] as number }
}

/**
 * The largest of `values`, or `floor` when it is larger or `values` is empty.
 * A loop, not `Math.max(...values)`: a spread passes every element on the call
 * stack, which overflows beyond about 10^5 elements (one per peer).
 */
export function maxOf(values: Iterable<number>, floor = Number.NEGATIVE_INFINITY): number {
  let m = floor
  for (const v of values) if (v > m) m = v
  return m
}

/** The smallest of `values`, or `ceiling` when it is smaller or `values` is empty (a loop, see `maxOf`). */
export function minOf(values: Iterable<number>, ceiling = Number.POSITIVE_INFINITY): number {
  let m = ceiling
  for (const v of values) if (v < m) m = v
  return m
}

/** The busiest node and the mean, of the messages each node received and the records each holds. */
export interface LoadFigures {
  maxMessages: number
  meanMessages: number
  maxRecords: number
  meanRecords: number
}

/** `SimulationResult.load` from one figure per node (any number of nodes: no spread, no recursion). */
export function loadFigures(loads: readonly number[], records: readonly number[]): LoadFigures {
  let loadSum = 0
  for (const v of loads) loadSum += v
  let recordSum = 0
  for (const v of records) recordSum += v
  return {
    maxMessages: maxOf(loads, 0),
    meanMessages: round(loadSum / Math.max(1, loads.length)),
    maxRecords: maxOf(records, 0),
    meanRecords: round(recordSum / Math.max(1, records.length)),
  }
}

/** Messages an overlay sent and received, in total. */
export function messageTotals(stats: OverlayStats): { sent: number; received: number } {
  let sent = 0
  let received = 0
  for (const v of Object.values(stats.sent)) sent += v
  for (const v of Object.values(stats.received)) received += v
  return { sent, received }
}

/** Records the overlay says it holds (its `records` figure), else `fallback` (the node's own shares). */
export function recordsHeld(stats: OverlayStats, fallback = 0): number {
  const r = stats.records
  return typeof r === 'number' && Number.isFinite(r) ? r : fallback
}

/** Adds `stats.sent` by kind into `into`. */
export function addByKind(into: Record<string, number>, stats: OverlayStats): void {
  for (const [k, v] of Object.entries(stats.sent)) into[k] = (into[k] ?? 0) + v
}

/** `after - before`, by kind, keeping only the kinds that changed. */
export function diffByKind(
  after: Record<string, number>,
  before: Record<string, number>,
): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0)
    if (d !== 0) out[k] = d
  }
  return out
}

/** Rounds to `digits` decimals (for stable, readable reports). */
export function round(x: number, digits = 3): number {
  const f = 10 ** digits
  return Math.round(x * f) / f
}
