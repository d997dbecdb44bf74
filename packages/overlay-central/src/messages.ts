import {
  addressSchema,
  contentHashSchema,
  defineProtocol,
  fileRecordSchema,
  hitSchema,
  LIMITS,
  type PeerId,
  peerIdSchema,
  querySchema,
} from '@peerkit/core'
import { encode } from '@peerkit/core/wire'
import { z } from 'zod'

/** Records in one `register` message. */
export const MAX_REGISTER_BATCH = 1000
/** Hashes in one `unregister` message. */
export const MAX_UNREGISTER_BATCH = 10_000
/** Hits in one page of search results. */
export const MAX_PAGE = 1000
/** Bytes of a login nonce. */
export const NONCE_BYTES = 32

const bytes = (max: number) =>
  z
    .custom<Uint8Array>((v) => v instanceof Uint8Array, 'bytes')
    .refine((b) => b.length <= max, `at most ${max} bytes`)
const cursor = z
  .number()
  .int()
  .positive()
  .max(2 ** 32)
const ms = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)

/** Everything a client asks the directory server, told apart by `type`. */
export const centralRequestSchema = z.discriminatedUnion('type', [
  /** Asks for a login nonce. */
  z.object({ type: z.literal('hello') }),
  /** Proves the key behind the PeerId over the server's nonce, the addresses and a timestamp. */
  z.object({
    type: z.literal('login'),
    addresses: z.array(addressSchema).max(LIMITS.addresses),
    timestamp: ms,
    signature: bytes(128),
    /** Forget the records the server still holds for this peer (the client will register them all again). */
    reset: z.boolean(),
  }),
  z.object({ type: z.literal('logout') }),
  z.object({
    type: z.literal('register'),
    records: z.array(fileRecordSchema).min(1).max(MAX_REGISTER_BATCH),
  }),
  z.object({
    type: z.literal('unregister'),
    hashes: z.array(contentHashSchema).min(1).max(MAX_UNREGISTER_BATCH),
  }),
  z.object({ type: z.literal('search'), query: querySchema }),
  /** The next page of a search's results. */
  z.object({ type: z.literal('more'), cursor }),
  z.object({ type: z.literal('ping') }),
])

/** The server's answers, one `type` per request type. */
export const centralResponseSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('hello'), server: peerIdSchema, nonce: bytes(NONCE_BYTES) }),
  z.object({
    type: z.literal('login'),
    /** Records the server still holds for this peer (0 on a new or reset session). */
    known: z.number().int().nonnegative(),
    heartbeatInterval: z.number().int().positive(),
    dropAfter: z.number().int().positive(),
    maxRecords: z.number().int().nonnegative(),
  }),
  z.object({ type: z.literal('logout') }),
  z.object({ type: z.literal('register'), total: z.number().int().nonnegative() }),
  z.object({
    type: z.literal('unregister'),
    removed: z.number().int().nonnegative(),
    total: z.number().int().nonnegative(),
  }),
  /** Answers `search` and `more`: a page of hits, and a cursor while more remain. */
  z.object({ type: z.literal('hits'), hits: z.array(hitSchema).max(MAX_PAGE), cursor: cursor.optional() }),
  z.object({ type: z.literal('ping'), known: z.number().int().nonnegative() }),
])

export type CentralRequest = z.infer<typeof centralRequestSchema>
export type CentralResponse = z.infer<typeof centralResponseSchema>
export type RequestType = CentralRequest['type']
export type ResponseOf<T extends RequestType> = Extract<
  CentralResponse,
  { type: T extends 'more' | 'search' ? 'hits' : T }
>

/** The directory protocol: clients request, the server answers. */
export const CENTRAL = defineProtocol<CentralRequest, CentralResponse>(
  'peerkit/central/1',
  centralRequestSchema,
  centralResponseSchema,
)

/**
 * The bytes a client signs to log in: bound to the protocol, both PeerIds, the
 * server's one-time nonce, the addresses it announces and its clock.
 */
export function loginPayload(
  server: PeerId,
  client: PeerId,
  nonce: Uint8Array,
  addresses: readonly string[],
  timestamp: number,
): Uint8Array {
  return encode(['peerkit/central/1 login', server, client, nonce, [...addresses], timestamp])
}
