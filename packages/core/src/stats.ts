import type { OverlayStats } from './overlay.js'

/**
 * Most message kinds `MessageCounter` tells apart in one process; past them
 * every new kind is counted under `OTHER_KIND`. The overlays count a few
 * dozen kinds in all, names of their own, never a string a remote chose;
 * the bound keeps a caller that did from growing the table without end.
 */
export const MAX_COUNTED_KINDS = 1024

/** Where kinds past `MAX_COUNTED_KINDS` are counted. */
export const OTHER_KIND = 'other'

/**
 * The kinds counted in this process, each with its index in every counter's
 * arrays. One table for all the counters: a counter's own object of counts
 * by kind, made in the order its node first saw each kind, had a shape of
 * its own, so each count was a look-up in a dictionary (1.2–1.6 % of a
 * 10^4-peer supernode simulation's CPU); an index into an array of numbers
 * is the same operation at every node.
 */
const kindIndex = new Map<string, number>()
const kindNames: string[] = []

function indexOfKind(kind: string): number {
  const known = kindIndex.get(kind)
  if (known !== undefined) return known
  if (kindNames.length >= MAX_COUNTED_KINDS - 1 && kind !== OTHER_KIND) return indexOfKind(OTHER_KIND)
  const index = kindNames.length
  kindNames.push(kind)
  kindIndex.set(kind, index)
  return index
}

/** `counts[index] += n` for a kind's index; a kind never counted here is `undefined`. */
function add(counts: (number | undefined)[], index: number, n: number): void {
  while (counts.length <= index) counts.push(undefined)
  counts[index] = (counts[index] ?? 0) + n
}

/** The counts as an object by kind, the kinds in the order this process first counted them. */
function byKind(counts: readonly (number | undefined)[] | undefined): Record<string, number> {
  const out: Record<string, number> = {}
  if (counts === undefined) return out
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i]
    if (n !== undefined) out[kindNames[i] as string] = n
  }
  return out
}

function sum(counts: readonly (number | undefined)[] | undefined): number {
  let total = 0
  if (counts !== undefined) for (const n of counts) total += n ?? 0
  return total
}

/** Counts messages sent and received by kind, for `Overlay.stats()`. */
export class MessageCounter {
  // Made with the first count: most of a simulator's 100,000 nodes never count anything.
  private sentBy: (number | undefined)[] | undefined
  private receivedBy: (number | undefined)[] | undefined

  sent(kind: string, n = 1): void {
    this.sentBy ??= []
    add(this.sentBy, indexOfKind(kind), n)
  }

  received(kind: string, n = 1): void {
    this.receivedBy ??= []
    add(this.receivedBy, indexOfKind(kind), n)
  }

  totalSent(): number {
    return sum(this.sentBy)
  }

  totalReceived(): number {
    return sum(this.receivedBy)
  }

  snapshot(extra: Record<string, unknown> = {}): OverlayStats {
    return { ...extra, sent: byKind(this.sentBy), received: byKind(this.receivedBy) }
  }
}
