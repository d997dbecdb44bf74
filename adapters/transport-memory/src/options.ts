import { DEFAULT_MAX_MESSAGE_SIZE, parseOptions } from '@peerkit/core'
import { z } from 'zod'

/** Options of `memoryTransport()` (the `memory` key of a peer's `options`). */
export interface MemoryTransportOptions {
  /** Largest message, in bytes, that `send` accepts and that may arrive. @default DEFAULT_MAX_MESSAGE_SIZE (4 MiB) */
  maxMessageSize?: number
  /**
   * Bytes a connection may hold queued (not yet on the wire) before `send`
   * waits for room. @default 1048576 (1 MiB)
   */
  sendBufferSize?: number
  /**
   * Prove both PeerIds with Ed25519 signatures over fresh nonces when a
   * connection opens. `false` trusts the ids the in-process hub reports:
   * for the simulator only, where every peer is code you run. Set it the same
   * on every peer of a network. @default true
   */
  authenticate?: boolean
}

export const DEFAULT_SEND_BUFFER_SIZE = 1024 * 1024

/** The schema of `options.memory`: every field's bounds and default (documented on `MemoryTransportOptions`). */
export const memoryTransportOptionsSchema = z
  .object({
    maxMessageSize: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(DEFAULT_MAX_MESSAGE_SIZE),
    sendBufferSize: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(DEFAULT_SEND_BUFFER_SIZE),
    authenticate: z.boolean().default(true),
  })
  .strict()

/** Merges defaults, checks types and ranges through core's parseOptions (one error format), and freezes. */
export function parseMemoryTransportOptions(input: unknown = {}): Readonly<Required<MemoryTransportOptions>> {
  const { maxMessageSize, sendBufferSize, authenticate } = parseOptions(
    memoryTransportOptionsSchema,
    input ?? {},
    'memory',
  )
  // A simulator builds 10^5 or more peers with the same options: they share one frozen object rather than
  // each holding a copy (the options are immutable, so sharing is unobservable).
  const last = lastParsed
  if (
    last?.maxMessageSize === maxMessageSize &&
    last.sendBufferSize === sendBufferSize &&
    last.authenticate === authenticate
  )
    return last
  lastParsed = Object.freeze({ maxMessageSize, sendBufferSize, authenticate })
  return lastParsed
}

/** The last options parsed: peers built with the same options share them. */
let lastParsed: Readonly<Required<MemoryTransportOptions>> | undefined
