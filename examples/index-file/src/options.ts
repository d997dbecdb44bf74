// src/options.ts
import { parseOptions } from '@peerkit/core'
import { z } from 'zod'

/** Options of the `file` index (`config.options.file`). */
export const fileIndexOptionsSchema = z
  .object({
    /** The folder of the logs, one `NAME.jsonl` per named index (the peer's shares are `shares.jsonl`). */
    dir: z.string().min(1),
    /** Flush every change to disk (fsync) before `put`/`remove` return. @default true */
    fsync: z.boolean().default(true),
    /** Rewrite the log once it holds this many times more lines than live records. @default 4 */
    compactRatio: z.number().min(1.5).max(1000).default(4),
    /** ... and at least this many lines (small logs are never rewritten). @default 1000 */
    compactMinLines: z.number().int().min(1).max(100_000_000).default(1000),
  })
  .strict()

export type FileIndexOptions = z.input<typeof fileIndexOptionsSchema>
export type ResolvedFileIndexOptions = Readonly<z.output<typeof fileIndexOptionsSchema>>

/** Fills the defaults, checks, and freezes; throws `InvalidOptionsError` in core's one format, naming the field. */
export function parseFileIndexOptions(input?: unknown): ResolvedFileIndexOptions {
  return parseOptions(fileIndexOptionsSchema, input ?? {}, 'file')
}
