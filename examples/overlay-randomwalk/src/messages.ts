// src/messages.ts
import { addressSchema, defineProtocol, hitSchema, LIMITS, peerRefSchema, querySchema } from '@peerkit/core'
import { z } from 'zod'
import { PROTOCOL_MAX_TTL } from './options.js'

/** Hits one report carries at most. */
export const MAX_REPORT_HITS = 64
/** Peers one join answer offers at most. */
export const MAX_OFFERED_PEERS = 32

const walkId = z.string().regex(/^[0-9a-f]{32}$/, 'a walk id is 32 hex digits')

/** Asks to become the receiver's neighbor; the answer says whether it did, and offers peers to try. */
export const JOIN = defineProtocol(
  'example/randomwalk/join/1',
  z.object({ addresses: z.array(addressSchema).max(LIMITS.addresses) }),
  z.object({ accepted: z.boolean(), peers: z.array(peerRefSchema).max(MAX_OFFERED_PEERS) }),
)

/** One-way: the sender no longer has the receiver as a neighbor. */
export const LEAVE = defineProtocol('example/randomwalk/leave/1', z.object({}).strict(), z.null())

/** One-way: a walker, handed from neighbor to neighbor; `ttl` steps left, `hops` taken. */
export const WALK = defineProtocol(
  'example/randomwalk/walk/1',
  z.object({
    id: walkId,
    origin: peerRefSchema,
    query: querySchema,
    ttl: z.number().int().min(1).max(PROTOCOL_MAX_TTL),
    hops: z.number().int().min(0).max(PROTOCOL_MAX_TTL),
  }),
  z.null(),
)

/** One-way, to the origin: what a walker found where it stands; `done` when the walker ends there. */
export const REPORT = defineProtocol(
  'example/randomwalk/report/1',
  z.object({
    id: walkId,
    hops: z.number().int().min(0).max(PROTOCOL_MAX_TTL),
    hits: z.array(hitSchema).max(MAX_REPORT_HITS),
    done: z.boolean(),
  }),
  z.null(),
)

/** A walker asks its origin whether to go on (false once the search has enough, or is over). */
export const CHECK = defineProtocol(
  'example/randomwalk/check/1',
  z.object({ id: walkId }),
  z.object({ go: z.boolean() }),
)

export type WalkMessage = z.infer<typeof WALK.request>
export type ReportMessage = z.infer<typeof REPORT.request>
