/**
 * @packageDocumentation
 * The `peerkit` command line: `demo`, `node` (a long-lived peer with a local
 * HTTP API), `directory`, and the API clients `search`, `get` and `status`.
 * The same pieces are exported for programs that embed them.
 *
 * ```ts
 * import 'reflect-metadata'
 * import { ApiClient, runCli } from '@peerkit/cli'
 *
 * // As the shell would: returns the exit status.
 * const code = await runCli(['status', '--api', '127.0.0.1:4680', '--json'])
 *
 * // Or talk to a running node directly.
 * const api = new ApiClient('127.0.0.1:4680')
 * for await (const hit of api.search('harry potter', { timeout: 3000 })) console.log(hit.name, hit.providers.length)
 * ```
 */
// A program that embeds the command line or startNode gets this package's overlays, transports and indexes.
import './register.js'

export { ApiClient, type ApiClientOptions, ApiError } from './api-client.js'
export { ApiServer, type ApiServerOptions, MAX_BODY } from './api-server.js'
export type {
  ApiDownloadStatus,
  ApiErrorBody,
  ApiHit,
  ApiStatus,
  DownloadEvent,
  GetResult,
  StartDownloadRequest,
} from './api-types.js'
export { COMMANDS, type CommandModule } from './commands/index.js'
export { COOKIE_FILE, cookiePath, newCookie, readCookie, removeCookie, writeCookie } from './cookie.js'
export { type DemoOptions, type DemoSummary, runDemo } from './demo/run-demo.js'
export { displayText } from './display.js'
export { DownloadTracker } from './download-tracker.js'
export { CommandError, exitCodeOf, OutputError, UsageError } from './errors.js'
export { formatBytes, formatMs, plural, shortId } from './format.js'
export { HitSet } from './hits.js'
export { type Io, type OutStream, processIo } from './io.js'
export { cliLogger, LOG_LEVELS, type Logger, type LogLevel, streamSink } from './logger.js'
export { type RunningNode, SHARES_FILE, startNode } from './node-runner.js'
export * from './options.js'
export { checkTarget, MAX_NAME_BYTES, placeOutput, safeFileName, stagingPath } from './output-path.js'
export { createProgram, runCli } from './program.js'
export {
  formatEta,
  ProgressBoard,
  type ProgressBoardOptions,
  type ProgressInfo,
  type ProgressRow,
} from './progress-board.js'
export {
  DEFAULT_SETTLE_TIME,
  isPartialDownload,
  MAX_SKIPPED_LISTED,
  type SharedFile,
  type SharedFolder,
  ShareRegistry,
  type ShareRegistryOptions,
  type SkippedEntry,
} from './share-registry.js'
