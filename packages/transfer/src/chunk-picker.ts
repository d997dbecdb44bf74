export interface ChunkPickerOptions {
  /** Extra copies of a chunk that may be in flight once no chunk is left unassigned (0: no endgame). */
  endgameDuplicates: number
}

/**
 * Decides which chunk a provider fetches next. Pure bookkeeping, no I/O.
 * Incremental: a cursor walks the chunks once, in order (good for the disk);
 * chunks given back (a failed or cancelled request) go on a retry stack that
 * is served first. Nothing is ever rescanned. Once every chunk is either done
 * or in flight, the endgame hands out duplicates of the oldest in-flight
 * chunks, at most `endgameDuplicates` extra copies each, never two to one source.
 */
export class ChunkPicker {
  readonly [Symbol.toStringTag] = '@peerkit/transfer:ChunkPicker'
  private readonly done: Uint8Array
  private cursor = 0
  private readonly retry: number[] = []
  /** Chunk → sources it is in flight to; insertion order is assignment order. */
  private readonly inFlight = new Map<number, Set<string>>()
  private doneCount = 0

  constructor(
    readonly count: number,
    have: Iterable<number> = [],
    private readonly options: ChunkPickerOptions = { endgameDuplicates: 1 },
  ) {
    this.done = new Uint8Array(count)
    for (const i of have) {
      if (i >= 0 && i < count && this.done[i] === 0) {
        this.done[i] = 1
        this.doneCount++
      }
    }
  }

  /** Chunks verified and written. */
  get completed(): number {
    return this.doneCount
  }

  get finished(): boolean {
    return this.doneCount === this.count
  }

  /** True while some chunk has never been handed out (or was given back). */
  get hasUnassigned(): boolean {
    this.skipDone()
    return this.retry.length > 0 || this.cursor < this.count
  }

  isDone(index: number): boolean {
    return this.done[index] === 1
  }

  /** Sources a chunk is in flight to. */
  holders(index: number): ReadonlySet<string> {
    return this.inFlight.get(index) ?? new Set()
  }

  /** The next chunk for `source` (now in flight to it), or undefined when it should wait. */
  next(source: string): number | undefined {
    while (this.retry.length > 0) {
      const i = this.retry.pop() as number
      if (this.done[i] === 0 && !this.inFlight.has(i)) return this.assign(i, source)
    }
    this.skipDone()
    if (this.cursor < this.count) return this.assign(this.cursor++, source)
    if (this.options.endgameDuplicates <= 0) return undefined
    for (const [i, holders] of this.inFlight) {
      if (!holders.has(source) && holders.size <= this.options.endgameDuplicates)
        return this.assign(i, source)
    }
    return undefined
  }

  /** The request for `index` from `source` failed or was cancelled: another source may take it. */
  release(index: number, source: string): void {
    const holders = this.inFlight.get(index)
    if (!holders?.delete(source)) return
    if (holders.size > 0) return
    this.inFlight.delete(index)
    if (this.done[index] === 0) this.retry.push(index)
  }

  /**
   * `index` arrived verified from `source`. Returns false when another copy
   * already completed it (a duplicate to discard), otherwise true with the
   * other sources it is still in flight to (whose requests can be cancelled).
   */
  complete(index: number, source: string): { first: boolean; others: string[] } {
    const holders = this.inFlight.get(index)
    holders?.delete(source)
    const others = holders ? [...holders] : []
    if (this.done[index] === 1) return { first: false, others }
    this.done[index] = 1
    this.doneCount++
    this.inFlight.delete(index)
    return { first: true, others }
  }

  /** Chunks not yet done, for error messages (first `limit`). */
  missing(limit = Number.POSITIVE_INFINITY): number[] {
    const out: number[] = []
    for (let i = 0; i < this.count && out.length < limit; i++) if (this.done[i] === 0) out.push(i)
    return out
  }

  private skipDone(): void {
    while (this.cursor < this.count && this.done[this.cursor] === 1) this.cursor++
  }

  private assign(index: number, source: string): number {
    let holders = this.inFlight.get(index)
    if (!holders) {
      holders = new Set()
      this.inFlight.set(index, holders)
    }
    holders.add(source)
    return index
  }
}

/** `[0, 1, 2, 5, 7, 8]` → `'0-2, 5, 7-8'`. */
export function formatRanges(indexes: readonly number[]): string {
  const parts: string[] = []
  for (let i = 0; i < indexes.length; ) {
    let j = i
    while (j + 1 < indexes.length && (indexes[j + 1] as number) === (indexes[j] as number) + 1) j++
    parts.push(i === j ? `${indexes[i]}` : `${indexes[i]}-${indexes[j]}`)
    i = j + 1
  }
  return parts.join(', ')
}
