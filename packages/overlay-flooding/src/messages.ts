import {
  defineProtocol,
  type Hit,
  hitSchema,
  LIMITS,
  type PeerRef,
  peerRefSchema,
  type Query,
  querySchema,
  type Random,
  toHex,
} from '@peerkit/core'
import { z } from 'zod'
import { PROTOCOL_MAX_TTL } from './options.js'

/** Hits one query-hit message carries at most. */
export const MAX_HITS_PER_MESSAGE = 64
/** PeerRefs one pong carries at most. */
export const MAX_PONG_PEERS = 256

const queryIdSchema = z.string().regex(/^[0-9a-f]{32}$/, 'a query id is 32 hex digits')
const addressesSchema = z.array(z.string().min(1).max(LIMITS.address)).max(LIMITS.addresses)

/** Asks for peers (`join: false`), or to become the receiver's neighbor (`join: true`). */
export interface PingMessage {
  kind: 'ping'
  join: boolean
  /** Where the sender listens. */
  addresses: string[]
  /**
   * The sender's neighbor count. A full node makes room for a joiner that has
   * none (evicting a random neighbor).
   */
  degree: number
  /**
   * Set by a joiner below its `minNeighbors` that found no peer with room: a
   * full node then makes room by evicting a neighbor known to have more than
   * `minNeighbors`.
   */
  makeRoom?: boolean
  /**
   * Peers wanted in the pong, at most (absent: the receiver's `pongPeers`). A probe of a quiet
   * neighbor asks 0: it reads only that the neighbor answers, and its degree.
   */
  peers?: number
}

/** A flooded search: `ttl` hops left, `hops` travelled so far. */
export interface QueryMessage {
  kind: 'query'
  id: string
  ttl: number
  hops: number
  query: Query
}

/** Answers to query `id`, routed back along the reverse path. `hops` is how far the query travelled. */
export interface HitMessage {
  kind: 'hit'
  id: string
  hops: number
  hits: Hit[]
}

/** The sender no longer considers the receiver its neighbor. */
export interface ByeMessage {
  kind: 'bye'
  reason: string
}

export type FloodingMessage = PingMessage | QueryMessage | HitMessage | ByeMessage

/** The answer to a ping: whether the join was accepted, and peers to try. */
export interface PongMessage {
  kind: 'pong'
  accepted: boolean
  addresses: string[]
  peers: PeerRef[]
  /** The answering node's neighbor count (absent from older peers). */
  degree?: number
}

const pingSchema = z.object({
  kind: z.literal('ping'),
  join: z.boolean(),
  addresses: addressesSchema,
  degree: z.number().int().min(0).max(100_000),
  makeRoom: z.boolean().optional(),
  peers: z.number().int().min(0).max(256).optional(),
})
const queryMessageSchema = z.object({
  kind: z.literal('query'),
  id: queryIdSchema,
  ttl: z.number().int().min(1).max(PROTOCOL_MAX_TTL),
  hops: z.number().int().min(0).max(255),
  query: querySchema,
})
const hitMessageSchema = z.object({
  kind: z.literal('hit'),
  id: queryIdSchema,
  hops: z.number().int().min(0).max(255),
  hits: z.array(hitSchema).min(1).max(MAX_HITS_PER_MESSAGE),
})
const byeSchema = z.object({ kind: z.literal('bye'), reason: z.string().max(256) })

export const floodingMessageSchema: z.ZodType<FloodingMessage> = z.discriminatedUnion('kind', [
  pingSchema,
  queryMessageSchema,
  hitMessageSchema,
  byeSchema,
])

export const pongSchema: z.ZodType<PongMessage> = z.object({
  kind: z.literal('pong'),
  accepted: z.boolean(),
  addresses: addressesSchema,
  peers: z.array(peerRefSchema).max(MAX_PONG_PEERS),
  degree: z.number().int().min(0).max(100_000).optional(),
})

/**
 * `peerkit/flooding/1`. Pings are requests answered by a pong; queries, hits
 * and byes are one-way messages (`Network.send`), as in Gnutella.
 */
export const FLOODING = defineProtocol<FloodingMessage, PongMessage | null>(
  'peerkit/flooding/1',
  floodingMessageSchema,
  z.union([pongSchema, z.null()]),
)

/** A fresh query id: 16 bytes from `random`, in hex. */
export function newQueryId(random: Random): string {
  return toHex(random.bytes(16))
}
