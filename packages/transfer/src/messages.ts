import { HASH_SIZE } from '@peerkit/content'
import { contentHashSchema, defineProtocol } from '@peerkit/core'
import { z } from 'zod'
import { MAX_BLOCK_SIZE } from './options.js'

/** Leaf hashes per manifest message: 32 768 × 32 bytes = 1 MiB. */
export const MAX_LEAVES_PER_MESSAGE = 32_768
/** A proof has one hash per tree level; 64 levels cover any file. */
const MAX_PROOF_LENGTH = 64

const index = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)
const bytes = (max: number) =>
  z.instanceof(Uint8Array).refine((b) => b.length <= max, `at most ${max} bytes`) as z.ZodType<Uint8Array>
const digest = z
  .instanceof(Uint8Array)
  .refine((b) => b.length === HASH_SIZE, 'a 32-byte hash') as z.ZodType<Uint8Array>

/** Asks for leaf hashes `[from, from + count)` of a file, with its size and chunk size. */
export const manifestRequest = z.object({
  op: z.literal('manifest'),
  hash: contentHashSchema,
  from: index,
  count: z.number().int().min(1).max(MAX_LEAVES_PER_MESSAGE),
})
/** Asks for `length` bytes at `offset` inside chunk `index`. */
export const chunkRequest = z.object({
  op: z.literal('chunk'),
  hash: contentHashSchema,
  index,
  offset: index,
  length: z.number().int().nonnegative().max(MAX_BLOCK_SIZE),
})
/** Asks for the inclusion proof of chunk `index`. */
export const proofRequest = z.object({ op: z.literal('proof'), hash: contentHashSchema, index })

export const manifestResponse = z.object({
  op: z.literal('manifest'),
  size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  chunkSize: z
    .number()
    .int()
    .min(1024)
    .max(16 * 1024 * 1024),
  /** Chunks in the file. */
  count: z.number().int().min(1),
  from: index,
  leaves: bytes(MAX_LEAVES_PER_MESSAGE * HASH_SIZE),
})
export const chunkResponse = z.object({ op: z.literal('chunk'), data: bytes(MAX_BLOCK_SIZE) })
export const proofResponse = z.object({
  op: z.literal('proof'),
  count: z.number().int().min(1),
  leaf: digest,
  proof: z.array(digest).max(MAX_PROOF_LENGTH),
})

export type TransferRequest =
  | z.infer<typeof manifestRequest>
  | z.infer<typeof chunkRequest>
  | z.infer<typeof proofRequest>
export type ManifestResponse = z.infer<typeof manifestResponse>
export type ChunkResponse = z.infer<typeof chunkResponse>
export type ProofResponse = z.infer<typeof proofResponse>
export type TransferResponse = ManifestResponse | ChunkResponse | ProofResponse

/**
 * `peerkit/transfer/1`: every message names a file by its content hash only
 * (never a path). Requests `manifest`, `chunk` and `proof`; the response
 * carries the same `op`.
 */
export const TRANSFER_PROTOCOL = defineProtocol<TransferRequest, TransferResponse>(
  'peerkit/transfer/1',
  z.discriminatedUnion('op', [manifestRequest, chunkRequest, proofRequest]),
  z.discriminatedUnion('op', [manifestResponse, chunkResponse, proofResponse]),
)
