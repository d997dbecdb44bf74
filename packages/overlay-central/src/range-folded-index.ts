import type { ContentHash, FileRecord, Hit, Index, PeerId, Query } from '@peerkit/core'

/** Names of one range whose keywords the range's index record carries (a range cannot stuff more). */
export const MAX_NAMES_PER_RANGE = 8

interface Entry {
  id: PeerId
  range: string
  record: FileRecord
  /** This entry's record is the one in the index for its range (the range's first provider). */
  shown: boolean
  /** When the registration lapses (clock ms), for an index that keeps registrations across restarts. */
  expiresAt?: number
}

/**
 * The directory's registry: an `Index` that holds, for each content hash, one
 * record per address range (the first provider of that range to register it),
 * and beside it the other providers of each range. The index ranks and cuts
 * keyword results by provider count, so folding a range into one record makes
 * that count the number of distinct ranges: keys crowding one range cannot
 * lift a file past others, nor push a file from more ranges out of a limit.
 * Search hits carry every provider again. A hash with one provider (the
 * common case) costs one small object beside the index.
 *
 * The range's record carries the keywords of the names its first
 * `MAX_NAMES_PER_RANGE` providers gave, so a later provider that named the
 * file differently is found by its own name (one office or one machine is one
 * range), while the range still counts once and cannot stuff more names.
 */
export class RangeFoldedIndex {
  private readonly byHash = new Map<ContentHash, Entry | Entry[]>()
  private count = 0

  /**
   * The fold is kept here, synchronously; the index's writes are issued in
   * order without waiting (an Index applies calls in the order they are made),
   * and a write that fails is reported to `onError`.
   */
  constructor(
    private readonly index: Index,
    private readonly onError: (err: unknown) => void = () => {}, // the DirectoryServer passes its logger; a test on a memory index (which never fails a write) need not
  ) {}

  /** Opens the underlying index (the directory's `start()`). */
  open(): Promise<void> {
    return this.index.open()
  }

  /** Closes the underlying index once its writes are done (the directory's `stop()`). */
  close(): Promise<void> {
    return this.index.close()
  }

  /** Records held, all providers counted. */
  get size(): number {
    return this.count
  }

  /** True when the records outlive the process (the index is durable): registrations carry an expiry. */
  get durable(): boolean {
    return this.index.durable
  }

  /** True when other processes share the records (directory servers on one database). */
  get shared(): boolean {
    return (this.index as { shared?: boolean }).shared === true
  }

  /**
   * Adds or replaces `record` of its provider, who registers from address
   * range `range`; with `expiresAt`, the registration lapses then (unless renewed).
   */
  put(record: FileRecord, range: string, expiresAt?: number): void {
    const id = record.provider.id
    const held = this.byHash.get(record.hash)
    const list = held === undefined ? [] : Array.isArray(held) ? held : [held]
    let entry = list.find((e) => e.id === id && e.range === range)
    if (entry) {
      entry.record = record
      entry.expiresAt = expiresAt
    } else {
      entry = { id, range, record, shown: !list.some((e) => e.range === range), expiresAt }
      list.push(entry)
      this.count++
      this.byHash.set(record.hash, list.length === 1 ? entry : list)
    }
    this.show(list, range)
  }

  /**
   * Moves the expiry of `provider`'s registrations of `hashes` (from `range`)
   * to `expiresAt`: one statement for an index that can renew a provider's
   * records (PostgreSQL), else each shown record put again.
   */
  renew(provider: PeerId, range: string, hashes: Iterable<ContentHash>, expiresAt: number): void {
    const renewable = this.index as { renew?: (provider: PeerId, expiresAt: number) => Promise<number> }
    const shown: Entry[] = []
    for (const hash of hashes) {
      const entry = this.entries(hash).find((e) => e.id === provider && e.range === range)
      if (!entry) continue
      entry.expiresAt = expiresAt
      if (entry.shown) shown.push(entry)
    }
    if (typeof renewable.renew === 'function') {
      this.write(renewable.renew(provider, expiresAt))
      return
    }
    for (const entry of shown) this.show(this.entries(entry.record.hash), range)
  }

  /**
   * Forgets `provider`'s record of `hash` here but leaves the index's copy to
   * lapse at its expiry (a shared index: the provider may have registered it
   * at another directory since); 1 when there was one.
   */
  forget(hash: ContentHash, provider: PeerId, range: string): number {
    const list = this.entries(hash)
    const i = list.findIndex((e) => e.id === provider && e.range === range)
    if (i < 0) return 0
    const [gone] = list.splice(i, 1) as [Entry]
    this.count--
    if (gone.shown) {
      const next = list.find((e) => e.range === range)
      if (next) {
        next.shown = true
        this.show(list, range)
      }
    }
    if (list.length === 0) this.byHash.delete(hash)
    else this.byHash.set(hash, list.length === 1 ? (list[0] as Entry) : list)
    return 1
  }

  /** The record `provider` registered for `hash` from `range`. */
  get(hash: ContentHash, provider: PeerId, range: string): FileRecord | undefined {
    return this.entries(hash).find((e) => e.id === provider && e.range === range)?.record
  }

  /** Removes `provider`'s record of `hash` (registered from `range`); 1 when there was one. */
  remove(hash: ContentHash, provider: PeerId, range: string): number {
    const list = this.entries(hash)
    const i = list.findIndex((e) => e.id === provider && e.range === range)
    if (i < 0) return 0
    const [gone] = list.splice(i, 1) as [Entry]
    this.count--
    if (gone.shown) {
      // The range's record in the index goes; the next provider of the range takes its place.
      this.write(this.index.remove(hash, provider))
      const next = list.find((e) => e.range === range)
      if (next) next.shown = true
    }
    this.show(list, range)
    if (list.length === 0) this.byHash.delete(hash)
    else this.byHash.set(hash, list.length === 1 ? (list[0] as Entry) : list)
    return 1
  }

  /** The index's hits (cut and ranked by ranges), each with every provider of every range. */
  async search(query: Query): Promise<Hit[]> {
    return (await this.index.search(query)).map((hit) => {
      const held = this.byHash.get(hit.hash)
      if (!Array.isArray(held)) return hit
      // Every provider held here (the ones folded behind their range's first too), then the index's others
      // (registered at other directories on a shared index, or here before a restart).
      const mine = held.map((e) => e.record.provider)
      const here = new Set(mine.map((p) => p.id))
      return { ...hit, providers: [...mine, ...hit.providers.filter((p) => !here.has(p.id))] }
    })
  }

  clear(): void {
    this.write(this.index.clear())
    this.byHash.clear()
    this.count = 0
  }

  /** Puts `range`'s record in the index: its first provider's, with the keywords of the range's first names. */
  private show(list: Entry[], range: string): void {
    let shown: Entry | undefined
    const words = new Set<string>()
    let names = 0
    for (const e of list) {
      if (e.range !== range) continue
      if (e.shown) shown = e
      if (names++ < MAX_NAMES_PER_RANGE) for (const k of e.record.keywords) words.add(k)
    }
    if (!shown) return
    const own = shown.record
    const record = words.size === own.keywords.length ? own : { ...own, keywords: [...words] }
    this.write(this.index.put(record, shown.expiresAt === undefined ? {} : { expiresAt: shown.expiresAt }))
  }

  private write(done: Promise<unknown>): void {
    done.catch(this.onError)
  }

  private entries(hash: ContentHash): Entry[] {
    const held = this.byHash.get(hash)
    return held === undefined ? [] : Array.isArray(held) ? held : [held]
  }
}
