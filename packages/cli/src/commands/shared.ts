import { dirname, join, resolve } from 'node:path'
import { type Command, Option } from 'commander'
import type { ApiClient } from '../api-client.js'
import { COOKIE_FILE, cookiePath, readCookie } from '../cookie.js'
import type { Io } from '../io.js'
import { DEFAULT_API, hostPortArg, parseHostPort } from '../options.js'

/** The flags every API client command takes: where the node is, and its credential. */
export interface ClientFlags {
  api: string
  token?: string
  cookie?: string
  data?: string
  json?: boolean
}

export function addClientOptions(cmd: Command, io: Io): Command {
  return cmd
    .addOption(
      new Option('--api <host:port>', "the node's API address, as `peerkit node` printed it")
        .default(io.env.PEERKIT_API ?? DEFAULT_API)
        .env('PEERKIT_API')
        .argParser(hostPortArg),
    )
    .addOption(
      new Option(
        '--data <dir>',
        `the node's --data folder: its API cookie is DIR/${COOKIE_FILE} (default: ~/.peerkit/api-HOST-PORT.cookie)`,
      ).env('PEERKIT_DATA'),
    )
    .addOption(new Option('--cookie <file>', "the node's API cookie file, as `peerkit node` printed it"))
    .addOption(
      new Option(
        '--token <secret>',
        "the API secret itself (the cookie file's content), e.g. for a remote node",
      ).env('PEERKIT_TOKEN'),
    )
    .option('--json', 'print one JSON document on stdout, for scripts')
}

/**
 * A client for the node at `--api`, with its credential: `--token`, else
 * the `--cookie` file, else `DATA/api.cookie` for `--data`, else the
 * cookie of a node run by this user without --data
 * (`~/.peerkit/api-HOST-PORT.cookie`), else `~/.peerkit/api.cookie`.
 */
export async function clientFor(flags: ClientFlags, io: Io, timeout?: number): Promise<ApiClient> {
  let token = flags.token
  const named = flags.cookie ?? (flags.data ? resolve(io.cwd, flags.data, COOKIE_FILE) : undefined)
  if (!token && named) token = await readCookie(resolve(io.cwd, named), true)
  if (!token) {
    const byAddress = cookiePath(undefined, parseHostPort(flags.api))
    // Then the cookie of a node run with `--data ~/.peerkit`, as the docs' examples do.
    token =
      (await readCookie(byAddress, false)) ?? (await readCookie(join(dirname(byAddress), COOKIE_FILE), false))
  }
  // The client loads only when a command that talks to a node runs.
  const { ApiClient } = await import('../api-client.js')
  return new ApiClient(flags.api, { token, timeout })
}

/**
 * Writes one JSON document and a newline. Besides what JSON escapes itself,
 * DEL, C1 controls, line separators and bidi marks are written as `\uXXXX`,
 * so the document is safe on a terminal and parses to the same values.
 */
export function printJson(io: Io, value: unknown): void {
  const text = JSON.stringify(value, null, 2).replace(
    /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
  io.stdout.write(`${text}\n`)
}
