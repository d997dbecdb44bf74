/** Bits per word the filter is sized for: a word files about 7 bigrams, so about a quarter of the bits are set. */
const BITS_PER_WORD = 16

/** UTF-16 units of a word whose bigrams are filed: they hold its first 64 characters, where core's termMatches looks. */
const WORD_UNITS = 128

/** UTF-16 units of a query term whose bigrams are looked up. */
const TERM_UNITS = 64

/**
 * Which pairs of adjacent UTF-16 units the words of a small index hold: a
 * Bloom filter (one hash) of each word's bigrams within its first 128 units.
 * A query term matches a word (core's `termMatches`: a prefix of it, or a
 * substring of its first 64 characters) only if the word holds each of the
 * term's bigrams, so a term with one missing matches no word, and a search
 * knows it without reading the words. Never a false negative; false
 * positives only cost the scan the filter would have saved.
 *
 * Words removed leave their bits; the owner builds a new filter when the
 * words outgrow `capacity` or half as many were removed.
 */
export class BigramFilter {
  /** Words the filter was sized for. */
  readonly capacity: number
  /** Words removed since it was built (their bits stay set). */
  removed = 0
  /**
   * A typed array made at its size (the array grown by push it replaced kept its elements apart from
   * it, with room to spare): a flood asks every node's filter once a query, nearly always cold.
   */
  private readonly bits: Int32Array
  private readonly shift: number
  /**
   * The same bigrams folded into 64 bits (`fold0`, `fold1`; see `foldMayMatch`): two numbers its owner
   * can keep among its own fields, so most terms are turned away before the filter itself is read.
   */
  fold0 = 0
  fold1 = 0

  constructor(words: number) {
    this.capacity = Math.max(8, words + (words >> 1))
    let log = 7
    while (1 << log < this.capacity * BITS_PER_WORD) log++
    this.shift = 32 - log
    this.bits = new Int32Array(1 << (log - 5))
  }

  /** Bits the filter holds (a power of two). */
  get size(): number {
    return this.bits.length * 32
  }

  add(word: string): void {
    const n = Math.min(word.length, WORD_UNITS)
    for (let i = 1; i < n; i++) {
      const a = word.charCodeAt(i - 1)
      const b = word.charCodeAt(i)
      const h = this.hash(a, b)
      this.bits[h >>> 5] = (this.bits[h >>> 5] as number) | (1 << (h & 31))
      const f = foldOf(a, b)
      if (f < 32) this.fold0 |= 1 << f
      else this.fold1 |= 1 << (f - 32)
    }
  }

  /** False when no word filed can match `term`; true when one may (a term of one unit always may). */
  mayMatch(term: string): boolean {
    const n = Math.min(term.length, TERM_UNITS)
    for (let i = 1; i < n; i++) {
      const h = this.hash(term.charCodeAt(i - 1), term.charCodeAt(i))
      if (((this.bits[h >>> 5] as number) & (1 << (h & 31))) === 0) return false
    }
    return true
  }

  private hash(a: number, b: number): number {
    return Math.imul((a << 16) | b, 0x9e3779b1) >>> this.shift
  }
}

/** A bigram's bit of the 64 in a fold (the top 6 bits of the filter's multiplicative hash). */
function foldOf(a: number, b: number): number {
  return Math.imul((a << 16) | b, 0x9e3779b1) >>> 26
}

/**
 * False when a filter whose fold is (`fold0`, `fold1`) can match no word with `term` (a bigram of it
 * is in no word filed); true when its `mayMatch` must say. Never a false negative, as `mayMatch`.
 */
export function foldMayMatch(term: string, fold0: number, fold1: number): boolean {
  const n = Math.min(term.length, TERM_UNITS)
  for (let i = 1; i < n; i++) {
    const f = foldOf(term.charCodeAt(i - 1), term.charCodeAt(i))
    if (((f < 32 ? fold0 : fold1) & (1 << (f & 31))) === 0) return false
  }
  return true
}
