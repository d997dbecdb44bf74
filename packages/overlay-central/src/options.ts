import { InvalidOptionsError, LIMITS } from '@peerkit/core'
import { MAX_PAGE, MAX_REGISTER_BATCH } from './messages.js'

/** Options of the `central` overlay (the client), under `options.central` of the peer configuration. */
export interface CentralOptions {
  /**
   * Directory server addresses, tried in order; the first that answers is used.
   * Empty: the peer configuration's `bootstrap`.
   * @default []
   */
  directories?: string[]
  /** Milliseconds before the first reconnection attempt; doubles each failure (jittered). @default 250 */
  reconnectMin?: number
  /** Longest wait between reconnection attempts, in milliseconds. @default 10000 */
  reconnectMax?: number
  /** Heartbeat period in milliseconds; 0 uses the one the server announces at login. @default 0 */
  heartbeatInterval?: number
  /** Records per `register` message. @default 1000 */
  registerBatch?: number
  /**
   * Milliseconds a search waits for a directory while the peer has none (its
   * directory died and it is logging in to another of `directories`); past
   * it the search fails with `PeerUnreachableError`. 0: fail at once. @default 5000
   */
  failoverWait?: number
}

/** Options of a `DirectoryServer`. */
export interface DirectoryServerOptions {
  /** Milliseconds between a client's heartbeats (announced at login). @default 5000 */
  heartbeatInterval?: number
  /** A peer not heard from for this many milliseconds is dropped with its records. @default 15000 */
  dropAfter?: number
  /** Records one peer (PeerId) may register. @default 10000 */
  maxRecordsPerPeer?: number
  /** Registry bytes (estimated: name, derived keywords, index entries) one peer may hold. @default 16777216 (16 MiB) */
  maxBytesPerPeer?: number
  /** Records the peers behind one source address (the connection's remote IP) may register together. @default 50000 */
  maxRecordsPerAddress?: number
  /** Registry bytes the peers behind one source address may hold together. @default 67108864 (64 MiB) */
  maxBytesPerAddress?: number
  /** Records the peers of one address range (IPv4 /24, IPv6 /64) may register together. @default 100000 */
  maxRecordsPerPrefix?: number
  /** Registry bytes the peers of one address range may hold together. @default 134217728 (128 MiB) */
  maxBytesPerPrefix?: number
  /** Records in the whole registry. @default 1000000 */
  maxRecords?: number
  /** Registry bytes in all (estimated); past it new registrations are refused, existing ones kept. @default 1073741824 (1 GiB) */
  maxBytes?: number
  /** PeerIds logged in at once from one source address. @default 256 */
  maxPeersPerAddress?: number
  /** PeerIds logged in at once from one address range (IPv4 /24, IPv6 /64). @default 1024 */
  maxPeersPerPrefix?: number
  /** Longest file name, in characters, a record may carry (keywords are derived from it). @default 255 */
  maxNameLength?: number
  /** Searches per second one peer may make, on average. @default 10 */
  searchRate?: number
  /** Searches one peer may make at once before the rate applies. @default 20 */
  searchBurst?: number
  /** Hits one search returns at most (a query's own `limit` may be lower). @default 1000 */
  maxResults?: number
  /** Hits per page of results. @default 100 */
  pageSize?: number
  /** Largest difference, in milliseconds, between a login's timestamp and the server's clock. @default 300000 */
  loginSkew?: number
  /** Milliseconds a paused search's remaining results are kept for `more`. @default 30000 */
  cursorTtl?: number
  /**
   * On a durable index (LMDB, PostgreSQL): milliseconds a registration lives
   * without renewal. The directory renews its live sessions' registrations at
   * half this; a peer that is gone (with its directory, or while the
   * directory was down) stays listed at most this long after its last renewal. @default 60000
   */
  registrationTtl?: number
}

const MIB = 1024 * 1024

export const DEFAULT_CENTRAL_OPTIONS: Readonly<Required<CentralOptions>> = Object.freeze({
  directories: [],
  reconnectMin: 250,
  reconnectMax: 10_000,
  heartbeatInterval: 0,
  registerBatch: MAX_REGISTER_BATCH,
  failoverWait: 5000,
})

export const DEFAULT_DIRECTORY_SERVER_OPTIONS: Readonly<Required<DirectoryServerOptions>> = Object.freeze({
  heartbeatInterval: 5000,
  dropAfter: 15_000,
  maxRecordsPerPeer: 10_000,
  maxBytesPerPeer: 16 * MIB,
  maxRecordsPerAddress: 50_000,
  maxBytesPerAddress: 64 * MIB,
  maxRecordsPerPrefix: 100_000,
  maxBytesPerPrefix: 128 * MIB,
  maxRecords: 1_000_000,
  maxBytes: 1024 * MIB,
  maxPeersPerAddress: 256,
  maxPeersPerPrefix: 1024,
  maxNameLength: 255,
  searchRate: 10,
  searchBurst: 20,
  maxResults: 1000,
  pageSize: 100,
  loginSkew: 300_000,
  cursorTtl: 30_000,
  registrationTtl: 60_000,
})

