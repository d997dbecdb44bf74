import {
  contentHashSchema,
  defineProtocol,
  type PeerRef,
  peerRefSchema,
  querySchema,
  signedFileRecordSchema,
} from '@peerkit/core'
import { z } from 'zod'

/** Most records in one `store`, `replicate` or `records` message (a record is a few hundred bytes). */
export const MAX_RECORDS_PER_MESSAGE = 1000
/** Most nodes in one answer (successor lists, closer nodes). */
export const MAX_NODES_PER_MESSAGE = 64

/** Most dead nodes a find_successor request names. */
export const MAX_AVOID = 32

/**
 * Most nodes a find_successor request may be passed on through
 * (`find_successor.relay`): a relayed answer counts at most this many hops.
 */
export const MAX_RELAY = 16

/** A ring identifier on the wire: lowercase hex, at most 256 bits. */
const keySchema = z.string().regex(/^[0-9a-f]{1,64}$/, 'not a ring id')
const nodesSchema = z.array(peerRefSchema).max(MAX_NODES_PER_MESSAGE)
const ttlSchema = z.number().int().positive().max(Number.MAX_SAFE_INTEGER)

/** Records as they travel: each signed by its provider (`signRecord`), checked on arrival with `checkRecord`. */
const recordsSchema = z.array(signedFileRecordSchema).max(MAX_RECORDS_PER_MESSAGE)

/** Every request of `peerkit/chord/3`, told apart by `type`. */
export const chordRequestSchema = z.discriminatedUnion('type', [
  /**
   * One iterative step of find_successor(key); `avoid`: nodes the asker found
   * dead on the way; `max`: nodes the answer names at most (a node that
   * predates it drops the field and names them all); `relay`: a node whose
   * answer is not `done` passes the request on to the closest node it would
   * name, with `relay - 1` (none at 1), over its own connection, and answers
   * with what that node answered (`step.by`, `step.hops`). A node that
   * predates it drops the field and answers the step itself.
   */
  z.object({
    type: z.literal('find_successor'),
    key: keySchema,
    avoid: z.array(keySchema).max(MAX_AVOID).optional(),
    max: z.number().int().min(1).max(MAX_NODES_PER_MESSAGE).optional(),
    relay: z.number().int().min(1).max(MAX_RELAY).optional(),
  }),
  /** stabilize: the predecessor and successor list of the node asked. */
  z.object({ type: z.literal('get_predecessor') }),
  /** "I think I might be your predecessor"; `node` must be the sender. */
  z.object({ type: z.literal('notify'), node: peerRefSchema }),
  /** check_predecessor: are you alive? */
  z.object({ type: z.literal('ping') }),
  /**
   * "I just joined after you: stabilize now." Sent by a joining node to its
   * successor's old predecessor, which then finds the joiner through its own
   * successor (nothing in the request is trusted) instead of a round later.
   */
  z.object({ type: z.literal('stabilize') }),
  /** A provider stores its own records (each record's provider must be the sender; each lives until its signed `expires`). */
  z.object({
    type: z.literal('store'),
    records: recordsSchema,
    /** Sent to the node the provider found as the key's successor (the others are its replicas). */
    primary: z.boolean().optional(),
    /**
     * Sent to the node that answered the lookups of the records' keys (their
     * predecessor): it keeps none of them but hands each, with `hand_on`, to
     * the key's holders among its successors.
     */
    forward: z.boolean().optional(),
  }),
  /** Node to node: replicas and hand-over, each record with the lifetime it has left. */
  z.object({
    type: z.literal('replicate'),
    records: recordsSchema,
    ttls: z.array(ttlSchema).max(MAX_RECORDS_PER_MESSAGE),
  }),
  /**
   * Node to node, one-way (no answer): the records of a forwarded store
   * (`store.forward`) for one of their holders, each with the lifetime it has
   * left; checked as `replicate` is.
   */
  z.object({
    type: z.literal('hand_on'),
    records: recordsSchema,
    ttls: z.array(ttlSchema).max(MAX_RECORDS_PER_MESSAGE),
    /** Sent to the key's successor (as a `primary` store): the records it owns no key of go on to its predecessor. */
    primary: z.boolean().optional(),
  }),
  /** A provider withdraws its records of these hashes. */
  z.object({ type: z.literal('remove'), hashes: z.array(contentHashSchema).max(MAX_RECORDS_PER_MESSAGE) }),
  /** Every provider's record of a content hash. */
  z.object({ type: z.literal('get'), hash: contentHashSchema }),
  /** The records held here that match a keyword query (providers take turns; answered with `records`). */
  z.object({ type: z.literal('search'), query: querySchema }),
  /** The sender leaves: here are its predecessor and successors, to patch the ring at once. */
  z.object({ type: z.literal('leave'), predecessor: peerRefSchema.nullable(), successors: nodesSchema }),
])

