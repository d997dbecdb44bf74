import { type Clock, ProtocolError } from '@peerkit/core'

/**
 * Slots a cache starts with. The ring doubles when more than half its slots hold entries as it
 * fills, else it is compacted in place, so it holds at most twice the power of two at or above
 * `maxSize` (4,096 slots at the default 2,048: about 200 KB at most, 48 bytes a slot).
 */
const FIRST_SLOTS = 16
/** 32-bit words of a query id (16 bytes, 32 hex digits). */
const WORDS = 4
/**
 * 32-bit cells of a slot's record: its id's words, its `home`, 1 when its value is not undefined, and
 * when it was set (Clock ms: a float64 over the last two cells). A record is 32 bytes: what a look-up
 * and an insert read of a slot sits in one cache line or two, not in one array each.
 */
const STRIDE = 8
const HOME = 4
const DEFINED = 5
const AT = 6
/** The time of a slot whose entry left the cache before the entries older than it (see `remove`). */
const GONE = -1
/**
 * Where `find` parses an id's words, for the insert that follows it at once (shared by every cache:
 * nothing runs between the two, and one cache's array of its own was one more object to read).
 */
const WORDS_OF = new Int32Array(WORDS)
/**
 * A record's time passes through these, as its two cells' bits read as a float64: a float64 view of the
 * cache's own (over `cells`' buffer) was one more object to read at every look-up, apart from the cells.
 */
const TIME = new Float64Array(1)
const TIME_HALVES = new Int32Array(TIME.buffer)
/** Each UTF-16 unit's hex digit value, -1 for any other unit (64 KB, made once). */
const HEX_DIGITS = new Int8Array(0x10000).fill(-1)
for (let d = 0; d < 16; d++) HEX_DIGITS[(d < 10 ? 0x30 : 0x57) + d] = d

/**
 * `SeenCache` for query ids (32 lowercase hex digits, as the protocol's schema
 * and `newQueryId` make them), with the same entries, order and expiry: at most
 * `maxSize` entries, each for at most `maxAge` milliseconds on `clock`, the
 * oldest going first when it is full, expiry checked on access and on insert
 * (no timers).
 *
 * Every node of a flood keeps one entry per query it sees: a Map of strings
 * held three objects per entry (the id string, the entry, its time), about
 * 136 bytes of heap that the collector traces, promoted to the old generation
 * with the entry. Here an id is its 16 bytes in a typed array, found through an
 * open-addressing table of slot numbers (linear probing); the entries sit in a ring of slots, oldest first,
 * and only the values are a JavaScript array. About 48 bytes an entry, none of
 * them objects.
 *
 * The table and the slots' records share one buffer: a simulator holds thousands of caches, each
 * looked at once per message, so nearly every access misses the CPU's caches, and each typed array
 * read costs its own object and its own line of memory.
 *
 * An id's place in the table is a mix of all its words with a secret of the
 * cache's own (not its first 32 bits: a peer choosing its query ids could make
 * them all share one probe run, and every look-up of the flood then walks it).
 */
export class QueryIdCache<V> {
  /** Slots in the ring (a power of two). */
  private slots = 0
  /**
   * The open-addressing table (`2 × slots` places: slot + 1 of each entry, 0 for none), then each
   * slot's record (`STRIDE` cells: see there).
   */
  private cells = new Int32Array(0)
  /** Where the records begin in `cells` (the table's length). */
  private records = 0
  private values: (V | undefined)[] = []
  /** The ring's oldest slot, and how many slots from it are taken (entries and GONE slots). */
  private head = 0
  private used = 0
  private live = 0
  /** `home` of the id in `WORDS_OF` (set by `find`, which every insert follows). */
  private wordsHome = 0
  /**
   * The secret `home` mixes in: random per cache, from the system's generator (not a seeded one). Two
   * fields of the cache, not an array of its own: one more object to read at every look-up.
   */
  private readonly secret0: number
  private readonly secret1: number

  constructor(
    private readonly clock: Clock,
    readonly maxSize: number,
    readonly maxAge: number,
  ) {
    const secret = globalThis.crypto.getRandomValues(new Int32Array(2))
    this.secret0 = secret[0] as number
    this.secret1 = secret[1] as number
  }

  get size(): number {
    return this.live
  }

  /** Slots in the ring: what the cache's memory grows with (bounded: see `FIRST_SLOTS`). */
  get capacity(): number {
    return this.slots
  }

  has(id: string): boolean {
    return this.get(id) !== undefined
  }

