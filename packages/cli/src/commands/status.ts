import type { Command } from 'commander'
import type { ApiStatus } from '../api-types.js'
import { displayText } from '../display.js'
import { formatBytes, plural } from '../format.js'
import type { Io } from '../io.js'
import { addClientOptions, type ClientFlags, clientFor, printJson } from './shared.js'

/** `peerkit status`: the node's id, role, addresses, neighbors, shares and downloads. */
export function statusCommand(program: Command, io: Io): Command {
  const cmd = program
    .command('status')
    .summary("show a running node's id, role, addresses, neighbors and shares")
    .description("Shows a running node's id, overlay and role, addresses, neighbors, shares and downloads.")
  cmd.option(
    '--web',
    "print a fresh one-time link that signs a browser in to the node's page, and nothing else",
  )
  addClientOptions(cmd, io).action(async (flags: ClientFlags & { web?: boolean }) => {
    const client = await clientFor(flags, io)
    if (flags.web) {
      const link = await client.loginLink()
      if (flags.json) return printJson(io, link)
      return void io.stdout.write(`${link.url}\n`)
    }
    const s = await client.status()
    if (flags.json) return printJson(io, s)
    const lines = [
      `id         ${s.id}`,
      `overlay    ${s.overlay} (role ${s.role})`,
      `addresses  ${s.addresses.join(' ') || '(none)'}`,
      `neighbors  ${s.neighbors.length}`,
      ...(s.connectivity ? [`overlay    ${connectivityLine(s.connectivity)}`] : []),
      ...s.neighbors.map((n) => `  ${n.id}  ${n.addresses.join(' ')}`),
      `shares     ${plural(s.shares, 'file')}`,
      `downloads  ${s.downloads.length}`,
      ...s.downloads.map(
        (d) => `  ${d.hash}  ${d.state}  ${formatBytes(d.bytes)} of ${formatBytes(d.size)}  ${d.path}`,
      ),
    ]
    // Neighbors' ids and addresses come from other peers: each line is escaped for the terminal.
    io.stdout.write(`${lines.map(displayText).join('\n')}\n`)
  })
  return cmd
}

/** `connected`, or `bootstrapping (3 retries): the bootstrap peers did not answer …`. */
function connectivityLine(c: NonNullable<ApiStatus['connectivity']>): string {
  const retries = c.retries === undefined ? '' : ` (${c.retries === 1 ? '1 retry' : `${c.retries} retries`})`
  return `${c.state}${retries}${c.reason ? `: ${c.reason}` : ''}`
}
