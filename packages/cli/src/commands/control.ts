import type { Command } from 'commander'
import type { ControlResult } from '../api-client.js'
import type { Io } from '../io.js'
import { hashArg } from '../options.js'
import { addClientOptions, type ClientFlags, clientFor, printJson } from './shared.js'

type Action = 'pause' | 'resume' | 'cancel'

const SUMMARY: Record<Action, string> = {
  pause: "pause a running node's download (its .part stays, for a resume)",
  resume: "resume a running node's paused download",
  cancel: "cancel a running node's download (its .part is removed unless --keep-part)",
}

const DONE: Record<Action, string> = { pause: 'paused', resume: 'resumed', cancel: 'cancelled' }

/** `peerkit pause|resume|cancel HASH`: one control of a download the node runs. */
function controlCommand(action: Action) {
  return (program: Command, io: Io): Command => {
    const cmd = program
      .command(action)
      .summary(SUMMARY[action])
      .description(
        `${SUMMARY[action][0]?.toUpperCase()}${SUMMARY[action].slice(1)}. ` +
          'Exit status 1 when the node runs no download of HASH (`peerkit status` lists them).',
      )
      .argument('<hash>', 'the content hash of the download, as `peerkit status` lists it', hashArg)
    if (action === 'cancel')
      cmd.option('--keep-part', 'keep the .part file, so a later `peerkit get` of the file resumes from it')
    addClientOptions(cmd, io).action(async (hash: string, flags: ClientFlags & { keepPart?: boolean }) => {
      const client = await clientFor(flags, io)
      let result: ControlResult
      if (action === 'cancel') result = await client.cancel(hash, { keepPart: flags.keepPart === true })
      else result = await client[action](hash)
      if (flags.json) return printJson(io, result)
      const state = result.state ? ` (now ${result.state})` : ''
      const kept =
        action === 'cancel' ? (result.keepPart ? '; its .part is kept' : '; its .part is removed') : ''
      io.stdout.write(`${DONE[action]} ${hash}${state}${kept}\n`)
    })
    return cmd
  }
}

export const pauseCommand = controlCommand('pause')
export const resumeCommand = controlCommand('resume')
export const cancelCommand = controlCommand('cancel')
