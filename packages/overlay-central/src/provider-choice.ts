/** A provider of a hit as the directory sees it: where it connects from, and since when. */
export interface Placed<T> {
  item: T
  /** Its address range (IPv4 /24, IPv6 /64, or the address itself when it is not IP). */
  prefix: string
  /** When its session began: older first. */
  since: number
}

export interface Choice<T> {
  chosen: T[]
  /** Distinct address ranges among all the providers (chosen or not). */
  ranges: number
  /** The oldest provider's `since`. */
  oldest: number
}

/**
 * At most `max` providers, taken round-robin over their address ranges: the
 * oldest provider of each range, ranges in the order of their oldest
 * provider, then the second oldest of each … So one range (however many keys
 * it registers) gets one place per round, and honest older registrations
 * come before newcomers of the same range.
 */
export function chooseProviders<T>(providers: readonly Placed<T>[], max: number): Choice<T> {
  const byRange = new Map<string, Placed<T>[]>()
  let oldest = Number.POSITIVE_INFINITY
  for (const p of providers) {
    let list = byRange.get(p.prefix)
    if (!list) {
      list = []
      byRange.set(p.prefix, list)
    }
    list.push(p)
    if (p.since < oldest) oldest = p.since
  }
  const ranges = [...byRange.values()]
  for (const list of ranges) if (list.length > 1) list.sort((a, b) => a.since - b.since)
  ranges.sort((a, b) => (a[0] as Placed<T>).since - (b[0] as Placed<T>).since)
  const chosen: T[] = []
  for (let round = 0; chosen.length < max; round++) {
    let any = false
    for (const list of ranges) {
      const p = list[round]
      if (!p) continue
      any = true
      chosen.push(p.item)
      if (chosen.length >= max) break
    }
    if (!any) break
  }
  return { chosen, ranges: byRange.size, oldest }
}

/**
 * Search order: more distinct address ranges among the providers first (a
 * crowd of keys from one range counts once), then the older registration;
 * stable, so the index's order breaks the remaining ties.
 */
export function compareChoices(a: Choice<unknown>, b: Choice<unknown>): number {
  return b.ranges - a.ranges || a.oldest - b.oldest
}
