import { MultiBar, Presets, type SingleBar } from 'cli-progress'
import { displayText } from './display.js'
import { formatBytes } from './format.js'
import type { OutStream } from './io.js'

export interface ProgressInfo {
  bytes: number
  size: number
  /** Bytes per second. */
  rate: number
  /** Providers sending bytes. */
  sources: number
  /** Seconds left at the current rate, when known. */
  eta?: number
}

export interface ProgressBoardOptions {
  /** Off a terminal, print plain progress lines (otherwise nothing until the end). @default false */
  plain?: boolean
  /** Plain lines: one each time another `step` percent is done. @default 25 */
  step?: number
  /** Plain lines: also one after this many milliseconds without a line (0: none). @default 0 */
  every?: number
  /** The clock of `every` (tests give their own). @default Date.now */
  now?: () => number
}

/** One row of a ProgressBoard. */
export interface ProgressRow {
  update(info: ProgressInfo): void
  /** Marks the row complete (a final line when not on a terminal). */
  done(info?: ProgressInfo): void
}

/**
 * Live byte progress bars (cli-progress), one row per download, on a
 * terminal: label, bar, percentage, bytes, rate, sources and ETA. Elsewhere
 * it prints a plain line each `step` percent (and every `every` ms) when
 * `plain` is set, and nothing otherwise, so piped output stays clean.
 */
export class ProgressBoard {
  private readonly multi: MultiBar | undefined

  constructor(
    private readonly stream: OutStream,
    private readonly options: ProgressBoardOptions = {},
  ) {
    if (!stream.isTTY) return
    this.multi = new MultiBar(
      {
        format: '{label} |{bar}| {percentage}% | {got} of {all} | {speed}/s | {sources} | eta {eta}',
        stream: stream as NodeJS.WritableStream,
        hideCursor: true,
        barsize: 24,
        fps: 10,
        autopadding: true,
      },
      Presets.shades_classic,
    )
  }

  /** True when bars are drawn live. */
  get live(): boolean {
    return this.multi !== undefined
  }

  row(text: string): ProgressRow {
    const label = displayText(text)
    if (this.multi) return liveRow(this.multi, label)
    return this.options.plain ? plainRow(this.stream, label, this.options) : { update() {}, done() {} }
  }

  /** Writes a line above the bars (or plainly). */
  log(text: string): void {
    const line = displayText(text)
    if (this.multi) this.multi.log(`${line}\n`)
    else this.stream.write(`${line}\n`)
  }

  stop(): void {
    this.multi?.stop()
  }
}

function payload(label: string, info: ProgressInfo) {
  return {
    label,
    got: formatBytes(info.bytes),
    all: formatBytes(info.size),
    speed: formatBytes(Math.round(info.rate)),
    sources: `${info.sources} source${info.sources === 1 ? '' : 's'}`,
    eta: formatEta(info.eta),
  }
}

/** `3 s`, `4 min 05 s`, `2 h 10 min`; `?` when unknown. */
export function formatEta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '?'
  const s = Math.ceil(seconds)
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`
}

function liveRow(multi: MultiBar, label: string): ProgressRow {
  let bar: SingleBar | undefined
  const update = (info: ProgressInfo) => {
    if (!bar) bar = multi.create(Math.max(1, info.size), info.bytes, payload(label, info))
    else {
      bar.setTotal(Math.max(1, info.size))
      bar.update(info.bytes, payload(label, info))
    }
  }
  return {
    update,
    done(info) {
      if (info) update(info)
      bar?.stop()
    },
  }
}

function plainRow(stream: OutStream, label: string, options: ProgressBoardOptions): ProgressRow {
  const step = Math.min(100, Math.max(1, options.step ?? 25))
  const every = options.every ?? 0
  const now = options.now ?? Date.now
  let reached = 0
  let lastAt = now()
  let seen: ProgressInfo | undefined
  return {
    update(info) {
      seen = info
      const pct = info.size > 0 ? Math.floor((100 * info.bytes) / info.size) : 0
      const steps = Math.floor(pct / step)
      const due = every > 0 && now() - lastAt >= every
      if ((steps > reached || due) && pct < 100) {
        reached = Math.max(reached, steps)
        lastAt = now()
        // A quarter line (the default step) reads as before: `NAME  25%  …`; the rest adds rate, sources and ETA.
        const pctText = steps > 0 && !due ? steps * step : pct
        const extra =
          info.rate > 0 || every > 0
            ? `  ${formatBytes(Math.round(info.rate))}/s  ${info.sources} source${info.sources === 1 ? '' : 's'}  eta ${formatEta(info.eta)}`
            : ''
        stream.write(
          `${label}  ${pctText}%  ${formatBytes(info.bytes)} of ${formatBytes(info.size)}${extra}\n`,
        )
      }
    },
    done(info) {
      const last = info ?? seen
      if (last) stream.write(`${label}  100%  ${formatBytes(last.size)} of ${formatBytes(last.size)}\n`)
    },
  }
}
