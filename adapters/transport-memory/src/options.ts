import { DEFAULT_MAX_MESSAGE_SIZE, InvalidOptionsError } from '@peerkit/core'

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

const KEYS = new Set(['maxMessageSize', 'sendBufferSize', 'authenticate'])

/** Merges defaults, checks types and ranges (`InvalidOptionsError` names the field), and freezes. */
export function parseMemoryTransportOptions(input: unknown = {}): Readonly<Required<MemoryTransportOptions>> {
  if (input === undefined || input === null) input = {}
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new InvalidOptionsError(`memory options must be an object (got ${JSON.stringify(input)})`)
  }
  const o = input as Record<string, unknown>
  for (const key of Object.keys(o)) {
    if (!KEYS.has(key)) {
      throw new InvalidOptionsError(`memory.${key} is not an option; accepted: ${[...KEYS].join(', ')}`)
    }
  }
  const maxMessageSize = o.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE
  if (typeof maxMessageSize !== 'number' || !Number.isInteger(maxMessageSize) || maxMessageSize < 1) {
    throw new InvalidOptionsError(
      `memory.maxMessageSize must be an integer >= 1 (got ${JSON.stringify(maxMessageSize)})`,
    )
  }
  const sendBufferSize = o.sendBufferSize ?? DEFAULT_SEND_BUFFER_SIZE
  if (typeof sendBufferSize !== 'number' || !Number.isInteger(sendBufferSize) || sendBufferSize < 1) {
    throw new InvalidOptionsError(
      `memory.sendBufferSize must be an integer >= 1 (got ${JSON.stringify(sendBufferSize)})`,
    )
  }
  const authenticate = o.authenticate ?? true
  if (typeof authenticate !== 'boolean') {
    throw new InvalidOptionsError(
      `memory.authenticate must be true or false (got ${JSON.stringify(authenticate)})`,
    )
  }
  const last = lastParsed
  if (
    last?.maxMessageSize === maxMessageSize &&
    last.sendBufferSize === sendBufferSize &&
    last.authenticate === authenticate
  )
    return last // the same frozen options, not one copy per peer
  lastParsed = Object.freeze({ maxMessageSize, sendBufferSize, authenticate })
  return lastParsed
}

/** The last options parsed: peers built with the same options share them. */
let lastParsed: Readonly<Required<MemoryTransportOptions>> | undefined
