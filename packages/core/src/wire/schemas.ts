import { z } from 'zod'
import { isPeerId, type PeerId } from '../peer-id.js'
import type { ContentHash, FileRecord, Hit, PeerRef, Query } from '../records.js'

/** Limits on what a peer may send in the shared data types. */
export const LIMITS = {
  name: 1024,
  keyword: 128,
  keywords: 64,
  addresses: 16,
  address: 256,
  providers: 256,
  records: 10_000,
} as const

export const peerIdSchema: z.ZodType<PeerId> = z.string().refine(isPeerId, 'not a PeerId')
export const contentHashSchema: z.ZodType<ContentHash> = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'not a content hash')
export const addressSchema = z.string().min(1).max(LIMITS.address)

export const peerRefSchema: z.ZodType<PeerRef> = z.object({
  id: peerIdSchema,
  addresses: z.array(addressSchema).max(LIMITS.addresses),
})

const sizeSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)
const chunkSizeSchema = z
  .number()
  .int()
  .min(1024)
  .max(16 * 1024 * 1024)
  .refine((n) => (n & (n - 1)) === 0, 'chunk size must be a power of two')

export const fileRecordSchema: z.ZodType<FileRecord> = z.object({
  hash: contentHashSchema,
  name: z.string().min(1).max(LIMITS.name),
  size: sizeSchema,
  chunkSize: chunkSizeSchema,
  keywords: z.array(z.string().min(1).max(LIMITS.keyword)).max(LIMITS.keywords),
  provider: peerRefSchema,
})

export const querySchema: z.ZodType<Query> = z
  .object({
    keywords: z.array(z.string().min(1).max(LIMITS.keyword)).min(1).max(LIMITS.keywords).optional(),
    hash: contentHashSchema.optional(),
    limit: z.number().int().positive().max(10_000).optional(),
  })
  .refine(
    (q) => (q.keywords === undefined) !== (q.hash === undefined),
    'a query has keywords or a hash, not both',
  )

export const hitSchema: z.ZodType<Hit> = z.object({
  hash: contentHashSchema,
  name: z.string().min(1).max(LIMITS.name),
  size: sizeSchema,
  chunkSize: chunkSizeSchema,
  providers: z.array(peerRefSchema).max(LIMITS.providers),
  hops: z.number().int().nonnegative().optional(),
})

/** An error as it travels: `{ name, message }`. */
export const wireErrorSchema = z.object({ name: z.string().max(64), message: z.string().max(1024) })
