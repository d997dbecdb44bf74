import { HASH_SIZE, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE } from '@peerkit/content'
import { contentHashSchema, defineProtocol } from '@peerkit/core'
import { z } from 'zod'
import { MAX_BLOCK_SIZE } from './options.js'

/** Leaf hashes per manifest message: 32 768 × 32 bytes = 1 MiB. */
export const MAX_LEAVES_PER_MESSAGE = 32_768
/** Files with more chunks than this are refused (their leaf list alone would be 128 MiB; 16 TiB at 4 MiB chunks). */
export const MAX_CHUNKS = 1 << 22
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

const size = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)
const chunkSize = z.number().int().min(MIN_CHUNK_SIZE).max(MAX_CHUNK_SIZE)
/** Chunks in the file: at most MAX_CHUNKS, and (checked by the downloader) exactly what the size gives. */
const count = z.number().int().min(1).max(MAX_CHUNKS)

/**
 * One page of a file's manifest. Every page repeats the header (size, chunk
 * size, count, Merkle root), which the content hash commits to: a downloader
 * checks the header against the hash on the first page, before it allocates
 * anything for the leaves.
 */
export const manifestResponse = z.object({
  op: z.literal('manifest'),
  size,
  chunkSize,
  count,
  root: digest,
  from: index,
  leaves: bytes(MAX_LEAVES_PER_MESSAGE * HASH_SIZE),
})
export const chunkResponse = z.object({ op: z.literal('chunk'), data: bytes(MAX_BLOCK_SIZE) })
/** An inclusion proof, with what the content hash commits to, so it can be checked against the hash alone. */
export const proofResponse = z.object({
  op: z.literal('proof'),
  size,
  chunkSize,
  count,
  root: digest,
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
 * `peerkit/transfer/2`: every message names a file by its content hash only
 * (never a path). Requests `manifest`, `chunk` and `proof`; the response
 * carries the same `op`. Version 2 names files by version-2 ContentHashes
 * (committing to the size and chunking, see @peerkit/content's `contentHash`)
 * and carries the Merkle root in manifest and proof answers; a version-1 peer
 * does not speak it.
 */
export const TRANSFER_PROTOCOL = defineProtocol<TransferRequest, TransferResponse>(
  'peerkit/transfer/2',
  z.discriminatedUnion('op', [manifestRequest, chunkRequest, proofRequest]),
  z.discriminatedUnion('op', [manifestResponse, chunkResponse, proofResponse]),
)
