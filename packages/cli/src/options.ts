import { resolve } from 'node:path'
import {
  InvalidOptionsError,
  indexes,
  isContentHash,
  nearestName,
  overlays,
  type PeerConfigInput,
  parseOptions,
  transfers,
  transports,
} from '@peerkit/core'
import { InvalidArgumentError } from 'commander'
import { z } from 'zod'
import { LOG_LEVELS, type LogLevel } from './logger.js'

/** Where `peerkit node` serves its API, and where the other commands look for it, unless told. */
export const DEFAULT_API = '127.0.0.1:4680'
/** What `peerkit node` listens on when neither a flag nor the config file says. */
export const DEFAULT_LISTEN = 'tcp://127.0.0.1:0'
/** Milliseconds a search through the API runs when `--timeout` is absent. */
export const DEFAULT_SEARCH_TIMEOUT = 5000
/** The longest search the API accepts, in milliseconds. */
export const MAX_SEARCH_TIMEOUT = 120_000

const ADDRESS_RE = /^[a-z][a-z0-9+.-]*:\/\/\S+$/

export interface HostPort {
  host: string
  port: number
}

/** `127.0.0.1:4680`, `[::1]:80`, `localhost:0`, or the `http://…` URL a node prints. */
export function parseHostPort(value: string): HostPort {
  const text = value
    .trim()
    .replace(/^http:\/\//, '')
    .replace(/\/$/, '')
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]/\s]+)):(\d{1,5})$/.exec(text)
  const port = Number(m?.[3])
  if (!m || port > 65_535) {
    throw new InvalidArgumentError(`expected HOST:PORT such as 127.0.0.1:4680 (got '${value}')`)
  }
  return { host: m[1] ?? m[2] ?? '', port }
}

export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

/** True for 127.0.0.0/8, ::1 and `localhost`: a loopback API answers loopback `Host` names only. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}

/** commander argParser: an integer within [min, max]. */
export function integerArg(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value)
    if (!/^-?\d+$/.test(value.trim()) || n < min || n > max) {
      throw new InvalidArgumentError(`must be an integer from ${min} to ${max} (got '${value}')`)
    }
    return n
  }
}

/** commander argParser for HOST:PORT; returns the normalised text. */
export function hostPortArg(value: string): string {
  return formatHostPort(parseHostPort(value))
}

/** commander argParser for a repeatable address URL (`tcp://HOST:PORT`, `memory://NAME`). */
export function addressArg(value: string, previous: string[] = []): string[] {
  if (!ADDRESS_RE.test(value)) {
    throw new InvalidArgumentError(`expected an address URL such as tcp://127.0.0.1:4001 (got '${value}')`)
  }
  return [...previous, value]
}