type Check = (field: string, value: unknown) => void

const intAtLeast =
  (min: number, max = Number.MAX_SAFE_INTEGER): Check =>
  (field, value) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`
      throw new InvalidOptionsError(`${field} must be an integer ${range} (got ${JSON.stringify(value)})`)
    }
  }

const positiveNumber: Check = (field, value) => {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionsError(`${field} must be a number > 0 (got ${JSON.stringify(value)})`)
  }
}

const addressList: Check = (field, value) => {
  if (
    !Array.isArray(value) ||
    !value.every((a) => typeof a === 'string' && /^[a-z][a-z0-9+.-]*:\/\/\S+$/.test(a))
  ) {
    throw new InvalidOptionsError(
      `${field} must be a list of address URLs such as tcp://127.0.0.1:4001 (got ${JSON.stringify(value)})`,
    )
  }
}

function parse<T extends object>(
  prefix: string,
  input: unknown,
  defaults: Readonly<Required<T>>,
  checks: Record<keyof T, Check>,
): Required<T> {
  if (input === undefined || input === null) return { ...defaults }
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new InvalidOptionsError(`${prefix} must be an object (got ${JSON.stringify(input)})`)
  }
  const out: Record<string, unknown> = { ...defaults }
  for (const [key, value] of Object.entries(input)) {
    const check = (checks as Record<string, Check>)[key]
    if (!check) {
      throw new InvalidOptionsError(
        `${prefix}.${key} is not an option; known: ${Object.keys(checks).join(', ')}`,
      )
    }
    if (value === undefined) continue
    check(`${prefix}.${key}`, value)
    out[key] = value
  }
  return out as Required<T>
}

/** Validates `options.central`; throws `InvalidOptionsError` naming the field. */
export function parseCentralOptions(input: unknown): Readonly<Required<CentralOptions>> {
  const o = parse<CentralOptions>('central', input, DEFAULT_CENTRAL_OPTIONS, {
    directories: addressList,
    reconnectMin: intAtLeast(1),
    reconnectMax: intAtLeast(1),
    heartbeatInterval: intAtLeast(0),
    registerBatch: intAtLeast(1, MAX_REGISTER_BATCH),
    failoverWait: intAtLeast(0),
  })
  if (o.reconnectMax < o.reconnectMin) {
    throw new InvalidOptionsError(
      `central.reconnectMax must be >= central.reconnectMin (${o.reconnectMin}) (got ${o.reconnectMax})`,
    )
  }
  return Object.freeze({ ...o, directories: Object.freeze([...o.directories]) as string[] })
}

/** Validates a directory server's options; throws `InvalidOptionsError` naming the field. */
export function parseDirectoryServerOptions(input: unknown): Readonly<Required<DirectoryServerOptions>> {
  const o = parse<DirectoryServerOptions>('directory', input, DEFAULT_DIRECTORY_SERVER_OPTIONS, {
    heartbeatInterval: intAtLeast(1),
    dropAfter: intAtLeast(1),
    maxRecordsPerPeer: intAtLeast(0),
    maxBytesPerPeer: intAtLeast(0),
    maxRecordsPerAddress: intAtLeast(0),
    maxBytesPerAddress: intAtLeast(0),
    maxRecordsPerPrefix: intAtLeast(0),
    maxBytesPerPrefix: intAtLeast(0),
    maxRecords: intAtLeast(0),
    maxBytes: intAtLeast(0),
    maxPeersPerAddress: intAtLeast(1),
    maxPeersPerPrefix: intAtLeast(1),
    maxNameLength: intAtLeast(1, LIMITS.name),
    searchRate: positiveNumber,
    searchBurst: intAtLeast(1),
    maxResults: intAtLeast(1, 10_000),
    pageSize: intAtLeast(1, MAX_PAGE),
    loginSkew: intAtLeast(0),
    cursorTtl: intAtLeast(1),
    registrationTtl: intAtLeast(1000),
  })
  if (o.dropAfter <= o.heartbeatInterval) {
    throw new InvalidOptionsError(
      `directory.dropAfter must be greater than directory.heartbeatInterval (${o.heartbeatInterval}) (got ${o.dropAfter})`,
    )
  }
  return Object.freeze(o)
}
