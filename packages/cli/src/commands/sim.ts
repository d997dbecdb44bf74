import type { SimIo } from '@peerkit/sim'
import { type Command, CommanderError } from 'commander'
import type { Io } from '../io.js'

/** Exit code a command returns without a message of its own (it has printed what it had to say). */
export const EXIT_CODE = 'peerkit.exit'

const SUMMARY = 'simulate a network in virtual time and compare the overlays (hops, messages, success, load)'

/** The simulator's usage text, once `loadSimUsage` has read it (the description of `peerkit help sim`). */
let usage: string | undefined

/**
 * Reads the simulator's usage text, which is the command's description. runCli
 * calls it before it builds the program, for `peerkit sim` and `peerkit help sim`
 * only: no other command loads the simulator.
 */
export async function loadSimUsage(): Promise<void> {
  usage = (await import('@peerkit/sim')).SIM_USAGE
}

/**
 * `peerkit sim`: the real overlays over thousands of peers in virtual time,
 * side by side. Its flags are parsed by @peerkit/sim, so the help is its own.
 */
export function simCommand(program: Command, io: Io): Command {
  return program
    .command('sim')
    .summary(SUMMARY)
    .description(usage ?? SUMMARY)
    .helpOption(false)
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .argument('[flags...]', 'see `peerkit sim --help`')
    .action(async (flags: string[], _options: unknown, cmd: Command) => {
      const { sim } = await import('@peerkit/sim')
      // The progress bar is drawn on stderr only when it is a terminal (then it is process.stderr).
      const stderr = io.stderr as SimIo['stderr']
      // Plugins are loaded in this thread already (runCli); each simulation's worker loads them again.
      const list = (cmd.parent?.opts().plugin ?? []) as string[]
      const plugins = list.length > 0 ? { list, from: io.cwd, field: '--plugin' } : undefined
      const code = await sim(flags, { stdout: io.stdout, stderr }, plugins ? { plugins } : {})
      if (code !== 0) throw new CommanderError(code, EXIT_CODE, '')
    })
}
