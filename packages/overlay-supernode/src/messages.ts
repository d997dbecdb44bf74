import {
  addressSchema,
  defineProtocol,
  type Hit,
  hitSchema,
  LIMITS,
  type PeerRef,
  peerRefSchema,
  type Query,
  querySchema,
} from '@peerkit/core'
import { z } from 'zod'
import { PROTOCOL_MAX_TTL } from './options.js'

/** Hits one `hit` message carries at most. */
export const MAX_HITS_PER_MESSAGE = 64
/** PeerRefs (supernodes, candidates) one answer carries at most. */
export const MAX_LIST = 32

/** A peer that may be elected supernode, with its capacity. */
export interface Candidate {
  peer: PeerRef
  capacity: number
}

/** Who the sender is: where it listens, its capacity, whether it may become a supernode, and supernodes it knows. */
interface About {
  addresses: string[]
  capacity: number
  capable: boolean
  /** Supernodes the sender knows (so islands of supernodes that met no one else learn of each other). */
  supernodes: PeerRef[]
}

/** Asks for the receiver's role and the supernodes it knows (bootstrap, and a leaf's refresh). */
export interface HelloMessage extends About {
  kind: 'hello'
  /**
   * Supernodes wanted in the answer, at most (absent: MAX_LIST); a leaf's refresh between gossips
   * (gossipEvery) asks 0. A leaf whose last list from this supernode named no other supernode gets
   * the list anyway once this supernode knows another (SupernodeHub.wanted).
   */
  want?: number
  /**
   * The version (`InfoMessage.listed`) of this supernode's election list the leaf holds: an answer
   * whose list is still that version leaves `candidates` empty (absent: the list is always sent).
   */
  listed?: number
}
/** A leaf asks a supernode to take it on. */
export interface AttachMessage extends About {
  kind: 'attach'
  /**
   * The leaf would rather be sent `alive` than send heartbeats (absent: it sends them, as before this
   * message kind): the supernode says in its answer (`InfoMessage.alive`) whether it will.
   */
  alive?: boolean
}
/** A supernode asks another to link with it. `leaves` is its leaf count. */
export interface LinkMessage {
  kind: 'link'
  addresses: string[]
  leaves: number
}
/** Between linked supernodes: keeps the link alive and exchanges leaf counts and supernodes. */
export interface PingMessage {
  kind: 'ping'
  leaves: number
  /**
   * Supernodes wanted in the answer, at most (absent: MAX_LIST); a supernode's pings between two
   * swaps (one ping in `gossipEvery`) ask 0: nearly every supernode a linked one names is known already.
   */
  want?: number
}
/** A supernode asks one of its leaves to become a supernode; `supernodes` are the ones to link to. */
export interface PromoteMessage {
  kind: 'promote'
  supernodes: PeerRef[]
}
/** A search: from a leaf to its supernode (which runs it), or flooded between supernodes with `ttl` hops left. */
export interface QueryMessage {
  kind: 'query'
  id: string
  ttl: number
  hops: number
  query: Query
}
/** Answers to query `id`, routed back along the reverse path. */
export interface HitMessage {
  kind: 'hit'
  id: string
  hops: number
  hits: Hit[]
}
/** A supernode tells a leaf that its search `id` is over. */
export interface DoneMessage {
  kind: 'done'
  id: string
}
/** A supernode tells a leaf to attach elsewhere (it split, demoted itself or is leaving). */
export interface MoveMessage {
  kind: 'move'
  to: PeerRef[]
}
/**
 * A supernode tells a leaf that asked for it (`AttachMessage.alive`) that it is alive, when it said
 * nothing else to the leaf for a while; `known` is the leaf's records in its directory, as a
 * heartbeat's answer says.
 */
export interface AliveMessage {
  kind: 'alive'
  known: number
}
/** The sender drops its link to (or its attachment with) the receiver. */
export interface ByeMessage {
  kind: 'bye'
  reason: string
}

