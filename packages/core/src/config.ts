import { z } from 'zod'
import { type BrowseConfig, browseConfigSchema, DEFAULT_BROWSE_CONFIG } from './browse.js'
import { InvalidOptionsError } from './errors.js'
import { parseLogSpec } from './logger.js'
import { formatOptionIssues } from './option-errors.js'
import { DEFAULT_DRAIN_TIMEOUT } from './wire/mux.js'

export interface NetworkOptions {
  /** Milliseconds to establish a connection. @default 5000 */
  dialTimeout?: number
  /** Milliseconds to wait for a response. @default 10000 */
  requestTimeout?: number
  /** Open connections kept before the least recently used idle ones are closed (down to an eighth below this, so pruning runs once per several new connections); connections to peers the overlay protects (`Network.protect`) are not counted and never closed for room. @default 512 */
  maxConnections?: number
  /** Open connections one PeerId may hold with this peer; a connection beyond them is closed at once with `RateLimitError`. @default 8 */
  maxConnectionsPerPeer?: number
  /** Requests of one connection being answered at once; at this many, the connection's next messages are not read until one is answered. @default 128 */
  maxPendingRequests?: number
  /**
   * Bytes of answers one connection may queue beyond its transport's own send buffer. From a quarter
   * of it the connection's next messages are not read (the peer is not reading its answers); past it
   * the connection is closed with `RateLimitError`. @default 33554432 (32 MiB)
   */
  maxSendQueue?: number
  /** Milliseconds a connection may stay unread for a full send queue without one answer leaving; then it is closed with `RateLimitError`. @default 30000 */
  sendStallTimeout?: number
  /**
   * Bytes all connections together may hold (transport buffers, partly received messages, queued
   * answers). Past it, the connection holding the most is closed with `RateLimitError`. @default 268435456 (256 MiB)
   */
  memoryBudget?: number
  /** Values (array items, map keys and values) one message may declare; a message declaring more is refused before it is decoded and its connection closed with `ProtocolError`. @default 262144 */
  maxMessageItems?: number
  /** Requests for protocols this peer never handled that one connection may send (each answered with `UnsupportedProtocolError`) before it is closed with `ProtocolError`. @default 16 */
  maxUnknownRequests?: number
  /** Peers whose addresses are remembered (learned from identify or dials); beyond it the least recently learned are forgotten (16 addresses of up to 256 bytes each: 4096 peers hold 16 MiB at most). @default 4096 */
  maxKnownPeers?: number
  /**
   * Milliseconds a draining close may take. A connection this peer closes as idle (at `maxConnections`)
   * first tells the remote (unless its identify told a multiplexer older than version 2) the last of its requests read (GOAWAY),
   * reads none after it and answers those it read; the remote sends the unread ones again elsewhere and
   * closes once nothing is pending. Either side closes the connection anyway after this long.
   * @default 10000
   */
  drainTimeout?: number
}

/** What `createPeer` accepts: an object, or the content of a JSON config file. */
export interface PeerConfigInput {
  /** The overlay strategy by registry name: `central`, `flooding`, `supernode`, `chord`. */
  overlay: string
  /** Transport(s) by registry name. @default 'tcp' */
  transport?: string | string[]
  /** Index implementation for every record set. @default 'memory' */
  index?: string
  /** Transfer implementation. @default 'default' */
  transfer?: string
  /** Addresses to listen on (`tcp://127.0.0.1:0`, `memory://alice`). @default [] */
  listen?: string[]
  /** Peers to join through; for `central`, the directory server(s). @default [] */
  bootstrap?: string[]
  /** Folder for the identity key, the hash cache and partial downloads. Without it the identity is new each run. */
  dataDir?: string
  /** Seed for the random source; random when absent. */
  seed?: number
  /**
   * Options per component, keyed by registry name: `{ flooding: { ttl: 5 }, tcp: { … } }`. Where two
   * configured components share a name (the `memory` transport and index), qualify it:
   * `{ 'transport:memory': { … } }`. @default {}
   */
  options?: Record<string, unknown>
  network?: NetworkOptions
  /**
   * Log threshold, with per-component overrides: `info`, `warn,peerkit:chord=debug`. Used when the
   * parent container registers no `LOGGER`. Levels: debug, info, warn, error, silent. @default 'warn'
   */
  log?: string
  /**
   * Modules to import before the names above are looked up, for the overlays, transports and indexes
   * they register: package names (`@acme/overlay-randomwalk`) or paths (`./my-index.js`, relative to
   * the config file's folder when read by `loadConfigFile`, else to the working directory). @default []
   */
  plugins?: string[]
  /** Whether and how much others may list the files this peer shares (`peerkit/browse/1`). @default { allow: true, maxPerPage: 100 } */
  browse?: BrowseConfig
}