/** Every response of `peerkit/chord/3`, told apart by `type`. */
export const chordResponseSchema = z.discriminatedUnion('type', [
  /**
   * `done`: `nodes` is the key's successor list; otherwise nodes closer to the
   * key, closest first. A relayed answer (`find_successor.relay`) names the
   * node whose answer it is (`by`) and the nodes it was passed on through
   * that answered (`hops`, `by` among them).
   */
  z.object({
    type: z.literal('step'),
    done: z.boolean(),
    nodes: nodesSchema.min(1),
    by: peerRefSchema.optional(),
    hops: z.number().int().min(1).max(MAX_RELAY).optional(),
  }),
  z.object({ type: z.literal('neighbors'), predecessor: peerRefSchema.nullable(), successors: nodesSchema }),
  z.object({ type: z.literal('ok') }),
  z.object({ type: z.literal('records'), records: recordsSchema }),
])

export type ChordRequest = z.infer<typeof chordRequestSchema>
export type ChordResponse = z.infer<typeof chordResponseSchema>
export type RequestKind = ChordRequest['type']

/** Which response type answers each request type. */
export const RESPONSE_OF = {
  find_successor: 'step',
  get_predecessor: 'neighbors',
  notify: 'ok',
  ping: 'ok',
  stabilize: 'ok',
  store: 'ok',
  replicate: 'ok',
  hand_on: 'ok',
  remove: 'ok',
  get: 'records',
  search: 'records',
  leave: 'ok',
} as const satisfies Record<RequestKind, ChordResponse['type']>

export type RequestOf<K extends RequestKind> = Extract<ChordRequest, { type: K }>
export type ResponseOf<K extends RequestKind> = Extract<ChordResponse, { type: (typeof RESPONSE_OF)[K] }>

/**
 * `peerkit/chord/3`: request/response through core's Network. Version 2 (from 1):
 * records travel signed by their provider with their expiry, `store` lost its
 * `ttl`, and `search` is answered with signed `records` instead of hits.
 * Version 3 (from 2): a provider's `store` goes to the node that answered its
 * keys' lookups, with `forward`, which hands the records to their holders
 * (`hand_on`, one-way; `primary` to a key's successor); a version 2 node would
 * keep none of them, so the version changed.
 */
export const CHORD_PROTOCOL = defineProtocol<ChordRequest, ChordResponse>(
  'peerkit/chord/3',
  chordRequestSchema as z.ZodType<ChordRequest>,
  chordResponseSchema as z.ZodType<ChordResponse>,
)

export const OK: ChordResponse = Object.freeze({ type: 'ok' })

/** Most addresses of one PeerRef in a chord message. */
const MAX_WIRE_ADDRESSES = 16

/**
 * A PeerRef with at most `MAX_WIRE_ADDRESSES` addresses, as it travels: the
 * ref itself when it has no more (a node's refs are `{ id, addresses }`, as
 * decoded or from `Network.self()`; an answer names eight of them, and the
 * copies were garbage once encoded), else a copy cut to that many.
 */
export function wireRef(ref: PeerRef): PeerRef {
  return ref.addresses.length <= MAX_WIRE_ADDRESSES
    ? ref
    : { id: ref.id, addresses: ref.addresses.slice(0, MAX_WIRE_ADDRESSES) }
}
