import { readFileSync } from 'node:fs'
import { loadPlugins } from '@peerkit/core'
import { Command, CommanderError } from 'commander'
import { COMMANDS, PREPARE } from './commands/index.js'
import { EXIT_CODE } from './commands/sim.js'
import { displayText } from './display.js'
import { exitCodeOf } from './errors.js'
import { type Io, processIo } from './io.js'

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version

/**
 * The `peerkit` command with every subcommand; output goes to `io`, and it never calls process.exit.
 * The --overlay, --transport and --index names it lists and accepts are those registered when it is
 * called: importing `@peerkit/cli` registers this package's; runCli registers them only for the
 * commands that name them.
 */
export function createProgram(io: Io): Command {
  const program = new Command('peerkit')
    .description(
      'peerkit: peer-to-peer file sharing with a choice of overlay (central, flooding, supernode, chord).\n' +
        'Start with `peerkit demo`; run a peer with `peerkit node`, then use search, get and status on it.',
    )
    .version(VERSION, '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .showHelpAfterError('(run with --help for usage)')
    .showSuggestionAfterError(true)
    .option(
      '--plugin <module>',
      'import a module that registers overlays, transports or indexes (repeatable)',
      (value: string, list: string[] = []) => [...list, value], // every one, in order (`peerkit sim` hands them to its workers)
    )
  for (const add of COMMANDS) add(program, io)
  program.addHelpText(
    'after',
    [
      '',
      'Examples:',
      '  peerkit demo --overlay chord',
      '  peerkit node --overlay flooding --listen tcp://0.0.0.0:4001 --share ~/Videos --data ~/.peerkit',
      '  peerkit search harry potter --api 127.0.0.1:4680',
      '  peerkit get HASH --out hp.mkv --api 127.0.0.1:4680',
      '  peerkit sim --overlay all --nodes 1000 --queries 1000 --out sim-report',
      '',
      'Exit status: 0 success, 1 a failure you can fix (the message says how), 2 bad usage.',
    ].join('\n'),
  )
  return program
}

/**
 * Runs `peerkit` with `args` (the words after the command name) and returns
 * the exit status: 0 success, 1 a failure the user can fix, 2 bad usage.
 */
export async function runCli(args: string[], io: Io = processIo()): Promise<number> {
  try {
    // What the command's definition needs (registered names, the simulator's usage), for that command
    // only, and before the plugins, which may replace a name this package registers.
    const name = commandOf(args)
    if (name !== undefined && Object.hasOwn(PREPARE, name)) await PREPARE[name]?.()
    // Before the commands are built, so --overlay/--transport accept what plugins register and help lists it.
    await loadPlugins(pluginArgs(args), { from: io.cwd, field: '--plugin' })
  } catch (err) {
    io.stderr.write(`peerkit: ${displayText((err as Error)?.message ?? String(err))}\n`)
    return exitCodeOf(err)
  }
  const program = createProgram(io)
  try {
    await program.parseAsync(args, { from: 'user' })
    return 0
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander (or a command that returns its own status) has written its message already.
      if (err.code === EXIT_CODE) return err.exitCode
      return err.exitCode === 0 ? 0 : 2
    }
    // A message can quote what the node or a remote peer said: escaped for the terminal.
    io.stderr.write(`peerkit: ${displayText((err as Error)?.message ?? String(err))}\n`)
    return exitCodeOf(err)
  }
}

/**
 * The command `args` run or ask help for: `node` for `peerkit --plugin X node …`
 * and for `peerkit help node`; undefined for `peerkit --help`. The program's own
 * options are --plugin MODULE, --version and --help.
 */
function commandOf(args: string[]): string | undefined {
  for (let i = 0; i < args.length && args[i] !== '--'; i++) {
    const arg = args[i] as string
    if (arg === '--plugin') i++
    else if (arg.startsWith('-')) continue
    else if (arg === 'help') return args.slice(i + 1).find((a) => !a.startsWith('-'))
    else return arg
  }
  return undefined
}

/** The values of every `--plugin MODULE` / `--plugin=MODULE` in `args` (up to a `--`). */
function pluginArgs(args: string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < args.length && args[i] !== '--'; i++) {
    const arg = args[i] as string
    if (arg === '--plugin' && i + 1 < args.length) out.push(args[++i] as string)
    else if (arg.startsWith('--plugin=')) out.push(arg.slice('--plugin='.length))
  }
  return out
}
