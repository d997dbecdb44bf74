import { type Command, Option } from 'commander'
import { ApiClient } from '../api-client.js'
import type { Io } from '../io.js'
import { DEFAULT_API, hostPortArg } from '../options.js'

/** The flags every API client command takes: where the node is, and its token. */
export interface ClientFlags {
  api: string
  token?: string
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
      new Option('--token <token>', "the API token (from the node's data folder; needed off loopback)").env(
        'PEERKIT_TOKEN',
      ),
    )
    .option('--json', 'print one JSON document on stdout, for scripts')
}

export function clientFor(flags: ClientFlags, timeout?: number): ApiClient {
  return new ApiClient(flags.api, { token: flags.token, timeout })
}

/** Writes one JSON document and a newline. */
export function printJson(io: Io, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}
