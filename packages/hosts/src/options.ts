import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { threadId } from 'node:worker_threads'
import { parseOptions } from '@peerkit/core'
import { z } from 'zod'

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

/** The options as a schema (core's one error format: `hosts.subnet must …`); defaults filled per call. */
export const hostNetworkOptionsSchema = z
  .object({
    prefix: z
      .string()
      .regex(/^[a-z][a-z0-9]*$/, 'lower-case letters and digits, starting with a letter')
      .max(MAX_PREFIX)
      .default(() => `${RUN_PREFIX}${++counter}`),
    subnet: z
      .string()
      .regex(SUBNET_RE, 'the first three octets of a 10.x.y.0/24')
      .refine((v) => v.split('.').every((octet) => Number(octet) <= 255), 'octets of at most 255')
      .default(DEFAULT_SUBNET),
    peerkitBin: z.string().min(1).default(defaultPeerkitBin),
    nodePath: z
      .string()
      .min(1)
      .default(() => process.execPath),
    commandTimeout: z.number().int().min(1).default(DEFAULT_COMMAND_TIMEOUT),
  })
  .strict()

/** Fills the defaults (a fresh prefix each time), checks, and freezes; throws `InvalidOptionsError` naming the field. */
export function parseHostNetworkOptions(input: unknown = {}): Readonly<Required<HostNetworkOptions>> {
  return parseOptions(hostNetworkOptionsSchema, input, 'hosts')
}
