import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { threadId } from 'node:worker_threads'
import { InvalidOptionsError } from '@peerkit/core'

/** Options of `HostNetwork.create`. */
export interface HostNetworkOptions {
  /**
   * Prefix of every namespace this network creates; unique per network.
   * @default `${RUN_PREFIX}${counter}`
   */
  prefix?: string
  /**
   * The first three octets of the private /24 the hosts live in. It exists only
   * inside the network's own namespaces (the bridge has its own namespace too).
   * @default '10.77.0'
   */
  subnet?: string
  /**
   * Path of the compiled `peerkit` command.
   * @default the `bin` of @peerkit/cli
   */
  peerkitBin?: string
  /**
   * The node executable that runs `peerkitBin`.
   * @default process.execPath
   */
  nodePath?: string
  /**
   * Milliseconds one `ip`/`tc`/CLI command may take.
   * @default 30000
   */
  commandTimeout?: number
}

/**
 * Every namespace of this process (and worker thread: ava runs test files in
 * threads of one process) starts with this: `pkh<pid>t<thread>x`.
 */
export const RUN_PREFIX = `pkh${process.pid}t${threadId}x`
export const DEFAULT_SUBNET = '10.77.0'
export const DEFAULT_COMMAND_TIMEOUT = 30_000
/** Namespace names are at most this long (the kernel allows 255, `ip` file names are fine; keep them short). */
const MAX_PREFIX = 24
const SUBNET_RE = /^10\.(\d{1,3})\.(\d{1,3})$/

let counter = 0

/** The compiled `peerkit` bin of @peerkit/cli. */
export function defaultPeerkitBin(): string {
  // The package's main entry is dist/src/index.js; the bin sits beside it.
  return join(dirname(fileURLToPath(import.meta.resolve('@peerkit/cli'))), 'bin.js')
}

export function parseHostNetworkOptions(input: unknown = {}): Readonly<Required<HostNetworkOptions>> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new InvalidOptionsError(`hosts options must be an object (got ${JSON.stringify(input)})`)
  }
  const o = input as HostNetworkOptions
  const prefix = o.prefix ?? `${RUN_PREFIX}${++counter}`
  if (typeof prefix !== 'string' || !/^[a-z][a-z0-9]*$/.test(prefix) || prefix.length > MAX_PREFIX) {
    throw new InvalidOptionsError(
      `hosts.prefix must be lower-case letters and digits, at most ${MAX_PREFIX} (got ${JSON.stringify(prefix)})`,
    )
  }
  const subnet = o.subnet ?? DEFAULT_SUBNET
  const m = typeof subnet === 'string' ? SUBNET_RE.exec(subnet) : null
  if (!m || Number(m[1]) > 255 || Number(m[2]) > 255) {
    throw new InvalidOptionsError(
      `hosts.subnet must be the first three octets of a 10.x.y.0/24 (got ${JSON.stringify(subnet)})`,
    )
  }
  const commandTimeout = o.commandTimeout ?? DEFAULT_COMMAND_TIMEOUT
  if (!Number.isInteger(commandTimeout) || commandTimeout < 1) {
    throw new InvalidOptionsError(`hosts.commandTimeout must be an integer >= 1 (got ${commandTimeout})`)
  }
  const peerkitBin = o.peerkitBin ?? defaultPeerkitBin()
  const nodePath = o.nodePath ?? process.execPath
  for (const [field, v] of [
    ['peerkitBin', peerkitBin],
    ['nodePath', nodePath],
  ] as const) {
    if (typeof v !== 'string' || v.length === 0) {
      throw new InvalidOptionsError(`hosts.${field} must be a non-empty path (got ${JSON.stringify(v)})`)
    }
  }
  return Object.freeze({ prefix, subnet, peerkitBin, nodePath, commandTimeout })
}
