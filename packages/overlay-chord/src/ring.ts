import { GenerationCache, recordGrams, sha256 } from '@peerkit/core'
import { sameWords } from './record-store.js'

/** Which ends of a ring interval belong to it: `(a, b]` is `'(]'`. */
export type Bounds = '()' | '(]' | '[)' | '[]'

/** Largest identifier size: SHA-256 has 256 bits. */
export const MAX_BITS = 256

/**
 * Keys of each kind (content hashes, keywords, n-grams) a Ring keeps at most
 * (two generations of half: the young one, when full, replaces the old one):
 * about 120 B each, at most about 6 MB for the three kinds. A holder checks
 * every record it receives against its keys (content hash first); the content
 * key was hashed again at each, and 4,096 word keys cleared when full thrashed
 * once a catalog's words and grams outnumbered them. Each kind has its own
 * cache, looked up by the text itself: one cache of all three looked them up
 * by `kind:text`, a string made and hashed again at every lookup.
 */
export const KEY_CACHE = 16_384

/**
 * Node ids a Ring keeps at most (two generations of half: the young one,
 * when full, replaces the old one): about 130 B each, at most about 4 MB. Every
 * answer names nodes whose ring id is the SHA-256 of their PeerId; hashing it
 * again at every answer was 6 % of a 1,000-peer simulation's CPU.
 */
export const NODE_ID_CACHE = 32_768

/**
 * Records whose keys a Ring keeps at most (two generations of half), by
 * content hash, each with its keywords: a record travels to about four nodes
 * per key it is stored under (a forwarded store and three hand-ons), and
 * each tests its keys (`Replication.someKey`), about twelve key lookups each
 * time, one here. Only records of at most `CACHED_KEYWORDS` keywords of at
 * most `CACHED_KEYWORD_CHARS` characters together are kept (about 2.3 KB at
 * most, some 600 B for a usual name): at most about 5 MB, whatever names
 * junk records carry.
 */
export const RECORD_KEY_CACHE = 2048
/** Most keywords of a record whose keys `Ring.recordKeys` keeps. */
export const CACHED_KEYWORDS = 16
/** Most characters of a record's keywords together for `Ring.recordKeys` to keep its keys. */
export const CACHED_KEYWORD_CHARS = 256

/** A record's keys as `Ring.recordKeys` keeps them: for its keywords and `maxGramKeys`. */
interface RecordKeys {
  readonly keywords: readonly string[]
  readonly maxGramKeys: number
  readonly keys: readonly bigint[]
}

const encoder = new TextEncoder()

/**
 * Whether `x` lies on the clockwise arc [a, b] of a ring, by comparisons: `within(x, a, b, '[]')` for
 * distinct ends, but the single point `a` when they are equal (a replica reach of 0), not the whole ring.
 */
export function inClosedArc(x: bigint, a: bigint, b: bigint): boolean {
  return a <= b ? a <= x && x <= b : a <= x || x <= b
}

/** Rings by size, for `Ring.of`. */
const shared = new Map<number, Ring>()

/**
 * The identifier circle of Chord: integers modulo 2^bits, with the interval
 * arithmetic the protocol needs. Node ids and key ids come from one hash
 * function, SHA-256 truncated to its first `bits` bits.
 */
export class Ring {
  /** 2^bits. */
  readonly size: bigint
  private readonly mask: bigint
  private readonly hexDigits: number
  /** Keys computed lately (`KEY_CACHE` of each kind); one set per ring size, shared by the nodes of a process. */
  private readonly contentKeys = new GenerationCache<string, bigint>(KEY_CACHE / 2)
  private readonly keywordKeys = new GenerationCache<string, bigint>(KEY_CACHE / 2)
  private readonly gramKeys = new GenerationCache<string, bigint>(KEY_CACHE / 2)
  /** Records' keys computed lately (`RECORD_KEY_CACHE`), by content hash, shared like the keys. */
  private readonly recordKeyCache = new GenerationCache<string, RecordKeys>(RECORD_KEY_CACHE / 2)
  /** Node ids computed lately (`NODE_ID_CACHE`), shared like the keys. */
  private readonly nodeIds = new GenerationCache<string, bigint>(NODE_ID_CACHE / 2)
  /** `64 - bits`, for ids read as one 64-bit word (`bits` ≤ 64, the default 64 among them). */
  private readonly shift64: bigint

  constructor(readonly bits: number) {
    if (!Number.isInteger(bits) || bits < 1 || bits > MAX_BITS) {
      throw new RangeError(`ring bits must be an integer from 1 to ${MAX_BITS} (got ${bits})`)
    }
    this.size = 1n << BigInt(bits)
    this.mask = this.size - 1n
    this.hexDigits = Math.ceil(bits / 4)
    this.shift64 = BigInt(Math.max(0, 64 - bits))
  }