export type SupernodeMessage =
  | HelloMessage
  | AttachMessage
  | LinkMessage
  | PingMessage
  | PromoteMessage
  | QueryMessage
  | HitMessage
  | DoneMessage
  | MoveMessage
  | AliveMessage
  | ByeMessage

/**
 * The one answer to every request: the responder's role and what it knows; `accepted` answers
 * attach, link and promote, says a ping's sender is a link, and a hello's sender a leaf whose
 * refresh the responder's directory counted as its heartbeat.
 */
export interface InfoMessage {
  kind: 'info'
  role: 'supernode' | 'leaf'
  accepted: boolean
  leaves: number
  /** Supernodes the responder knows (itself first when it is one). */
  supernodes: PeerRef[]
  /**
   * The responder's leaves that may become supernodes, best first (for elections); only in answers to
   * `hello` and an accepted `attach`, and not when the hello's `listed` is the version the list still is.
   */
  candidates: Candidate[]
  /**
   * The version of the responder's election list (with `candidates`): a new one whenever the list
   * changes, unique among the versions one node gives out. Absent from answers with no list and from
   * older peers.
   */
  listed?: number
  /** In the answer to an accepted attach that asked for it: this supernode sends the leaf `alive` (absent: it does not). */
  alive?: boolean
}

const queryId = z.string().regex(/^[0-9a-f]{32}$/, 'a query id is 32 hex digits')
const addresses = z.array(addressSchema).max(LIMITS.addresses)
const count = z.number().int().min(0).max(1_000_000)
const capacity = z.number().finite().min(0).max(1e9)
const refs = z.array(peerRefSchema).max(MAX_LIST)
const version = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)
const want = z.number().int().min(0).max(MAX_LIST)
const about = { addresses, capacity, capable: z.boolean(), supernodes: refs }

export const supernodeMessageSchema: z.ZodType<SupernodeMessage> = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('hello'),
    ...about,
    want: want.optional(),
    listed: version.optional(),
  }),
  z.object({ kind: z.literal('attach'), ...about, alive: z.boolean().optional() }),
  z.object({ kind: z.literal('link'), addresses, leaves: count }),
  z.object({ kind: z.literal('ping'), leaves: count, want: want.optional() }),
  z.object({ kind: z.literal('promote'), supernodes: refs }),
  z.object({
    kind: z.literal('query'),
    id: queryId,
    ttl: z.number().int().min(0).max(PROTOCOL_MAX_TTL),
    hops: z.number().int().min(0).max(255),
    query: querySchema,
  }),
  z.object({
    kind: z.literal('hit'),
    id: queryId,
    hops: z.number().int().min(0).max(255),
    hits: z.array(hitSchema).min(1).max(MAX_HITS_PER_MESSAGE),
  }),
  z.object({ kind: z.literal('done'), id: queryId }),
  z.object({ kind: z.literal('move'), to: refs }),
  z.object({ kind: z.literal('alive'), known: version }),
  z.object({ kind: z.literal('bye'), reason: z.string().max(256) }),
])

export const infoSchema: z.ZodType<InfoMessage> = z.object({
  kind: z.literal('info'),
  role: z.enum(['supernode', 'leaf']),
  accepted: z.boolean(),
  leaves: count,
  supernodes: refs,
  candidates: z.array(z.object({ peer: peerRefSchema, capacity })).max(MAX_LIST),
  listed: version.optional(),
  alive: z.boolean().optional(),
})

/**
 * `peerkit/supernode/1`. `hello`, `attach`, `link`, `ping` and `promote` are
 * requests answered by `info`; `query`, `hit`, `done`, `move`, `alive` and `bye`
 * are one-way messages. A leaf registers its files with its supernode over
 * `peerkit/central/1` (a supernode runs a directory server for its leaves).
 */
export const SUPERNODE = defineProtocol<SupernodeMessage, InfoMessage | null>(
  'peerkit/supernode/1',
  supernodeMessageSchema,
  z.union([infoSchema, z.null()]),
)
