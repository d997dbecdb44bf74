import { type PeerId, RateLimitError } from '@peerkit/core'
import type { DirectoryServerOptions } from './options.js'
import type { Source } from './source-address.js'

/**
 * Estimated heap bytes of one registered record beyond its strings: the
 * record object and its entries in the index's hash and provider maps and
 * the session's map. Measured with index-memory (Node 20): 1,350 bytes a
 * record with a 30-character name and 6 keywords; 8,800 with a 255-character
 * name of 38 keywords no other record has.
 */
export const RECORD_OVERHEAD = 500
/**
 * Estimated bytes of one keyword's posting entry beyond the keyword itself:
 * a keyword no other record carries costs a posting list of its own (about
 * 200 bytes), so the estimate is an upper bound for what an attacker sends.
 */
export const KEYWORD_OVERHEAD = 200

/** Estimated registry bytes of a record with this name and these (derived) keywords. */
export function recordBytes(name: string, keywords: readonly string[]): number {
  let bytes = RECORD_OVERHEAD + 2 * name.length
  for (const k of keywords) bytes += KEYWORD_OVERHEAD + 2 * k.length
  return bytes
}

export interface Usage {
  records: number
  bytes: number
}

type Options = Readonly<Required<DirectoryServerOptions>>

interface Level {
  /** Who holds the usage, for messages: `peer X`, `source address A`, `address range P`, `the registry`. */
  who: string
  usage: Usage | undefined
  records: [option: keyof Options, max: number]
  bytes: [option: keyof Options, max: number]
}

/**
 * The directory's memory budget: records and estimated bytes, accounted per
 * registering PeerId, per source address, per address range (IPv4 /24, IPv6
 * /64) and in all, plus the PeerIds logged in per address and per range.
 * `admit` refuses what would pass a limit with a `RateLimitError` naming the
 * option; nothing registered is ever taken back to make room.
 */
export class RegistryBudget {
  readonly total: Usage = { records: 0, bytes: 0 }
  private readonly byPeer = new Map<PeerId, Usage>()
  private readonly byAddress = new Map<string, Usage>()
  private readonly byPrefix = new Map<string, Usage>()
  private readonly peersByAddress = new Map<string, number>()
  private readonly peersByPrefix = new Map<string, number>()

  constructor(private readonly options: Options) {}

  /** What a peer, a source address or an address range holds now. */
  usage(of: { peer: PeerId } | { address: string } | { prefix: string }): Usage {
    const u =
      'peer' in of
        ? this.byPeer.get(of.peer)
        : 'address' in of
          ? this.byAddress.get(of.address)
          : this.byPrefix.get(of.prefix)
    return u ? { ...u } : { records: 0, bytes: 0 }
  }

  /** PeerIds logged in from a source address, or from its range. */
  peers(of: { address: string } | { prefix: string }): number {
    return 'address' in of
      ? (this.peersByAddress.get(of.address) ?? 0)
      : (this.peersByPrefix.get(of.prefix) ?? 0)
  }

  /** Throws `RateLimitError` when `records` more records of `bytes` more bytes would pass a limit. */
  admit(peer: PeerId, source: Source, records: number, bytes: number): void {
    const o = this.options
    const levels: Level[] = [
      {
        who: `peer ${peer}`,
        usage: this.byPeer.get(peer),
        records: ['maxRecordsPerPeer', o.maxRecordsPerPeer],
        bytes: ['maxBytesPerPeer', o.maxBytesPerPeer],
      },
      {
        who: `source address ${source.address}`,
        usage: this.byAddress.get(source.address),
        records: ['maxRecordsPerAddress', o.maxRecordsPerAddress],
        bytes: ['maxBytesPerAddress', o.maxBytesPerAddress],
      },
      {
        who: `address range ${source.prefix}`,
        usage: this.byPrefix.get(source.prefix),
        records: ['maxRecordsPerPrefix', o.maxRecordsPerPrefix],
        bytes: ['maxBytesPerPrefix', o.maxBytesPerPrefix],
      },
      {
        who: 'the registry',
        usage: this.total,
        records: ['maxRecords', o.maxRecords],
        bytes: ['maxBytes', o.maxBytes],
      },
    ]
    for (const level of levels) {
      const used = level.usage ?? { records: 0, bytes: 0 }
      const [rOption, rMax] = level.records
      if (records > 0 && used.records + records > rMax) {
        throw new RateLimitError(
          `register refused: ${level.who} may hold at most ${rMax} records (directory.${rOption}); it has ${used.records}, this batch adds ${records}`,
        )
      }
      const [bOption, bMax] = level.bytes
      if (bytes > 0 && used.bytes + bytes > bMax) {
        throw new RateLimitError(
          `register refused: ${level.who} may hold at most ${bMax} bytes of records (directory.${bOption}); it holds ${used.bytes}, this batch adds ${bytes}`,
        )
      }
    }
  }

  /** Adds (or, negative, frees) records and bytes of a peer at a source. */
  charge(peer: PeerId, source: Source, records: number, bytes: number): void {
    if (records === 0 && bytes === 0) return
    add(this.byPeer, peer, records, bytes)
    add(this.byAddress, source.address, records, bytes)
    add(this.byPrefix, source.prefix, records, bytes)
    this.total.records += records
    this.total.bytes += bytes
  }

  /** Throws `RateLimitError` when one more PeerId may not log in from `source`. */
  admitPeer(peer: PeerId, source: Source): void {
    const o = this.options
    const atAddress = this.peers({ address: source.address })
    if (atAddress >= o.maxPeersPerAddress) {
      throw new RateLimitError(
        `login of ${peer} refused: ${atAddress} peers are logged in from ${source.address} (directory.maxPeersPerAddress is ${o.maxPeersPerAddress})`,
      )
    }
    const inRange = this.peers({ prefix: source.prefix })
    if (inRange >= o.maxPeersPerPrefix) {
      throw new RateLimitError(
        `login of ${peer} refused: ${inRange} peers are logged in from ${source.prefix} (directory.maxPeersPerPrefix is ${o.maxPeersPerPrefix})`,
      )
    }
  }

  /** Counts (or, with -1, uncounts) a logged-in PeerId at `source`. */
  countPeer(source: Source, delta: 1 | -1): void {
    bump(this.peersByAddress, source.address, delta)
    bump(this.peersByPrefix, source.prefix, delta)
  }

  clear(): void {
    this.total.records = 0
    this.total.bytes = 0
    this.byPeer.clear()
    this.byAddress.clear()
    this.byPrefix.clear()
    this.peersByAddress.clear()
    this.peersByPrefix.clear()
  }
}

function add<K>(map: Map<K, Usage>, key: K, records: number, bytes: number): void {
  const u = map.get(key) ?? { records: 0, bytes: 0 }
  u.records += records
  u.bytes += bytes
  if (u.records <= 0 && u.bytes <= 0) map.delete(key)
  else map.set(key, u)
}

function bump<K>(map: Map<K, number>, key: K, delta: number): void {
  const n = (map.get(key) ?? 0) + delta
  if (n > 0) map.set(key, n)
  else map.delete(key)
}
