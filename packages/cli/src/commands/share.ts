import { resolve } from 'node:path'
import type { Command } from 'commander'
import { displayText } from '../display.js'
import { formatBytes, plural } from '../format.js'
import type { Io } from '../io.js'
import type { SharedFolder } from '../share-registry.js'
import { addClientOptions, type ClientFlags, clientFor, printJson } from './shared.js'

/** Skipped entries printed per folder by `share add` and `share list` (the JSON lists what the node kept). */
const SKIPPED_SHOWN = 10

/**
 * `peerkit share add DIR`, `share remove DIR`, `share list`: the folders a
 * running node shares, through its API (`/shares`). The node follows them on
 * disk and keeps them in its data folder across restarts.
 */
export function shareCommand(program: Command, io: Io): Command {
  const share = program
    .command('share')
    .summary("add, remove or list a running node's shared folders")
    .description(
      'Manages the folders a running node shares, through its API. The node follows each folder on disk ' +
        '(new files are published, deleted ones withdrawn, changed ones hashed again) and, with --data, ' +
        "keeps the list in DATA/shares.json so a restart shares them again. Paths are on the node's machine; " +
        'a relative DIR is taken from this working directory.',
    )
  addClientOptions(
    share
      .command('add')
      .summary('share a folder (or a file) and follow it on disk')
      .argument('<dir>', 'the folder or file to share'),
    io,
  ).action(async (dir: string, flags: ClientFlags) => {
    const client = await clientFor(flags, io)
    const folder = await client.share(resolve(io.cwd, dir))
    if (flags.json) return printJson(io, folder)
    io.stdout.write(`${describe(folder)}\n${skippedLines(folder)}`)
  })
  addClientOptions(
    share
      .command('remove')
      .summary('stop sharing a folder (its files go, unless another shared folder holds them)')
      .argument('<dir>', 'the folder or file, as `peerkit share list` shows it'),
    io,
  ).action(async (dir: string, flags: ClientFlags) => {
    const client = await clientFor(flags, io)
    const path = resolve(io.cwd, dir)
    await client.unshare(path)
    if (flags.json) return printJson(io, { path, removed: true })
    io.stdout.write(`no longer shared: ${displayText(path)}\n`)
  })
  addClientOptions(
    share.command('list').summary('the shared folders, their files and what was left out'),
    io,
  ).action(async (flags: ClientFlags) => {
    const client = await clientFor(flags, io)
    const folders = await client.shares()
    if (flags.json) return printJson(io, { shares: folders })
    if (folders.length === 0)
      return void io.stdout.write('nothing shared — add a folder with `peerkit share add DIR`\n')
    for (const f of folders) io.stdout.write(`${describe(f)}\n${skippedLines(f)}`)
  })
  return share
}

function describe(folder: SharedFolder): string {
  const bytes = folder.files.reduce((n, f) => n + f.size, 0)
  const kind = folder.download ? ' (a finished download)' : ''
  const skipped = folder.skippedCount ? `, ${folder.skippedCount} left out` : ''
  return `${displayText(folder.path)}${kind}: ${plural(folder.files.length, 'file')}, ${formatBytes(bytes)}${skipped}`
}

function skippedLines(folder: SharedFolder): string {
  const shown = (folder.skipped ?? []).slice(0, SKIPPED_SHOWN)
  const lines = shown.map((s) => `  left out (${s.reason}): ${displayText(s.path)}\n`)
  const more = (folder.skippedCount ?? 0) - shown.length
  if (more > 0) lines.push(`  … and ${more} more (--json lists up to 100)\n`)
  return lines.join('')
}
