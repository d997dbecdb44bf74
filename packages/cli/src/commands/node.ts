import { indexes, loadConfigFile, overlays, transports } from '@peerkit/core'
import type { Command } from 'commander'
import type { Io } from '../io.js'
import { cliLogger } from '../logger.js'
import {
  addressArg,
  collectArg,
  DEFAULT_API,
  DEFAULT_LISTEN,
  hostPortArg,
  logLevelArg,
  type NodeFlags,
  overlayArg,
  parseNodeOptions,
  quoteList,
  transportArg,
} from '../options.js'
import { withDeadline } from './deadline.js'

/** Milliseconds a node gets to leave the overlay and close its connections on SIGINT/SIGTERM. */
export const SHUTDOWN_TIMEOUT = 10_000

interface NodeCommandFlags extends NodeFlags {
  config?: string
}

/** `peerkit node`: one long-lived peer with a local HTTP API. */
export function nodeCommand(program: Command, io: Io): Command {
  return program
    .command('node')
    .summary('run one long-lived peer, with a local HTTP API for search, get and status')
    .description(
      'Runs one peer until SIGINT or SIGTERM. Flags and a JSON --config file (the createPeer configuration) ' +
        'give the same settings; flags win. On start it prints `peer ID`, one `listen ADDRESS` per address, ' +
        '`api http://HOST:PORT`, `cookie FILE`, `web LOGIN-LINK` (signs a browser in to the page, once, within 10 minutes) and `ready` on stdout; logs go to stderr. Every API request ' +
        'needs the secret in the cookie file (mode 0600, new each run): DATA/api.cookie with --data, ' +
        'else ~/.peerkit/api-HOST-PORT.cookie.',
    )
    .option('--overlay <name>', `overlay strategy: ${quoteList(overlays.names())}`, overlayArg)
    .option(
      '--listen <addr...>',
      `addresses to listen on, e.g. tcp://0.0.0.0:4001 (port 0 picks a free one) (default: ${DEFAULT_LISTEN})`,
      addressArg,
    )
    .option('--bootstrap <addr...>', 'peers to join through; for central, the directory server', addressArg)
    .option(
      '--relay <addr...>',
      'relay services (tcp://HOST:PORT) to keep a reservation with: behind NAT the node learns whether it is reachable and advertises a relayed address (the nat transport, docs/nat.md)',
      addressArg,
    )
    .option(
      '--relay-service <addr>',
      'run a relay service for peers behind NAT at this address, e.g. tcp://0.0.0.0:4002 (the nat transport; its limits are options.nat.service)',
      addressArg,
    )
    .option('--share <dir...>', 'folders (or files) to share', collectArg)
    .option(
      '--data <dir>',
      'folder for the identity key, hash cache, API cookie (api.cookie) and the persistent index (index/)',
    )
    .option(
      '--index <name>',
      `index for the shares, Chord records and a supernode's catalogue: ${quoteList(indexes.names())} (default: lmdb with --data, else memory)`,
    )
    .option('--api <host:port>', `address of the HTTP API (default: ${DEFAULT_API})`, hostPortArg)
    .option('--config <file>', 'JSON configuration file (overlay, listen, bootstrap, options …)')
    .option(
      '--transport <name>',
      `transport: ${quoteList(transports.names())} (default: from the address schemes)`,
      transportArg,
    )
    .option('--log-level <level>', 'debug, info, warn, error or silent (default: info)', logLevelArg)
    .option(
      '--share-hidden',
      'also share hidden files and folders (names starting with .) below the shared folders',
    )
    .option('--no-share-downloads', 'do not share finished downloads back')
    .option('--no-watch', 'do not follow the shared folders on disk (new, changed and deleted files)')
    .action(async (flags: NodeCommandFlags, command: Command) => {
      // A --no-X flag not given leaves the config file's value (commander would default it to true).
      for (const key of ['shareDownloads', 'watch'] as const)
        if (command.getOptionValueSource(key) === 'default') delete flags[key]
      const file: unknown = flags.config ? await loadConfigFile(flags.config) : undefined
      const options = parseNodeOptions(flags, file, io.cwd)
      const logger = cliLogger(options.logLevel, io.stderr, options.config.log)
      // The node's implementation (API server, shares, web page) loads only when a node runs.
      const { startNode } = await import('../node-runner.js')
      const node = await startNode(options, logger)
      const out = [
        `peer ${node.peer.id}`,
        `overlay ${node.peer.overlay.name} role ${node.peer.overlay.role()}`,
        ...node.peer.addresses().map((a) => `listen ${a}`),
        `api ${node.apiUrl}`,
        `cookie ${node.cookieFile}`,
        `web ${node.webUrl}`,
        'ready',
      ]
      // Listening for SIGINT/SIGTERM before `ready` is printed: a script may stop the node as soon as it reads it.
      const stopped = new Promise<string>((resolve) => {
        const off = io.onStop((s) => {
          off()
          resolve(s)
        })
      })
      io.stdout.write(`${out.join('\n')}\n`)
      const signal = await stopped
      logger.info('stopping', { signal })
      await withDeadline(node.stop(), SHUTDOWN_TIMEOUT, 'the node did not stop in time')
      logger.info('stopped')
    })
}