  /**
   * The ring of `bits` bits, shared: a Ring holds its size and a cache of
   * keys, so the nodes of one process (a simulator's 100,000) need not
   * each keep one.
   */
  static of(bits: number): Ring {
    let ring = shared.get(bits)
    if (ring === undefined) {
      ring = new Ring(bits)
      shared.set(bits, ring)
    }
    return ring
  }

  /** SHA-256 of `text` (UTF-8), truncated to the first `bits` bits. */
  hash(text: string): bigint {
    const digest = sha256(encoder.encode(text))
    if (this.bits <= 64)
      return new DataView(digest.buffer, digest.byteOffset, 8).getBigUint64(0) >> this.shift64
    const bytes = Math.ceil(this.bits / 8)
    let v = 0n
    for (let i = 0; i < bytes; i++) v = (v << 8n) | BigInt(digest[i] as number)
    return v >> BigInt(bytes * 8 - this.bits)
  }

  /** A node's identifier: the hash of its PeerId. */
  nodeId(peerId: string): bigint {
    let id = this.nodeIds.get(peerId)
    if (id === undefined) {
      id = this.hash(peerId)
      this.nodeIds.set(peerId, id)
    }
    return id
  }

  /** The key under which a file's records are stored: the hash of its content hash (recent ones cached). */
  contentKey(contentHash: string): bigint {
    return this.cachedHash(this.contentKeys, 'hash:', contentHash)
  }

  /** The key under which the records of files named with `keyword` are stored (recent ones cached: words recur). */
  keywordKey(keyword: string): bigint {
    return this.cachedHash(this.keywordKeys, 'keyword:', keyword)
  }

  /**
   * The key under which the records of files with a keyword holding the
   * n-gram `gram` are stored (`recordGrams` in core), so a prefix or
   * substring query routes to one key (cached with the other keys).
   */
  gramKey(gram: string): bigint {
    return this.cachedHash(this.gramKeys, 'gram:', gram)
  }

  /**
   * The keys a record is stored under, in this order: its content hash's, each
   * keyword's, and up to `maxGramKeys` n-grams' (`recordGrams`); from the
   * cache while the record of this hash with the same keywords was asked for
   * lately (`RECORD_KEY_CACHE`). The array may be shared: never change it.
   */
  recordKeys(hash: string, keywords: readonly string[], maxGramKeys: number): readonly bigint[] {
    const known = this.recordKeyCache.get(hash)
    if (known !== undefined && known.maxGramKeys === maxGramKeys && sameWords(known.keywords, keywords))
      return known.keys
    const keys = [this.contentKey(hash)]
    let chars = 0
    for (const k of keywords) {
      keys.push(this.keywordKey(k))
      chars += k.length
    }
    for (const g of recordGrams(keywords, maxGramKeys)) keys.push(this.gramKey(g))
    if (keywords.length <= CACHED_KEYWORDS && chars <= CACHED_KEYWORD_CHARS)
      this.recordKeyCache.set(hash, { keywords, maxGramKeys, keys })
    return keys
  }

  /** `hash(kind + text)`, from the kind's cache when computed lately (`kind`: `hash:`, `keyword:`, `gram:`). */
  private cachedHash(cache: GenerationCache<string, bigint>, kind: string, text: string): bigint {
    let key = cache.get(text)
    if (key === undefined) {
      key = this.hash(kind + text)
      cache.set(text, key)
    }
    return key
  }

  /** `(a + b) mod 2^bits`. */
  add(a: bigint, b: bigint): bigint {
    return (a + b) & this.mask
  }

  /** Clockwise distance from `from` to `to`, in [0, 2^bits). */
  distance(from: bigint, to: bigint): bigint {
    return (to - from) & this.mask
  }

  /** The start of finger `i` (0-based) of node `n`: `(n + 2^i) mod 2^bits`. */
  fingerStart(n: bigint, i: number): bigint {
    return (n + (1n << BigInt(i))) & this.mask
  }

  /**
   * True when `x` lies on the clockwise arc from `a` to `b`, ends included as
   * `bounds` says. When `a == b` the arc is the whole ring: `(a, a)` is every
   * point but `a`, and the other three forms are every point (so a lone node
   * is the successor of every key). Comparisons alone, no BigInt made: a test
   * run for every key of every record a node receives.
   */
  within(x: bigint, a: bigint, b: bigint, bounds: Bounds = '(]'): boolean {
    if (a === b) return bounds === '()' ? x !== a : true
    if (x === a) return bounds[0] === '['
    if (x === b) return bounds[1] === ']'
    return a < b ? a < x && x < b : a < x || x < b
  }

  /** Fixed-width lowercase hex, as ids travel on the wire. */
  toHex(id: bigint): string {
    return id.toString(16).padStart(this.hexDigits, '0')
  }

  /** Parses an id from hex; `undefined` when it is not a hex id below 2^bits. */
  fromHex(hex: string): bigint | undefined {
    if (!/^[0-9a-f]{1,64}$/.test(hex)) return undefined
    const v = BigInt(`0x${hex}`)
    return v < this.size ? v : undefined
  }
}
