import { displayText } from './display.js'

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/** Levelled, line-oriented logs for long-running commands; written to stderr so stdout stays parseable. */
export class Logger {
  private readonly threshold: number

  constructor(
    readonly level: LogLevel,
    private readonly out: { write(s: string): unknown },
    private readonly now: () => Date = () => new Date(),
  ) {
    this.threshold = LOG_LEVELS.indexOf(level)
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.log('debug', message, fields)
  }

  info(message: string, fields?: Record<string, unknown>): void {
    this.log('info', message, fields)
  }

  warn(message: string, fields?: Record<string, unknown>): void {
    this.log('warn', message, fields)
  }

  error(message: string, fields?: Record<string, unknown>): void {
    this.log('error', message, fields)
  }

  enabled(level: LogLevel): boolean {
    return LOG_LEVELS.indexOf(level) >= this.threshold && level !== 'silent'
  }

  private log(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    if (!this.enabled(level)) return
    const extra = fields
      ? Object.entries(fields)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => ` ${k}=${displayText(typeof v === 'string' ? v : JSON.stringify(v))}`)
          .join('')
      : ''
    // Fields and messages can hold what other peers sent (names, addresses, errors): escaped for the terminal.
    this.out.write(`${this.now().toISOString()} ${level.padEnd(5)} ${displayText(message)}${extra}\n`)
  }
}