export interface PeerConfig {
  readonly overlay: string
  readonly transports: readonly string[]
  readonly index: string
  readonly transfer: string
  readonly listen: readonly string[]
  readonly bootstrap: readonly string[]
  readonly dataDir: string | undefined
  readonly seed: number | undefined
  readonly options: Readonly<Record<string, unknown>>
  readonly network: Readonly<Required<NetworkOptions>>
  readonly log: string
  readonly plugins: readonly string[]
  /** Absent in a hand-made config: browsing is then allowed with the defaults. */
  readonly browse?: Readonly<Required<BrowseConfig>>
}

export const DEFAULT_NETWORK_OPTIONS: Readonly<Required<NetworkOptions>> = Object.freeze({
  dialTimeout: 5000,
  requestTimeout: 10_000,
  maxConnections: 512,
  maxConnectionsPerPeer: 8,
  maxPendingRequests: 128,
  maxSendQueue: 32 * 1024 * 1024,
  sendStallTimeout: 30_000,
  memoryBudget: 256 * 1024 * 1024,
  maxMessageItems: 262_144,
  maxUnknownRequests: 16,
  maxKnownPeers: 4096,
  drainTimeout: DEFAULT_DRAIN_TIMEOUT,
})

const name = z.string().min(1)
const address = z.string().regex(/^[a-z][a-z0-9+.-]*:\/\/\S+$/, 'an address URL such as tcp://127.0.0.1:4001')
const ms = z.number().int().positive()

const schema = z
  .object({
    overlay: name,
    transport: z.union([name, z.array(name).min(1)]).default('tcp'),
    index: name.default('memory'),
    transfer: name.default('default'),
    listen: z.array(address).default([]),
    bootstrap: z.array(address).default([]),
    dataDir: z.string().min(1).optional(),
    seed: z.number().int().optional(),
    options: z.record(z.string(), z.unknown()).default({}),
    log: z.string().default('warn'),
    plugins: z.array(z.string().min(1, 'a module name or path')).default([]),
    browse: browseConfigSchema.default(DEFAULT_BROWSE_CONFIG),
    network: z
      .object({
        dialTimeout: ms.optional(),
        requestTimeout: ms.optional(),
        maxConnections: ms.optional(),
        maxConnectionsPerPeer: ms.optional(),
        maxPendingRequests: ms.optional(),
        maxSendQueue: z.number().int().min(65_536).optional(),
        sendStallTimeout: ms.optional(),
        memoryBudget: z
          .number()
          .int()
          .min(1024 * 1024)
          .optional(),
        maxMessageItems: ms.optional(),
        maxUnknownRequests: z.number().int().nonnegative().optional(),
        maxKnownPeers: ms.optional(),
        drainTimeout: ms.optional(),
      })
      .strict()
      .default({}),
  })
  .strict()

/** Validates a configuration; the error names the field and what it accepts. */
export function parsePeerConfig(input: unknown): PeerConfig {
  const result = schema.safeParse(input)
  if (!result.success) {
    // The one format of every option error: the field's path, what it must be, what was given, a near name.
    throw new InvalidOptionsError(formatOptionIssues(result.error.issues, input, 'config', schema), {
      cause: result.error,
    })
  }
  const c = result.data
  try {
    parseLogSpec(c.log)
  } catch (err) {
    throw new InvalidOptionsError(`config.log: ${(err as Error).message}`, { cause: err })
  }
  return Object.freeze({
    overlay: c.overlay,
    transports: Object.freeze(Array.isArray(c.transport) ? [...c.transport] : [c.transport]),
    index: c.index,
    transfer: c.transfer,
    listen: Object.freeze([...c.listen]),
    bootstrap: Object.freeze([...c.bootstrap]),
    dataDir: c.dataDir,
    seed: c.seed,
    options: Object.freeze({ ...c.options }),
    network: Object.freeze({ ...DEFAULT_NETWORK_OPTIONS, ...stripUndefined(c.network) }),
    log: c.log,
    plugins: Object.freeze([...c.plugins]),
    browse: Object.freeze({ ...c.browse }),
  })
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}

export { loadConfigFile } from './config-file.js'
