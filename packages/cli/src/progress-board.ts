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
}

/** One row of a ProgressBoard. */
export interface ProgressRow {
  update(info: ProgressInfo): void
  /** Marks the row complete (a final line when not on a terminal). */
  done(info?: ProgressInfo): void
}

/**
 * Live byte progress bars (cli-progress), one row per download, on a
 * terminal. Elsewhere it prints a plain line at each quarter when `plain` is
 * set, and nothing otherwise, so piped output stays clean.
 */
export class ProgressBoard {
  private readonly multi: MultiBar | undefined

  constructor(
    private readonly stream: OutStream,
    private readonly options: { plain?: boolean } = {},
  ) {
    if (!stream.isTTY) return
    this.multi = new MultiBar(
      {
        format: '{label} |{bar}| {percentage}% | {got} of {all} | {speed}/s | {sources}',
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
    return this.options.plain ? plainRow(this.stream, label) : { update() {}, done() {} }
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
  }
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

function plainRow(stream: OutStream, label: string): ProgressRow {
  let quarter = 0
  let seen: ProgressInfo | undefined
  return {
    update(info) {
      seen = info
      const q = info.size > 0 ? Math.floor((4 * info.bytes) / info.size) : 0
      if (q > quarter && q < 4) {
        quarter = q
        stream.write(`${label}  ${q * 25}%  ${formatBytes(info.bytes)} of ${formatBytes(info.size)}\n`)
      }
    },
    done(info) {
      const last = info ?? seen
      if (last) stream.write(`${label}  100%  ${formatBytes(last.size)} of ${formatBytes(last.size)}\n`)
    },
  }
}
