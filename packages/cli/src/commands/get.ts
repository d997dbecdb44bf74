import { basename, resolve } from 'node:path'
import type { Command } from 'commander'
import type { GetResult } from '../api-types.js'
import { displayText } from '../display.js'
import { CommandError } from '../errors.js'
import { formatBytes, formatMs, plural, shortId } from '../format.js'
import type { Io } from '../io.js'
import { hashArg, integerArg } from '../options.js'
import { addClientOptions, type ClientFlags, clientFor, printJson } from './shared.js'

/** Milliseconds between plain progress lines off a terminal, at most (besides one each 10 %). */
const PLAIN_EVERY = 5000
/** States told on their own line: the ones a person waits on. */
const STATES_SHOWN = new Set(['queued', 'waiting', 'paused'])

interface GetFlags extends ClientFlags {
  out: string
  force?: boolean
  providerTimeout?: number
}

/** `peerkit get HASH --out PATH`: the node downloads from every provider it finds; a progress bar shows it. */
export function getCommand(program: Command, io: Io): Command {
  const cmd = program
    .command('get')
    .summary('download a file through a running node, from every provider it finds')
    .description(
      'Downloads the file with content HASH through a running `peerkit node`, from every provider the node ' +
        'finds, verifying each chunk against the hash. Shows a progress bar on a terminal.',
    )
    .argument('<hash>', 'the content hash (64 hex digits), as `peerkit search` prints it', hashArg)
    .requiredOption(
      '--out <path>',
      'where to write the file (on the machine the node runs on): a new file in an existing folder, ' +
        'or an existing folder to save it in under its name',
    )
    .option('--force', 'replace the file at --out if there is one (otherwise an existing file is an error)')
    .option(
      '--provider-timeout <ms>',
      'milliseconds the node keeps looking for providers',
      integerArg(1, 600_000),
    )
  addClientOptions(cmd, io).action(async (hash: string, flags: GetFlags) => {
    const client = await clientFor(flags, io)
    const started = await client.startDownload({
      hash,
      out: resolve(io.cwd, flags.out),
      providerTimeout: flags.providerTimeout,
      ...(flags.force ? { force: true } : {}),
    })
    const { ProgressBoard } = await import('../progress-board.js')
    // Off a terminal (piped, in a log), a plain line each 10 % and at least every 5 s, so progress shows there too.
    const board = new ProgressBoard(io.stderr, { plain: !flags.json, step: 10, every: PLAIN_EVERY })
    const name = basename(started.path)
    const bar = board.row(name)
    let result: GetResult | undefined
    try {
      for await (const event of client.downloadEvents(hash, started.path)) {
        if (event.type === 'progress') {
          if (!flags.json)
            bar.update({
              bytes: event.bytes,
              size: event.size,
              rate: event.rate,
              sources: event.sources.length,
              eta: event.eta,
            })
        } else if (event.type === 'done') {
          result = event.result
          bar.done()
        } else if (event.type === 'error') {
          throw downloadError(hash, event.error)
        } else if (event.type === 'state' && !flags.json && STATES_SHOWN.has(event.state)) {
          board.log(`${name}: ${event.state}${event.reason ? ` — ${event.reason}` : ''}`)
        }
      }
    } finally {
      board.stop()
    }
    if (!result) {
      throw new CommandError(
        `the node stopped reporting on the download of ${hash} — check it with \`peerkit status\``,
      )
    }
    if (flags.json) return printJson(io, result)
    const from = result.sources.map((s) => `${displayText(shortId(s.id))} ${formatBytes(s.bytes)}`).join(', ')
    io.stdout.write(
      `${displayText(result.path)}  ${formatBytes(result.size)}  ${result.verified ? 'verified' : 'NOT verified'}  ` +
        `in ${formatMs(result.elapsedMs)} from ${plural(result.sources.length, 'source')}${from ? `: ${from}` : ''}\n`,
    )
  })
  return cmd
}

function downloadError(hash: string, error: { name: string; message: string }): CommandError {
  switch (error.name) {
    case 'NotFoundError':
    case 'TimeoutError':
      return new CommandError(
        `no provider of ${hash} could be found or reached (${error.message}) — check the hash with \`peerkit search\`, ` +
          'or try again with a longer --provider-timeout',
      )
    case 'AbortError':
      return new CommandError(`the download of ${hash} was stopped on the node (${error.message})`)
    case 'OutputError':
      return new CommandError(error.message)
    default:
      return new CommandError(`the download of ${hash} failed: ${error.name}: ${error.message}`)
  }
}
