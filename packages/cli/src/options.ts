import { resolve } from 'node:path'
import { InvalidOptionsError, isContentHash, overlays, type PeerConfigInput, transports } from '@peerkit/core'
import { InvalidArgumentError } from 'commander'
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
  api?: string
  logLevel?: LogLevel
}

export interface NodeOptions {
  /** The peer's configuration: the config file, then the flags over it. */
  config: PeerConfigInput
  api: HostPort
  /** Absolute folders (or files) to share at start. */
  share: string[]
  logLevel: LogLevel
}

/**
 * Merges the config file and the flags of `peerkit node` (flags win) and
 * checks what the peer config parser cannot: that an overlay is named.
 * Throws `InvalidOptionsError` naming the flag.
 */
export function parseNodeOptions(
  flags: NodeFlags,
  file: PeerConfigInput | undefined,
  cwd: string,
): NodeOptions {
  const base: Partial<PeerConfigInput> = file ?? {}
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
  const dataDir = flags.data ?? base.dataDir
  if (dataDir) config.dataDir = resolve(cwd, dataDir)
  const api = parseHostPortOption('--api', flags.api ?? DEFAULT_API)
  return {
    config,
    api,
    share: (flags.share ?? []).map((p) => resolve(cwd, p)),
    logLevel: flags.logLevel ?? 'info',
  }
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
