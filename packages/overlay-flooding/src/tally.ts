import type { OverlayStats } from '@peerkit/core'
import type { FloodingMessage, PongMessage } from './messages.js'

/** The kinds of message a flooding node sends and receives. */
export type MessageKind = FloodingMessage['kind'] | PongMessage['kind']

/**
 * What a flooding node counts for `stats()`: the messages it sent and received, by kind, and its own
 * figures, as number fields of one object made with the node. Core's `MessageCounter` keeps a record
 * for each direction, made at its first count: every message of a flood (most of them duplicates, at
 * every node, whose objects are nearly always cold by then) read two objects more than these fields.
 */
export class Tally {
  throttled = 0
  dropped = 0
  evicted = 0
  unanswered = 0
  /**
   * Messages received, by kind (each counted where its kind is known as a literal). Queries received
   * and dropped as duplicates are counted by the overlay itself (`QueryCounts`).
   */
  receivedPing = 0
  receivedPong = 0
  receivedHit = 0
  receivedBye = 0
  private sentQuery = 0
  private sentPing = 0
  private sentPong = 0
  private sentHit = 0
  private sentBye = 0

  /** Counts a message sent (`kind` may be a message's own, decoded). */
  sent(kind: MessageKind): void {
    switch (kind) {
      case 'query':
        this.sentQuery++
        return
      case 'ping':
        this.sentPing++
        return
      case 'pong':
        this.sentPong++
        return
      case 'hit':
        this.sentHit++
        return
      case 'bye':
        this.sentBye++
        return
    }
  }

  /**
   * `extra`, the figures, and `sent` and `received` with the kinds counted at least once (as
   * `MessageCounter`); `queries`: the counts of queries the overlay keeps itself (queries it sends to
   * one peer are counted here too, by `sent`).
   */
  snapshot(extra: Record<string, unknown>, queries: QueryCounts = NO_QUERIES): OverlayStats {
    return {
      ...extra,
      duplicates: queries.duplicates,
      throttled: this.throttled,
      dropped: this.dropped,
      evicted: this.evicted,
      unanswered: this.unanswered,
      sent: byKind(
        this.sentPing,
        this.sentPong,
        this.sentQuery + queries.sentQuery,
        this.sentHit,
        this.sentBye,
      ),
      received: byKind(
        this.receivedPing,
        this.receivedPong,
        queries.receivedQuery,
        this.receivedHit,
        this.receivedBye,
      ),
    }
  }
}

/** Counts of queries a node keeps beside the tally, in the fields every query reads (see `FloodingOverlay`). */
export interface QueryCounts {
  readonly receivedQuery: number
  readonly duplicates: number
  readonly sentQuery: number
}

const NO_QUERIES: QueryCounts = { receivedQuery: 0, duplicates: 0, sentQuery: 0 }

/** The counts above zero, by kind. */
function byKind(ping: number, pong: number, query: number, hit: number, bye: number): Record<string, number> {
  const out: Record<string, number> = {}
  if (ping > 0) out.ping = ping
  if (pong > 0) out.pong = pong
  if (query > 0) out.query = query
  if (hit > 0) out.hit = hit
  if (bye > 0) out.bye = bye
  return out
}
