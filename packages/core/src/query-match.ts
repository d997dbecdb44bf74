/**
 * What a query term matches, defined once for every Index and every overlay.
 *
 * Terms and keywords are both normalised by `keywords()` (case-folded, accents
 * stripped, split on everything that is not a letter or a digit). A query term
 * matches a record keyword when
 * - the term is a **prefix** of the keyword (`movi` → `movie`, `mo` → `movie`), or
 * - the term is a **substring** of the keyword's first 64 characters
 *   (`MAX_GRAM_CHARS`) and at least `gramSize(term)`
 *   characters long: 3 (`ovi` → `movie`), or 2 when the term holds CJK
 *   characters (Han, Hiragana, Katakana, Hangul), whose words are not split
 *   by spaces (`神隠` → `千と千尋の神隠し`).
 *
 * A record matches a keyword query when every term matches one of its
 * keywords (`matches()` in records.ts).
 *
 * An n-gram index finds the candidates without scanning: a keyword is indexed
 * under `indexGrams(keyword)` (its trigrams, and its bigrams when it holds CJK
 * characters), and a term of at least `gramSize(term)` characters has
 * `queryGrams(term)`, all of which every keyword it matches carries (as a
 * substring within the keyword's first `MAX_GRAM_CHARS` characters). A term
 * shorter than that is a prefix: an index answers it from its prefixes or by
 * scanning its vocabulary. Candidates are confirmed with `termMatches`.
 * PostgreSQL's pg_trgm answers the same semantics with its own trigrams and a
 * `keyword LIKE 'term%' OR (length(term) >= n AND left(keyword, 64) LIKE '%term%')` check.
 */

/** Characters of scripts written without spaces between words. */
const CJK_RE = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u

/** The shortest substring (not prefix) that matches: 3 characters, 2 for CJK terms. */
export const SUBSTRING_MIN = 3
export const CJK_SUBSTRING_MIN = 2

/** True when `text` holds a Han, Hiragana, Katakana or Hangul character. */
export function hasCjk(text: string): boolean {
  return CJK_RE.test(text)
}

/** The n of the n-grams a term is looked up by, and the shortest substring it matches as: 2 for CJK terms, else 3. */
export function gramSize(term: string): number {
  return hasCjk(term) ? CJK_SUBSTRING_MIN : SUBSTRING_MIN
}

/**
 * True when query term `term` matches keyword `keyword`: a prefix of it, or a
 * substring of at least `gramSize(term)` characters within its first
 * `MAX_GRAM_CHARS` (64) characters.
 */
export function termMatches(term: string, keyword: string): boolean {
  if (term.length === 0) return false
  if (keyword.startsWith(term)) return true
  // The substring test first: it is false for most pairs, and makes nothing.
  return gramHead(keyword).includes(term) && codePoints(term) >= gramSize(term)
}

/** Characters (code points) of `s`, as `[...s].length` counts them, without making the array. */
function codePoints(s: string): number {
  let n = s.length
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--
        i++
      }
    }
  }
  return n
}

/** The distinct `n`-character substrings of `word`, in order of first appearance (by code point). */
export function ngrams(word: string, n: number): string[] {
  const out: string[] = []
  if (!SURROGATE_RE.test(word)) {
    // One UTF-16 unit per character (the common case): substrings, no array of characters.
    for (let i = 0; i + n <= word.length; i++) {
      const g = word.substring(i, i + n)
      if (!out.includes(g)) out.push(g)
    }
    return out
  }
  const chars = [...word]
  for (let i = 0; i + n <= chars.length; i++) {
    const g = chars.slice(i, i + n).join('')
    if (!out.includes(g)) out.push(g)
  }
  return out
}

const SURROGATE_RE = /[\uD800-\uDFFF]/

/**
 * The n-grams an index files `keyword` under: its trigrams, and its bigrams
 * too when it holds CJK characters. Every term that matches the keyword as a
 * substring has all its `queryGrams` among these.
 */
