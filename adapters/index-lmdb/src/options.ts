import { parseOptions } from '@peerkit/core'
import { z } from 'zod'

/** Options of the `lmdb` index (`config.options.lmdb`). */
export const lmdbIndexOptionsSchema = z
  .object({
    /** The LMDB environment folder; every named index of the peer lives in it. @default DATADIR/index */
    path: z.string().min(1).optional(),
    /**
     * Flush each commit to disk before the writes in it resolve. Off, a crash
     * of the process still loses nothing acknowledged (the operating system
     * holds the pages), but a power loss may lose the last commits. @default true
     */
    sync: z.boolean().default(true),
    /** The largest the environment may grow, in bytes (LMDB reserves the address space, not the disk). @default 64 GiB */
    mapSize: z
      .number()
      .int()
      .min(1 << 20)
      .max(2 ** 46)
      .default(2 ** 36),
    /** Records read per step when `records()` is iterated (the rest stays on disk). @default 1000 */
    pageSize: z.number().int().min(1).max(1_000_000).default(1000),
  })
  .strict()

export type LmdbIndexOptions = z.input<typeof lmdbIndexOptionsSchema>
export type ResolvedLmdbIndexOptions = Readonly<z.output<typeof lmdbIndexOptionsSchema>>

/** Fills the defaults, checks and freezes; throws `InvalidOptionsError` naming the field (`lmdb.sync …`). */
export function parseLmdbIndexOptions(input?: unknown): ResolvedLmdbIndexOptions {
  return parseOptions(lmdbIndexOptionsSchema, input ?? {}, 'lmdb')
}