/** commander argParser for a repeatable value. */
export function collectArg(value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

/** commander argParser: a registered overlay name. */
export function overlayArg(value: string): string {
  if (!overlays.has(value)) {
    throw new InvalidArgumentError(`must be one of ${quoteList(overlays.names())} (got '${value}')`)
  }
  return value
}

/** commander argParser: a registered transport name. */
export function transportArg(value: string): string {
  if (!transports.has(value)) {
    throw new InvalidArgumentError(`must be one of ${quoteList(transports.names())} (got '${value}')`)
  }
  return value
}

/** commander argParser: a log level. */
export function logLevelArg(value: string): LogLevel {
  if (!(LOG_LEVELS as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`must be one of ${quoteList([...LOG_LEVELS])} (got '${value}')`)
  }
  return value as LogLevel
}

/** commander argParser: a content hash (64 hex digits). */
export function hashArg(value: string): string {
  const hash = value.trim().toLowerCase()
  if (!isContentHash(hash)) {
    throw new InvalidArgumentError(
      `a content hash is 64 hexadecimal digits, as \`peerkit search\` prints (got '${value}')`,
    )
  }
  return hash
}

export function quoteList(names: string[]): string {
  return names.length ? names.map((n) => `'${n}'`).join(', ') : '(none registered)'
}

/** The flags of `peerkit node`, as commander hands them over. */
export interface NodeFlags {
  overlay?: string
  transport?: string
  listen?: string[]
  bootstrap?: string[]
  share?: string[]
  data?: string
  /** `--index`: the index kind for the node's shares, a Chord node's records, a hub's catalogue (default: lmdb with a data folder, else memory). */
  index?: string
  api?: string
  logLevel?: LogLevel
  /** `--share-hidden` */
  shareHidden?: boolean
  /** `--no-share-downloads` gives false. */
  shareDownloads?: boolean
  /** `--no-watch` gives false. */
  watch?: boolean
  /** `--relay`: relay services to keep a reservation with (the `nat` transport). */
  relay?: string[]
  /** `--relay-service`: where to run a relay service for peers behind NAT (the `nat` transport). */
  relayService?: string[]
}

export interface NodeOptions {
  /** The peer's configuration: the config file, then the flags over it. */
  config: PeerConfigInput
  api: HostPort
  /** Absolute folders (or files) to share at start. */
  share: string[]
  logLevel: LogLevel
  /** Share hidden files and folders below the shared folders. @default false */
  shareHidden?: boolean
  /** Share each finished download back. @default true */
  shareDownloads?: boolean
  /** Follow the shared folders on disk. @default true */
  watch?: boolean
  /** Milliseconds a new or changed file must stay unchanged before it is hashed (tests shorten it). @default 2000 */
  shareSettleTime?: number
}

/**
 * What a `peerkit node --config` file may hold besides the peer's
 * configuration (core's `PeerConfigInput`): every flag of the command has a
 * field. One schema: these, and the peer configuration's own fields, checked
 * by core when the peer is made.
 */
export const NODE_FILE_FIELDS = {
  shares: z.array(z.string().min(1)),
  api: z.string(),
  logLevel: z.enum(LOG_LEVELS),
  shareHidden: z.boolean(),
  shareDownloads: z.boolean(),
  watchShares: z.boolean(),
  shareSettleTime: z.number().int().min(0).max(600_000),
} as const

/** The index of a node with a data folder, unless `--index` or the config file's `index` names another. */
export const DEFAULT_PERSISTENT_INDEX = 'lmdb'

/** The fields of the peer configuration (core's `PeerConfigInput`) the command reads itself, checked for their type first. */
const PEER_FIELDS_READ = {
  overlay: z.string().min(1),
  transport: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  listen: z.array(z.string()),
  bootstrap: z.array(z.string()),
  dataDir: z.string().min(1),
  index: z.string().min(1),
  options: z.record(z.string(), z.unknown()),
  plugins: z.array(z.string()),
  log: z.string(),
}

/** Every top-level field a node's config file may have (core's, then the command's), for suggestions. */
export const NODE_FILE_KEYS = [
  'overlay',
  'transport',
  'index',
  'transfer',
  'listen',
  'bootstrap',
  'dataDir',
  'seed',
  'options',
  'network',
  'log',
  'plugins',
  ...Object.keys(NODE_FILE_FIELDS),
]

const nodeFileSchema = z
  .object(
    Object.fromEntries(
      Object.entries({ ...PEER_FIELDS_READ, ...NODE_FILE_FIELDS }).map(([k, v]) => [k, v.optional()]),
    ),
  )
  .passthrough()

/** A node's config file: the peer's configuration and the command's own fields. */
export type NodeFileInput = PeerConfigInput & {
  shares?: string[]
  api?: string
  logLevel?: LogLevel
  shareHidden?: boolean
  shareDownloads?: boolean
  watchShares?: boolean
  shareSettleTime?: number
}

/**
 * Checks a node's config file: the fields the command reads have the right
 * type (`config.listen` must be an array, even of one address), an unknown
 * top-level field is an error with the nearest name, and so is a key of
 * `options` that names no registered component.
 */
export function checkNodeFile(input: unknown): NodeFileInput {
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    throw new InvalidOptionsError(`config must be a JSON object (got ${JSON.stringify(input)})`)
  for (const key of Object.keys(input)) {
    if (NODE_FILE_KEYS.includes(key)) continue
    const near = nearestName(key, NODE_FILE_KEYS)
    throw new InvalidOptionsError(
      `config.${key} is not a field of a node's config file${near ? `; did you mean ${near}?` : ''} (fields: ${NODE_FILE_KEYS.join(', ')})`,
    )
  }
  const file = parseOptions(nodeFileSchema, input, 'config') as unknown as NodeFileInput
  checkComponentOptions(file.options ?? {})
  return file
}

/** The kinds of component, as `options` keys qualify them (`transport:memory`). */
const KINDS = { overlay: overlays, transport: transports, index: indexes, transfer: transfers } as const

/**
 * Each key of a config's `options` must name a registered component (`flooding`,
 * `tcp`, `default` for the transfer) or qualify one (`transfer:default`): a typo
 * would otherwise be ignored without a word.
 */
export function checkComponentOptions(options: Record<string, unknown>): void {
  const names = new Set<string>()
  for (const [kind, registry] of Object.entries(KINDS))
    for (const name of registry.names()) {
      names.add(name)
      names.add(`${kind}:${name}`)
    }
  for (const key of Object.keys(options)) {
    if (names.has(key)) continue
    const kind = KINDS[key as keyof typeof KINDS]
    const hint = kind
      ? `options are keyed by the component's name, not its kind: ${quoteList(kind.names().map((n) => `${key}:${n}`))}`
      : `did you mean ${nearestName(key, [...names]) ?? quoteList([...names])}?`
    throw new InvalidOptionsError(`config.options.${key} names no registered component; ${hint}`)
  }
}

/**
 * Merges the config file and the flags of `peerkit node` (flags win) and
 * checks what the peer config parser cannot: that an overlay is named.
 * Throws `InvalidOptionsError` naming the flag.
 */
export function parseNodeOptions(flags: NodeFlags, input: unknown, cwd: string): NodeOptions {
  const {
    shares: fileShares,
    api: fileApi,
    logLevel: fileLogLevel,
    shareHidden,
    shareDownloads,
    watchShares,
    shareSettleTime,
    ...base
  }: Partial<NodeFileInput> = input === undefined ? {} : checkNodeFile(input)
  const overlay = flags.overlay ?? base.overlay
  if (!overlay) {
    throw new InvalidOptionsError(
      `--overlay is required (or "overlay" in the --config file): one of ${quoteList(overlays.names())}`,
    )
  }
  const listen = flags.listen ?? base.listen ?? [DEFAULT_LISTEN]
  const bootstrap = flags.bootstrap ?? base.bootstrap ?? []
  const config: PeerConfigInput = { ...base, overlay, listen, bootstrap }
  if (flags.transport) config.transport = flags.transport
  else if (base.transport === undefined) config.transport = transportsFor([...listen, ...bootstrap])
  if (flags.relay || flags.relayService) withNatFlags(config, flags)
  const dataDir = flags.data ?? base.dataDir
  if (dataDir) config.dataDir = resolve(cwd, dataDir)
  // With a data folder the indexes persist there (LMDB): a restart neither re-hashes the shares nor forgets Chord records.
  const index = flags.index ?? base.index ?? (dataDir ? DEFAULT_PERSISTENT_INDEX : undefined)
  if (index !== undefined) config.index = index
  const api = parseHostPortOption(flags.api ? '--api' : 'config.api', flags.api ?? fileApi ?? DEFAULT_API)
  checkComponentOptions(config.options ?? {})
  const share = [...new Set([...(fileShares ?? []), ...(flags.share ?? [])].map((p) => resolve(cwd, p)))]
  return {
    config,
    api,
    share,
    logLevel: flags.logLevel ?? fileLogLevel ?? 'info',
    shareHidden: flags.shareHidden ?? shareHidden ?? false,
    shareDownloads: flags.shareDownloads ?? shareDownloads ?? true,
    watch: flags.watch ?? watchShares ?? true,
    ...(shareSettleTime === undefined ? {} : { shareSettleTime }),
  }
}

/**
 * `--relay` and `--relay-service` go to `options.nat` (`relays`, `service.listen`), and the `nat`
 * transport takes the place of `tcp` (it speaks the same wire) unless `--transport` named one.
 */
function withNatFlags(config: PeerConfigInput, flags: NodeFlags): void {
  const nat = { ...((config.options?.nat as Record<string, unknown> | undefined) ?? {}) }
  if (flags.relay) nat.relays = flags.relay
  const service = flags.relayService?.at(-1)
  if (service)
    nat.service = { ...((nat.service as Record<string, unknown> | undefined) ?? {}), listen: service }
  config.options = { ...config.options, nat }
  if (flags.transport) return
  const named = [config.transport ?? 'tcp'].flat().map((t) => (t === 'tcp' ? 'nat' : t))
  if (!named.includes('nat')) named.push('nat')
  const unique = [...new Set(named)]
  config.transport = unique.length === 1 ? (unique[0] as string) : unique
}

/** The transports an address list needs, by URL scheme (tcp when there are none). */
export function transportsFor(addresses: string[]): string | string[] {
  const schemes = [...new Set(addresses.map((a) => a.slice(0, a.indexOf('://'))))]
  if (schemes.length === 0) return 'tcp'
  return schemes.length === 1 ? (schemes[0] as string) : schemes
}

function parseHostPortOption(flag: string, value: string): HostPort {
  try {
    return parseHostPort(value)
  } catch (err) {
    throw new InvalidOptionsError(`${flag}: ${(err as Error).message}`, { cause: err })
  }
}
