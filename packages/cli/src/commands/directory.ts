import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { InvalidOptionsError, indexes, transports } from '@peerkit/core'
import type { DirectoryServerConfig } from '@peerkit/overlay-central'
import type { Command } from 'commander'
import { UsageError } from '../errors.js'
import type { Io } from '../io.js'
import type { LogLevel } from '../logger.js'
import { cliLogger } from '../logger.js'
import { addressArg, logLevelArg, quoteList, transportArg, transportsFor } from '../options.js'
import { withDeadline } from './deadline.js'
import { SHUTDOWN_TIMEOUT } from './node.js'

interface DirectoryFlags {
  listen?: string[]
  data?: string
  transport?: string
  index?: string
  database?: string
  config?: string
  logLevel: LogLevel
}

/** `peerkit directory`: the directory server of the `central` strategy. */
export function directoryCommand(program: Command, io: Io): Command {
  return program
    .command('directory')
    .summary("run the central strategy's directory server")
    .description(
      'Runs the directory server of the `central` strategy (Napster) until SIGINT or SIGTERM. Peers name it ' +
        'with --bootstrap. Prints `directory ID`, one `listen ADDRESS` per address and `ready` on stdout.',
    )
    .option('--listen <addr...>', 'addresses to listen on, e.g. tcp://0.0.0.0:4001 (required)', addressArg)
    .option('--data <dir>', "folder for the server's identity key, so its id survives restarts")
    .option(
      '--transport <name>',
      `transport: ${quoteList(transports.names())} (default: from the address schemes)`,
      transportArg,
    )
    .option(
      '--index <name>',
      `the registry's index: ${quoteList(indexes.names())} (default: memory, or postgres with --database)`,
    )
    .option(
      '--database <url>',
      'PostgreSQL URL for --index postgres: directories on one database share one registry (default: PEERKIT_DATABASE_URL)',
    )
    .option('--config <file>', 'JSON file: { "options": { heartbeatInterval, dropAfter, … }, … } (flags win)')
    .option('--log-level <level>', 'debug, info, warn, error or silent', logLevelArg, 'info')
    .action(async (flags: DirectoryFlags) => {
      const file = flags.config ? await readDirectoryConfig(flags.config) : {}
      const listen = flags.listen ?? file.listen
      if (!listen?.length) throw new UsageError('--listen is required: e.g. --listen tcp://0.0.0.0:4001')
      const config: DirectoryServerConfig = { ...file, listen }
      config.transport = flags.transport ?? file.transport ?? transportsFor(listen)
      const index = flags.index ?? file.index ?? (flags.database ? 'postgres' : undefined)
      if (index !== undefined) {
        if (!indexes.names().includes(index)) {
          throw new UsageError(`--index must be one of ${quoteList(indexes.names())} (got '${index}')`)
        }
        config.index = index
      }
      if (flags.database !== undefined) {
        if (index !== 'postgres')
          throw new UsageError(`--database needs --index postgres (got --index ${index})`)
        const postgres = { ...(file.components?.postgres as object | undefined), url: flags.database }
        config.components = { ...file.components, postgres }
      }
      const dataDir = flags.data ?? file.dataDir
      if (dataDir) config.dataDir = resolve(io.cwd, dataDir)
      const logger = cliLogger(flags.logLevel, io.stderr)
      const { createDirectoryServer } = await import('@peerkit/overlay-central')
      const directory = await createDirectoryServer(config)
      directory.server.on('peer:login', (p) =>
        logger.info('peer logged in', { peer: p.id, addresses: p.addresses }),
      )
      directory.server.on('peer:drop', (p, reason) => logger.info('peer dropped', { peer: p.id, reason }))
      try {
        await directory.start()
      } catch (err) {
        await directory.stop().catch(() => {}) // the start failed: its error (thrown next) is the one to report
        throw err
      }
      logger.info('directory started', { id: directory.id })
      const out = [`directory ${directory.id}`, ...directory.addresses().map((a) => `listen ${a}`), 'ready']
      // Listening for SIGINT/SIGTERM before `ready` is printed: a script may stop it as soon as it reads it.
      const stopped = new Promise<string>((done) => {
        const off = io.onStop((s) => {
          off()
          done(s)
        })
      })
      io.stdout.write(`${out.join('\n')}\n`)
      const signal = await stopped
      logger.info('stopping', { signal })
      await withDeadline(directory.stop(), SHUTDOWN_TIMEOUT, 'the directory did not stop in time')
      logger.info('stopped')
    })
}

async function readDirectoryConfig(path: string): Promise<Partial<DirectoryServerConfig>> {
  let value: unknown
  try {
    value = JSON.parse(await readFile(path, 'utf8'))
  } catch (err) {
    throw new InvalidOptionsError(`cannot read the --config file ${path}: ${(err as Error).message}`, {
      cause: err,
    })
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionsError(`the --config file ${path} must hold a JSON object`)
  }
  return value as Partial<DirectoryServerConfig>
}
