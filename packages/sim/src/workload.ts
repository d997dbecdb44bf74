import {
  type ContentHash,
  type FileRecord,
  keywords,
  type PeerRef,
  type Random,
  Vocabulary,
} from '@peerkit/core'
import { Zipf } from './distributions.js'

/** One file of the simulated catalog. */
export interface SimFile {
  /** Popularity rank: 0 is the most requested. */
  readonly rank: number
  readonly hash: ContentHash
  readonly name: string
  readonly keywords: readonly string[]
  readonly size: number
}

/** A keyword query aimed at one file (other files may match too). */
export interface SimQuery {
  readonly target: SimFile
  readonly keywords: readonly string[]
}

const CONSONANTS = 'bcdfghjklmnprstvz'
const VOWELS = 'aeiou'
const CHUNK_SIZE = 256 * 1024
/** Words in a file name. */
const NAME_WORDS = 3
/** Words a query uses (of its target's name). */
const QUERY_WORDS = 2
/** Zipf exponent of word frequency in names: a few words are common, most are rare. */
const WORD_ZIPF = 0.8

/** A pronounceable pseudo-word of 2–4 syllables. */
export function pseudoWord(random: Random): string {
  let w = ''
  const syllables = 2 + random.int(3)
  for (let i = 0; i < syllables; i++)
    w += CONSONANTS.charAt(random.int(CONSONANTS.length)) + VOWELS.charAt(random.int(5))
  return w
}

/**
 * The files of a simulation, with names made of pseudo-words whose
 * frequencies follow Zipf's law (so some keywords match many files), and an
 * inverted index from keyword to files for the ground truth.
 */
export class Catalog {
  readonly files: SimFile[] = []
  private readonly byKeyword = new Map<string, number[]>()
  /** The distinct keywords, to find those a query term matches as core does (prefix or substring). */
  private readonly known = new Vocabulary()
  private readonly popularity: Zipf

  constructor(random: Random, count: number, popularityExponent: number) {
    const vocabulary = new Set<string>()
    const target = Math.max(64, 2 * count)
    while (vocabulary.size < target) vocabulary.add(pseudoWord(random))
    const words = [...vocabulary]
    const wordZipf = new Zipf(words.length, WORD_ZIPF)
    const names = new Set<string>()
    while (this.files.length < count) {
      const picked = new Set<string>()
      while (picked.size < NAME_WORDS) picked.add(words[wordZipf.sample(random)] as string)
      const name = [...picked].join(' ')
      if (names.has(name)) continue
      names.add(name)
      const rank = this.files.length
      const hash = Buffer.from(random.bytes(32)).toString('hex')
      const file: SimFile = { rank, hash, name, keywords: keywords(name), size: 1 + random.int(2 ** 30) }
      this.files.push(file)
      for (const k of file.keywords) {
        this.known.add(k)
        const list = this.byKeyword.get(k)
        if (list) list.push(rank)
        else this.byKeyword.set(k, [rank])
      }
    }
    this.popularity = new Zipf(count, popularityExponent)
  }

  /** A query for a file drawn by popularity, with some of its name's words. */
  query(random: Random): SimQuery {
    const target = this.files[this.popularity.sample(random)] as SimFile
    const words = [...target.keywords]
    // A partial Fisher–Yates: the first QUERY_WORDS words, in random order.
    for (let i = 0; i < Math.min(QUERY_WORDS, words.length - 1); i++) {
      const j = i + random.int(words.length - i)
      ;[words[i], words[j]] = [words[j] as string, words[i] as string]
    }
    return { target, keywords: words.slice(0, QUERY_WORDS) }
  }

  /**
   * Ranks of every file a search for `words` must find: each word matches one
   * of the file's keywords as core's `matches` says (a prefix, or a substring
   * of 3 characters or more), so the ground truth is what the overlays' own
   * indexes answer.
   */
  matching(words: readonly string[]): number[] {
    const sets = words.map((w) => {
      const ranks = new Set<number>()
      for (const k of this.known.matching(w)) for (const r of this.byKeyword.get(k) ?? []) ranks.add(r)
      return ranks
    })
    sets.sort((a, b) => a.size - b.size)
    const [first, ...rest] = sets
    if (!first) return []
    const out: number[] = []
    for (const r of first) if (rest.every((s) => s.has(r))) out.push(r)
    return out.sort((a, b) => a - b)
  }

  /** The record a provider publishes for `file`. */
  record(file: SimFile, provider: PeerRef): FileRecord {
    return {
      hash: file.hash,
      name: file.name,
      size: file.size,
      chunkSize: CHUNK_SIZE,
      keywords: [...file.keywords],
      provider,
    }
  }
}