  /** The value, or undefined when absent or expired. */
  get(id: string): V | undefined {
    const at = this.find(id)
    if (at < 0) return undefined
    const slot = (this.cells[at] as number) - 1
    if (this.clock.now() - this.timeOf(slot) >= this.maxAge) {
      this.remove(at, slot)
      return undefined
    }
    return this.values[slot]
  }

  /** Remembers `id` (anew, as the youngest entry), evicting expired and then the oldest entries. */
  set(id: string, value: V): void {
    const at = this.find(id)
    if (at >= 0) this.remove(at, (this.cells[at] as number) - 1)
    this.insert(value, this.clock.now())
  }

  /** Remembers `id` unless it is already known; returns true when it was new. */
  add(id: string, value: V): boolean {
    const now = this.clock.now()
    const at = this.find(id)
    if (at >= 0) {
      const slot = (this.cells[at] as number) - 1
      // A duplicate (most of what a flood brings) reads the table and its record, not the values.
      if (now - this.timeOf(slot) < this.maxAge && this.cells[this.recordOf(slot) + DEFINED] === 1)
        return false
      this.remove(at, slot)
    }
    this.insert(value, now)
    return true
  }

  clear(): void {
    this.cells.fill(0, 0, this.records)
    this.values.fill(undefined)
    this.head = 0
    this.used = 0
    this.live = 0
  }

  /** Writes `time` into the record beginning at `record` (its last two cells). */
  private setTime(record: number, time: number): void {
    TIME[0] = time
    this.cells[record + AT] = TIME_HALVES[0] as number
    this.cells[record + AT + 1] = TIME_HALVES[1] as number
  }

  /** Where slot `slot`'s record begins in `cells`. */
  private recordOf(slot: number): number {
    return this.records + slot * STRIDE
  }

  private timeOf(slot: number): number {
    const o = this.records + slot * STRIDE + AT
    TIME_HALVES[0] = this.cells[o] as number
    TIME_HALVES[1] = this.cells[o + 1] as number
    return TIME[0] as number
  }

  /**
   * Parses `id` into `WORDS_OF`, sets `wordsHome`, and returns its place in the table (-1: not there).
   * Every caller inserts or removes from what `WORDS_OF` holds then.
   */
  private find(id: string): number {
    parse(id, WORDS_OF)
    const home = this.home()
    this.wordsHome = home
    if (this.live === 0) return -1
    const cells = this.cells
    const mask = this.records - 1
    const w = WORDS_OF
    const w0 = w[0] as number
    const w1 = w[1] as number
    const w2 = w[2] as number
    const w3 = w[3] as number
    for (let at = home & mask; ; at = (at + 1) & mask) {
      const s = cells[at] as number
      if (s === 0) return -1
      const o = this.records + (s - 1) * STRIDE
      if (cells[o] === w0 && cells[o + 1] === w1 && cells[o + 2] === w2 && cells[o + 3] === w3) return at
    }
  }

  /** Adds the id in `WORDS_OF`, known absent, as the youngest entry; evicts as `SeenCache` prunes. */
  private insert(value: V, now: number): void {
    // SeenCache inserts, then drops the oldest entries while it holds more than maxSize or the oldest
    // has expired; the new one is never among them (maxSize >= 1, maxAge >= 1). The same, in advance:
    while (this.live > 0 && (this.live >= this.maxSize || now - this.oldestAt() >= this.maxAge))
      this.evictOldest()
    if (this.used === this.slots) this.resize()
    const slot = (this.head + this.used) & (this.slots - 1)
    this.used++
    this.live++
    const cells = this.cells
    const o = this.recordOf(slot)
    const w = WORDS_OF
    cells[o] = w[0] as number
    cells[o + 1] = w[1] as number
    cells[o + 2] = w[2] as number
    cells[o + 3] = w[3] as number
    const home = this.wordsHome
    cells[o + HOME] = home
    cells[o + DEFINED] = value === undefined ? 0 : 1
    this.setTime(o, now)
    this.values[slot] = value
    const mask = this.records - 1
    let at = home & mask
    while (cells[at] !== 0) at = (at + 1) & mask
    cells[at] = slot + 1
  }

  /** The time of the oldest entry (the ring's head, past any GONE slots: `evictOldest` skips them). */
  private oldestAt(): number {
    this.skipGone()
    return this.timeOf(this.head)
  }

  private evictOldest(): void {
    this.skipGone()
    const slot = this.head
    this.unlink(slot)
    this.values[slot] = undefined
    this.live--
    this.head = (this.head + 1) & (this.slots - 1)
    this.used--
  }

