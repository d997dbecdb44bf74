import { LIMITS, parseOptions } from '@peerkit/core'
import { z } from 'zod'
import { MAX_PAGE, MAX_REGISTER_BATCH } from './messages.js'

const MIB = 1024 * 1024
const ms = (min: number, fallback: number) => z.number().int().min(min).max(86_400_000).default(fallback)
const count = (fallback: number) => z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(fallback)

/** Options of the `central` overlay (the client), under `options.central` of the peer configuration. */
export const centralOptionsSchema = z
  .object({
    /**
     * Directory server addresses, tried in order; the first that answers is used.
     * Empty: the peer configuration's `bootstrap`.
     */
    directories: z
      .array(z.string().regex(/^[a-z][a-z0-9+.-]*:\/\/\S+$/, 'an address URL such as tcp://127.0.0.1:4001'))
      .default([]),
    /** Milliseconds before the first reconnection attempt; doubles each failure (jittered). */
    reconnectMin: ms(1, 250),
    /** Longest wait between reconnection attempts, in milliseconds. */
    reconnectMax: ms(1, 10_000),
    /** Heartbeat period in milliseconds; 0 uses the one the server announces at login. */
    heartbeatInterval: ms(0, 0),
    /** Records per `register` message. */
    registerBatch: z.number().int().min(1).max(MAX_REGISTER_BATCH).default(MAX_REGISTER_BATCH),
    /**
     * Milliseconds a search waits for a directory while the peer has none (its
     * directory died and it is logging in to another of `directories`); past
     * it the search fails with `PeerUnreachableError`. 0: fail at once.
     */
    failoverWait: ms(0, 5000),
  })
  .strict()
  .check((ctx) => {
    const o = ctx.value
    if (o.reconnectMax < o.reconnectMin)
      ctx.issues.push({
        code: 'custom',
        path: ['reconnectMax'],
        message: `at least central.reconnectMin = ${o.reconnectMin}`,
        input: o.reconnectMax,
      })
  })

/** Options of a `DirectoryServer` (`createDirectoryServer({ options })`). */
export const directoryServerOptionsSchema = z
  .object({
    /** Milliseconds between a client's heartbeats (announced at login). */
    heartbeatInterval: ms(1, 5000),
    /** A peer not heard from for this many milliseconds is dropped with its records. */
    dropAfter: ms(1, 15_000),
    /** Records one peer (PeerId) may register. */
    maxRecordsPerPeer: count(10_000),
    /** Registry bytes (estimated: name, derived keywords, index entries) one peer may hold. */
    maxBytesPerPeer: count(16 * MIB),
    /** Records the peers behind one source address (the connection's remote IP) may register together. */
    maxRecordsPerAddress: count(50_000),
    /** Registry bytes the peers behind one source address may hold together. */
    maxBytesPerAddress: count(64 * MIB),
    /** Records the peers of one address range (IPv4 /24, IPv6 /64) may register together. */
    maxRecordsPerPrefix: count(100_000),
    /** Registry bytes the peers of one address range may hold together. */
    maxBytesPerPrefix: count(128 * MIB),
    /** Records in the whole registry. */
    maxRecords: count(1_000_000),
    /** Registry bytes in all (estimated); past it new registrations are refused, existing ones kept. */
    maxBytes: count(1024 * MIB),
    /** PeerIds logged in at once from one source address. */
    maxPeersPerAddress: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(256),
    /** PeerIds logged in at once from one address range (IPv4 /24, IPv6 /64). */
    maxPeersPerPrefix: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(1024),
    /** Longest file name, in characters, a record may carry (keywords are derived from it). */
    maxNameLength: z.number().int().min(1).max(LIMITS.name).default(255),
    /** Searches per second one peer may make, on average. */
    searchRate: z.number().positive().max(1e9).default(10),
    /** Searches one peer may make at once before the rate applies. */
    searchBurst: z.number().int().min(1).max(1e9).default(20),
    /** Hits one search returns at most (a query's own `limit` may be lower). */
    maxResults: z.number().int().min(1).max(10_000).default(1000),
    /** Hits per page of results. */
    pageSize: z.number().int().min(1).max(MAX_PAGE).default(100),
    /** Largest difference, in milliseconds, between a login's timestamp and the server's clock. */
    loginSkew: ms(0, 300_000),
    /** Milliseconds a paused search's remaining results are kept for `more`. */
    cursorTtl: ms(1, 30_000),
    /**
     * On a durable index (LMDB, PostgreSQL): milliseconds a registration lives
     * without renewal. The directory renews its live sessions' registrations at
     * half this; a peer that is gone (with its directory, or while the
     * directory was down) stays listed at most this long after its last renewal.
     */
    registrationTtl: ms(1000, 60_000),
  })
  .strict()
  .check((ctx) => {
    const o = ctx.value
    if (o.dropAfter <= o.heartbeatInterval)
      ctx.issues.push({
        code: 'custom',
        path: ['dropAfter'],
        message: `greater than directory.heartbeatInterval = ${o.heartbeatInterval}`,
        input: o.dropAfter,
      })
  })

/** What a user gives for the client (every field optional). */
export type CentralOptions = z.input<typeof centralOptionsSchema>
/** What a user gives for the server (every field optional). */
export type DirectoryServerOptions = z.input<typeof directoryServerOptionsSchema>

/** Validates `options.central`; throws `InvalidOptionsError` naming the field (`central.reconnectMin must be …`). */
export function parseCentralOptions(input: unknown): Readonly<Required<CentralOptions>> {
  return parseOptions(centralOptionsSchema, input ?? {}, 'central')
}

/** Validates a directory server's options; throws `InvalidOptionsError` naming the field. */
export function parseDirectoryServerOptions(input: unknown): Readonly<Required<DirectoryServerOptions>> {
  return parseOptions(directoryServerOptionsSchema, input ?? {}, 'directory')
}

/** Every client option at its default. */
export const DEFAULT_CENTRAL_OPTIONS: Readonly<Required<CentralOptions>> = parseCentralOptions({})
/** Every server option at its default. */
export const DEFAULT_DIRECTORY_SERVER_OPTIONS: Readonly<Required<DirectoryServerOptions>> =
  parseDirectoryServerOptions({})
