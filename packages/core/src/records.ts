import type { PeerId } from './peer-id.js'
import { termMatches } from './query-match.js'

/**
 * A file's content hash (version 2), as 64 lowercase hex digits: SHA-256 over
 * a domain tag, the version, the file size, the chunk size and the root of the
 * SHA-256 Merkle tree over the file's chunks (@peerkit/content's
 * `contentHash`). It commits to the size and the chunking as well as the bytes.
 */
export type ContentHash = string

const HASH_RE = /^[0-9a-f]{64}$/

export function isContentHash(value: unknown): value is ContentHash {
  return typeof value === 'string' && HASH_RE.test(value)
}

/** A peer and the addresses (URLs: `tcp://HOST:PORT`, `memory://NAME` …) it can be reached at. */
export interface PeerRef {
  id: PeerId
  addresses: string[]
}

/** One provider's copy of one file. */
export interface FileRecord {
  hash: ContentHash
  name: string
  size: number
  chunkSize: number
  /** Derived from the name by `keywords()`. */
  keywords: string[]
  provider: PeerRef
}

/** Keywords (all must match, each as a prefix or substring of a record keyword: `termMatches`) or a content hash, with an optional limit on distinct files. */
export interface Query {
  keywords?: string[]
  hash?: ContentHash
  limit?: number
}

/** A file found by a search, with the providers known so far. */
export interface Hit {
  hash: ContentHash
  name: string
  size: number
  chunkSize: number
  providers: PeerRef[]
  /** Overlay hops the answer travelled, where the overlay knows. */
  hops?: number
}

/**
 * Keyword normalisation: case-folded, accents stripped, split on everything
 * that is not a letter or a digit. `Harry.Potter.(2002).mkv` → harry potter 2002 mkv.
 * Duplicates are removed; order of first appearance is kept.
 */
export function keywords(text: string): string[] {
  if (ASCII_RE.test(text)) return asciiKeywords(text)
  const folded = text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
  const out: string[] = []
  for (const word of folded.split(/[^\p{L}\p{N}]+/u)) if (word && !out.includes(word)) out.push(word)
  return out
}

/** No UTF-16 unit past 0x7f: ASCII. */
const ASCII_RE = /^[^\u0080-\uffff]*$/

/**
 * `keywords` of ASCII text (most names and every query typed in English),
 * in a third of the time: NFKD leaves ASCII as it is and it holds no marks;
 * its letters and digits are A-Z, a-z and 0-9.
 */
function asciiKeywords(text: string): string[] {
  const folded = text.toLowerCase()
  const out: string[] = []
  let start = -1
  for (let i = 0; i <= folded.length; i++) {
    const c = i < folded.length ? folded.charCodeAt(i) : 0
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39)) {
      if (start < 0) start = i
    } else if (start >= 0) {
      const word = folded.slice(start, i)
      if (!out.includes(word)) out.push(word)
      start = -1
    }
  }
  return out
}

/** A Query from user input: a 64-hex-digit string is a content hash, anything else keywords. */
export function parseQuery(input: string | Query, limit?: number): Query {
  if (typeof input !== 'string') return input
  const trimmed = input.trim().toLowerCase()
  const q: Query = isContentHash(trimmed) ? { hash: trimmed } : { keywords: keywords(input) }
  if (limit !== undefined) q.limit = limit
  return q
}

/**
 * True when `record` answers `query`: the same hash, or every query term
 * matching one of its keywords as a prefix or a long enough substring
 * (`termMatches` in query-match.ts: `movi` and `ovi` match `movie`).
 */
export function matches(record: Pick<FileRecord, 'hash' | 'keywords'>, query: Query): boolean {
  if (query.hash !== undefined) return record.hash === query.hash
  const kws = query.keywords ?? []
  return kws.length > 0 && kws.every((k) => record.keywords.some((w) => termMatches(k, w)))
}

/** Folds records into hits, one per content hash, providers merged. */
export function toHits(records: Iterable<FileRecord>): Hit[] {
  const byHash = new Map<ContentHash, Hit>()
  for (const r of records) {
    let hit = byHash.get(r.hash)
    if (!hit) {
      hit = { hash: r.hash, name: r.name, size: r.size, chunkSize: r.chunkSize, providers: [] }
      byHash.set(r.hash, hit)
    }
    if (!hit.providers.some((p) => p.id === r.provider.id)) hit.providers.push(r.provider)
  }
  return [...byHash.values()]
}
