import { InvalidOptionsError } from './errors.js'

/** Levels, least to most severe. `silent` as a threshold turns a component off. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]
export type LogThreshold = LogLevel | 'silent'

/** One log line, as handed to a sink. */
export interface LogEntry {
  /** `Date.now()` when it was logged (wall time even under a virtual clock: operators read it). */
  time: number
  level: LogLevel
  /** `peerkit:<package>[:<part>]`, e.g. `peerkit:chord:stabilize`. */
  component: string
  message: string
  fields?: Record<string, unknown>
}

/** Where entries go: the console by default; a host adapts pino, a file, or a metrics counter. */
export type LogSink = (entry: LogEntry) => void

/**
 * A component's logger (the `LOGGER` token resolves to the peer's root logger;
 * each module takes `logger.forComponent('peerkit:chord:stabilize')`).
 * Fields are structured: pass an `Error` as `err` and it is shown as `name: message`.
 */
export interface Logger {
  readonly component: string
  debug(message: string, fields?: Record<string, unknown>): void
  info(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
  error(message: string, fields?: Record<string, unknown>): void
  /** True when `level` would be written (to skip building costly fields). */
  enabled(level: LogLevel): boolean
  /** A logger for a sub-component, sharing this one's sink and thresholds. */
  forComponent(name: string): Logger
}

export interface LoggerOptions {
  /**
   * The threshold: a level (`warn`), or a spec with per-component overrides,
   * most specific prefix wins: `warn,peerkit:chord=debug,peerkit:transfer=silent`. @default 'warn'
   */
  level?: string
  /** @default consoleSink */
  sink?: LogSink
  /** The root component's name. @default 'peerkit' */
  component?: string
}

interface Thresholds {
  fallback: number
  /** Longest prefix first. */
  byPrefix: Array<[string, number]>
}

const SILENT = LOG_LEVELS.length

function rank(level: string, where: string): number {
  if (level === 'silent') return SILENT
  const i = (LOG_LEVELS as readonly string[]).indexOf(level)
  if (i < 0)
    throw new InvalidOptionsError(
      `${where} must be one of ${[...LOG_LEVELS, 'silent'].join(', ')} (got ${JSON.stringify(level)})`,
    )
  return i
}

/** Parses `warn,peerkit:chord=debug`; errors name the part that is wrong. */
export function parseLogSpec(spec: string): Thresholds {
  const out: Thresholds = { fallback: rank('warn', 'log'), byPrefix: [] }
  for (const part of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=')
    if (eq < 0) out.fallback = rank(part, 'log level')
    else {
      const prefix = part.slice(0, eq).trim()
      if (!prefix) throw new InvalidOptionsError(`log spec "${part}" names no component before "="`)
      out.byPrefix.push([prefix, rank(part.slice(eq + 1).trim(), `log level of ${prefix}`)])
    }
  }
  out.byPrefix.sort((a, b) => b[0].length - a[0].length)
  return out
}

function thresholdFor(t: Thresholds, component: string): number {
  for (const [prefix, level] of t.byPrefix) if (component.startsWith(prefix)) return level
  return t.fallback
}

/** Formats a value for a log line: errors as `name: message`, the rest as JSON. */
export function formatLogValue(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`
  if (typeof value === 'string') return /[\s"=]/.test(value) ? JSON.stringify(value) : value
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value) // a cycle: the plain form still says what it was
  }
}

/** One line: `2026-12-06T04:00:00.000Z warn  peerkit:chord message key=value`. */
export function formatLogEntry(e: LogEntry): string {
  const extra = e.fields
    ? Object.entries(e.fields)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => ` ${k}=${formatLogValue(v)}`)
        .join('')
    : ''
  return `${new Date(e.time).toISOString()} ${e.level.padEnd(5)} ${e.component} ${e.message}${extra}`
}

/** Writes to the console (stderr in Node, the devtools console in a browser). */
export const consoleSink: LogSink = (e) => {
  const line = formatLogEntry(e)
  if (e.level === 'error') console.error(line)
  else if (e.level === 'warn') console.warn(line)
  else console.error(line) // debug and info go to stderr too, so a command's stdout stays its output
}

class LeveledLogger implements Logger {
  private readonly threshold: number

  constructor(
    readonly component: string,
    private readonly thresholds: Thresholds,
    private readonly sink: LogSink,
  ) {
    this.threshold = thresholdFor(thresholds, component)
  }

  enabled(level: LogLevel): boolean {
    return LOG_LEVELS.indexOf(level) >= this.threshold
  }

  forComponent(name: string): Logger {
    const full = name.startsWith('peerkit') || !this.component ? name : `${this.component}:${name}`
    return new LeveledLogger(full, this.thresholds, this.sink)
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

  private log(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    if (!this.enabled(level)) return
    const entry: LogEntry = { time: Date.now(), level, component: this.component, message }
    if (fields) entry.fields = fields
    this.sink(entry)
  }
}

/** The default logger: levelled, per component, to the console unless a sink is given. */
export function createLogger(options: LoggerOptions = {}): Logger {
  return new LeveledLogger(
    options.component ?? 'peerkit',
    parseLogSpec(options.level ?? 'warn'),
    options.sink ?? consoleSink,
  )
}

/** A logger that writes nothing (tests that assert on their own output; the simulator). */
export function silentLogger(): Logger {
  return createLogger({ level: 'silent', sink: () => {} })
}
