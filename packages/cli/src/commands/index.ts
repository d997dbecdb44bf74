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
import { simCommand } from './sim.js'
import { statusCommand } from './status.js'

/** Adds one subcommand to the program. One file per command in this folder. */
export type CommandModule = (program: Command, io: Io) => Command

/**
 * Every `peerkit` subcommand, in help order. A new command is a new file here
 * exporting a CommandModule, and one line in this list.
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