  /** Moves the head past the slots whose entries left out of order. */
  private skipGone(): void {
    while (this.used > 0 && this.timeOf(this.head) === GONE) {
      this.head = (this.head + 1) & (this.slots - 1)
      this.used--
    }
  }

  /** Removes the entry at table place `at` (ring slot `slot`), leaving a GONE slot in the ring. */
  private remove(at: number, slot: number): void {
    this.deleteAt(at)
    this.setTime(this.recordOf(slot), GONE)
    this.values[slot] = undefined
    this.live--
  }

  /** Removes ring slot `slot` from the table. */
  private unlink(slot: number): void {
    const cells = this.cells
    const mask = this.records - 1
    for (let at = (cells[this.recordOf(slot) + HOME] as number) & mask; ; at = (at + 1) & mask) {
      if (cells[at] === slot + 1) {
        this.deleteAt(at)
        return
      }
    }
  }

  /** Empties table place `at`, moving back the entries of its probe run that would be cut off from their home. */
  private deleteAt(at: number): void {
    const cells = this.cells
    const mask = this.records - 1
    let hole = at
    for (let next = (hole + 1) & mask; cells[next] !== 0; next = (next + 1) & mask) {
      const home = (cells[this.recordOf((cells[next] as number) - 1) + HOME] as number) & mask
      // The entry at `next` may fill the hole if its home is not cyclically within (hole, next].
      if (((next - home) & mask) >= ((next - hole) & mask)) {
        cells[hole] = cells[next] as number
        hole = next
      }
    }
    cells[hole] = 0
  }

  /** A ring twice as large (or as large, when GONE slots fill it), entries oldest first from slot 0. */
  private resize(): void {
    const slots =
      this.live * 2 > this.slots || this.slots === 0 ? Math.max(FIRST_SLOTS, this.slots * 2) : this.slots
    const records = slots * 2
    const cells = new Int32Array(records + slots * STRIDE)
    const values: (V | undefined)[] = new Array(slots).fill(undefined)
    let n = 0
    for (let i = 0; i < this.used; i++) {
      const s = (this.head + i) & (this.slots - 1)
      if (this.timeOf(s) === GONE) continue
      const from = this.recordOf(s)
      const to = records + n * STRIDE
      for (let c = 0; c < STRIDE; c++) cells[to + c] = this.cells[from + c] as number
      values[n] = this.values[s]
      n++
    }
    this.slots = slots
    this.cells = cells
    this.records = records
    this.values = values
    this.head = 0
    this.used = n
    const mask = records - 1
    for (let s = 0; s < n; s++) {
      let at = (cells[records + s * STRIDE + HOME] as number) & mask
      while (cells[at] !== 0) at = (at + 1) & mask
      cells[at] = s + 1
    }
  }

  /** The table place of the id in `WORDS_OF` before probing: its four words and the secret, mixed. */
  private home(): number {
    const w = WORDS_OF
    let h = mix((w[0] as number) ^ this.secret0)
    h = mix(h ^ (w[1] as number))
    h = mix(h ^ (w[2] as number) ^ this.secret1)
    return mix(h ^ (w[3] as number))
  }

  /** The longest run of table places a look-up may probe (what a flood of colliding ids would lengthen). */
  get longestProbe(): number {
    const cells = this.cells
    const mask = this.records - 1
    let longest = 0
    for (let at = 0; at < this.records; at++) {
      const s = cells[at] as number
      if (s === 0) continue
      const distance = ((at - ((cells[this.recordOf(s - 1) + HOME] as number) & mask)) & mask) + 1
      if (distance > longest) longest = distance
    }
    return longest
  }
}

/** murmur3's 32-bit finalizer: every bit of `h` moves every bit of the result. */
function mix(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return h ^ (h >>> 16)
}

/**
 * Writes the 32 hex digits of `id` into `out` as four 32-bit words; throws on anything else. One
 * table read a digit (`HEX_DIGITS`), and one test for the whole id: a unit that is no digit is -1.
 */
function parse(id: string, out: Int32Array): void {
  if (id.length !== WORDS * 8) throw new ProtocolError(`not a query id: '${id.slice(0, 40)}'`)
  let bad = 0
  for (let w = 0; w < WORDS; w++) {
    let v = 0
    for (let i = w * 8; i < w * 8 + 8; i++) {
      const d = HEX_DIGITS[id.charCodeAt(i)] as number
      bad |= d
      v = (v << 4) | d
    }
    out[w] = v
  }
  if (bad < 0) throw new ProtocolError(`not a query id: '${id.slice(0, 40)}'`)
}
