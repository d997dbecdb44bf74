import type { Command } from 'commander'
import type { Io } from '../io.js'
import { browseCommand } from './browse.js'
import { cancelCommand, pauseCommand, resumeCommand } from './control.js'
import { demoCommand } from './demo.js'
import { directoryCommand } from './directory.js'
import { getCommand } from './get.js'
import { nodeCommand } from './node.js'
import { searchCommand } from './search.js'
import { shareCommand } from './share.js'
import { loadSimUsage, simCommand } from './sim.js'
import { statusCommand } from './status.js'

/** Adds one subcommand to the program. One file per command in this folder. */
export type CommandModule = (program: Command, io: Io) => Command

/**
 * Every `peerkit` subcommand, in help order. A new command is a new file here
 * exporting a CommandModule, and one line in this list. A CommandModule defines
 * the command (arguments, options, help) and loads its implementation in its
 * action with `await import(…)`, so a `peerkit` process loads only the command
 * it runs.
 */
export const COMMANDS: CommandModule[] = [
  demoCommand,
  nodeCommand,
  directoryCommand,
  searchCommand,
  browseCommand,
  getCommand,
  pauseCommand,
  resumeCommand,
  cancelCommand,
  statusCommand,
  shareCommand,
  simCommand,
]

/** Registers the overlays, transports, indexes and transfer this package ships (importing them registers their names). */
export async function registerImplementations(): Promise<void> {
  await import('../register.js')
}

/**
 * What a command's definition reads besides commander, by command name: runCli
 * loads it before it builds the program, and only for the command that runs or
 * shows its help. `node`, `directory` and `demo` list and check the registered
 * names (--overlay, --transport, --index); `sim`'s description is the simulator's
 * usage text. The API clients (search, get, status …) need none of it.
 */
export const PREPARE: Readonly<Record<string, () => Promise<void>>> = {
  demo: registerImplementations,
  node: registerImplementations,
  directory: registerImplementations,
  sim: loadSimUsage,
}
