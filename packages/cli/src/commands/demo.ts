import { overlays } from '@peerkit/core'
import { type Command, Option } from 'commander'
import { CommandError } from '../errors.js'
import type { Io } from '../io.js'
import { integerArg, overlayArg, quoteList } from '../options.js'
import { withDeadline } from './deadline.js'

/** The overlay the demo shows when `--overlay` is absent. */
export const DEFAULT_DEMO_OVERLAY = 'central'
/** Milliseconds the demo gets to stop its peers and remove its files after a timeout. */
const CLEANUP_TIMEOUT = 15_000

interface DemoFlags {
  overlay: string
  peers: number
  transport: 'memory' | 'tcp'
  timeout: number
}

/** `peerkit demo`: a small network on this machine, and the Alice story, narrated. */
export function demoCommand(program: Command, io: Io): Command {
  return program
    .command('demo')
    .summary('start a small network here and watch a search and a download, step by step')
    .description(
      'Starts a small network on this machine (loopback TCP by default, with the directory server for ' +
        'central), gives the peers sample files, and tells the story as it happens: Alice joins with a fresh ' +
        'address, registers her files, searches "harry potter", downloads from every peer that has it and ' +
        'verifies the content hash, while Bob downloads one of her files. No set-up needed.',
    )
    .option(
      '--overlay <name>',
      `overlay strategy: ${quoteList(overlays.names())}`,
      overlayArg,
      DEFAULT_DEMO_OVERLAY,
    )
    .option('--peers <n>', 'peers in the network, Alice included (2 to 12)', integerArg(2, 12), 4)
    .addOption(
      new Option('--transport <name>', 'tcp on loopback, or memory: every peer in this process')
        .choices(['memory', 'tcp'])
        .default('tcp'),
    )
    .option('--timeout <ms>', 'give up after this many milliseconds', integerArg(1000, 600_000), 90_000)
    .action(async (flags: DemoFlags) => {
      const abort = new AbortController()
      let timedOut = false
      const off = io.onStop(() => abort.abort())
      const timer = setTimeout(() => {
        timedOut = true
        abort.abort()
      }, flags.timeout)
      try {
        // The demo's network and story load only when the demo runs.
        const { runDemo } = await import('../demo/run-demo.js')
        const demo = runDemo(
          { overlay: flags.overlay, peers: flags.peers, transport: flags.transport, signal: abort.signal },
          io,
        )
        // Aborting stops the peers, so the demo settles soon after; this bounds it regardless.
        await withDeadline(demo, flags.timeout + CLEANUP_TIMEOUT, 'the demo did not stop')
      } catch (err) {
        if (timedOut) {
          throw new CommandError(
            `the demo did not finish within ${flags.timeout} ms — try --transport memory, or a longer --timeout`,
            { cause: err },
          )
        }
        if (abort.signal.aborted) throw new CommandError('the demo was interrupted', { cause: err })
        throw err
      } finally {
        clearTimeout(timer)
        off()
      }
    })
}
