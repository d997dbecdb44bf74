import type { Command } from 'commander'
import type { ApiBrowsePage } from '../api-types.js'
import { displayText } from '../display.js'
import { formatBytes, plural } from '../format.js'
import type { Io } from '../io.js'
import { integerArg } from '../options.js'
import { addClientOptions, type ClientFlags, clientFor, printJson } from './shared.js'

/** Files asked for per page. */
const PAGE = 100
/** Files `--all` lists at most. */
const MAX_ALL = 100_000

interface BrowseFlags extends ClientFlags {
  limit: number
  all?: boolean
}

/** `peerkit browse PEER`: the files another peer shares, by name, through a running node. */
export function browseCommand(program: Command, io: Io): Command {
  const cmd = program
    .command('browse')
    .summary('list the files another peer shares')
    .description(
      'Lists the files another peer shares, sorted by name, through a running `peerkit node`. ' +
        'PEER is an address (tcp://HOST:PORT) or a peer id the node knows (one seen in search results). ' +
        'A peer may refuse (its config browse.allow is false).',
    )
    .argument('<peer>', 'an address (tcp://HOST:PORT) or a peer id')
    .option('--limit <n>', 'list at most this many files', integerArg(1, MAX_ALL), PAGE)
    .option('--all', `list every file (up to ${MAX_ALL}), page by page`)
  addClientOptions(cmd, io).action(async (peer: string, flags: BrowseFlags) => {
    const client = await clientFor(flags, io)
    const want = flags.all ? MAX_ALL : flags.limit
    const files: ApiBrowsePage['files'] = []
    let page: ApiBrowsePage | undefined
    do {
      const limit = Math.min(PAGE, want - files.length)
      page = await client.browse(peer, { ...(page?.next === undefined ? {} : { after: page.next }), limit })
      files.push(...page.files)
      if (!flags.json)
        for (const f of page.files)
          io.stdout.write(
            `${displayText(f.hash)}  ${formatBytes(f.size).padStart(8)}  ${displayText(f.name)}\n`,
          )
    } while (page.next !== undefined && files.length < want)
    if (flags.json) return printJson(io, { peer: page.peer, total: page.total, files })
    const more = page.total > files.length ? ` (of ${page.total}; --all lists every one)` : ''
    io.stderr.write(
      `${displayText(page.peer.id)} shares ${plural(page.total, 'file')}; listed ${files.length}${more}; fetch one with: peerkit get HASH --out FILE\n`,
    )
  })
  return cmd
}
