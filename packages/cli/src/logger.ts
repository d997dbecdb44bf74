import { createLogger, formatLogEntry, type Logger, type LogSink } from '@peerkit/core'
import { displayText } from './display.js'

export type { Logger } from '@peerkit/core'

/** The levels `--log-level` takes. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/**
 * A sink writing one line per entry to `out` (stderr, so stdout stays a
 * command's output), in core's format. Fields and messages can hold what
 * other peers sent (names, addresses, errors), so each line is escaped for
 * the terminal: it can neither start a new line nor send escape sequences.
 */
export function streamSink(out: { write(s: string): unknown }): LogSink {
  return (entry) => out.write(`${displayText(formatLogEntry(entry))}\n`)
}

/**
 * The logger of a long-running command: core's logger (the one the peer's
 * components use) with a stderr sink. `level` is the threshold of the
 * command's own lines (`peerkit:cli…`); the other components log at `warn`,
 * or at `level` when it is `debug`, `error` or `silent`; `spec` (a config's
 * `log`, such as `peerkit:chord=debug`) overrides per component.
 */
export function cliLogger(level: LogLevel, out: { write(s: string): unknown }, spec?: string): Logger {
  const others = level === 'info' || level === 'warn' ? 'warn' : level
  const parts = [others, `peerkit:cli=${level}`]
  if (spec) parts.push(spec)
  return createLogger({ level: parts.join(','), sink: streamSink(out), component: 'peerkit:cli' })
}