export function indexGrams(keyword: string): string[] {
  const head = gramHead(keyword)
  const tri = ngrams(head, SUBSTRING_MIN)
  return hasCjk(head) ? [...ngrams(head, CJK_SUBSTRING_MIN), ...tri] : tri
}

/**
 * Characters of a word that are filed by n-grams: a substring is found
 * within a word's first 64 characters (a prefix of any length is found), so
 * one long word costs at most about 62 trigrams and 63 bigrams, not one per
 * character (a 4 KB name cannot make an index hold thousands of entries).
 */
export const MAX_GRAM_CHARS = 64

/** The first MAX_GRAM_CHARS characters (code points) of `word`. */
function gramHead(word: string): string {
  if (word.length <= MAX_GRAM_CHARS) return word
  return SURROGATE_RE.test(word) ? [...word].slice(0, MAX_GRAM_CHARS).join('') : word.slice(0, MAX_GRAM_CHARS)
}

/**
 * The n-grams every keyword that `term` matches carries (see `indexGrams`);
 * empty when the term is shorter than `gramSize(term)`, which then matches
 * only as a prefix.
 */
export function queryGrams(term: string): string[] {
  const n = gramSize(term)
  return [...term].length >= n ? ngrams(gramHead(term), n) : []
}

/**
 * At most `max` distinct n-grams of a record's keywords, taken round-robin
 * (every keyword's first gram, then every keyword's second …), so each word
 * is findable by its beginning before any word by its middle. A DHT publishes
 * a record under these keys.
 */
export function recordGrams(keywords: readonly string[], max: number): string[] {
  const lists = keywords.map(indexGrams)
  const out = new Set<string>()
  for (let i = 0; out.size < max && lists.some((l) => i < l.length); i++) {
    for (const l of lists) {
      const g = l[i]
      if (g !== undefined) out.add(g)
      if (out.size >= max) break
    }
  }
  return [...out]
}

/** Vocabularies up to this many words are scanned; past it, an n-gram map finds the candidates. */
const SCAN_WORDS = 512

/**
 * The distinct keywords an index holds, answering which of them a query term
 * matches (`termMatches`). Small vocabularies are scanned; from `SCAN_WORDS`
 * words on, a map from each n-gram (`indexGrams`) to its words narrows a
 * substring term to the words that carry all its grams. The map costs one
 * entry per gram of each distinct word (not of each record).
 */
export class Vocabulary {
  private readonly words = new Set<string>()
  private grams: Map<string, Set<string>> | undefined

  get size(): number {
    return this.words.size
  }

  add(word: string): void {
    if (this.words.has(word)) return
    this.words.add(word)
    if (this.grams) this.file(word)
    else if (this.words.size > SCAN_WORDS) {
      this.grams = new Map()
      for (const w of this.words) this.file(w)
    }
  }

  delete(word: string): void {
    if (!this.words.delete(word) || !this.grams) return
    for (const g of indexGrams(word)) {
      const set = this.grams.get(g)
      set?.delete(word)
      if (set?.size === 0) this.grams.delete(g)
    }
  }

  clear(): void {
    this.words.clear()
    this.grams = undefined
  }

  /** The words `term` matches. */
  matching(term: string): string[] {
    const wanted = queryGrams(term)
    if (!this.grams || wanted.length === 0) return [...this.words].filter((w) => termMatches(term, w))
    const sets: Set<string>[] = []
    for (const g of wanted) {
      const set = this.grams.get(g)
      if (!set) return [] // a word the term matches carries every one of its grams
      sets.push(set)
    }
    sets.sort((a, b) => a.size - b.size)
    const [smallest, ...rest] = sets as [Set<string>, ...Set<string>[]]
    const out: string[] = []
    for (const w of smallest) if (rest.every((s) => s.has(w)) && termMatches(term, w)) out.push(w)
    return out
  }

  private file(word: string): void {
    const grams = this.grams as Map<string, Set<string>>
    for (const g of indexGrams(word)) {
      let set = grams.get(g)
      if (!set) {
        set = new Set()
        grams.set(g, set)
      }
      set.add(word)
    }
  }
}
