import type { Clock, Network, PeerRef } from '@peerkit/core'
import { ProtocolError } from '@peerkit/core'
import { type ChordRequest, type ChordResponse, MAX_RECORDS_PER_MESSAGE, OK, wireRef } from './messages.js'
import type { ParsedChordOptions } from './options.js'
import type { RecordStore } from './record-store.js'
import type { Ring } from './ring.js'
import type { ChordNode, ChordRouting } from './routing.js'

/** Most hits one `search` answer carries. */
export const MAX_HITS = 10_000

/** What answering a request needs of its overlay. */
export interface HandlerContext {
  ring: Ring
  routing: ChordRouting
  store: RecordStore
  options: ParsedChordOptions
  clock: Clock
  network: Network
  /** Runs a stabilize round soon (at most one at a time; ignored while maintenance is paused). */
  stabilizeSoon(): void
}

/**
 * The answer of this node to one checked `peerkit/chord/1` request from
 * `from` (the authenticated sender). Requests that lie (a key beyond 2^m,
 * a notify or store on behalf of another peer, lists that disagree) throw
 * `ProtocolError` before anything is applied.
 */
export function answerRequest(c: HandlerContext, request: ChordRequest, from: PeerRef): ChordResponse {
  const refs = (nodes: readonly ChordNode[]) => nodes.map((n) => wireRef(n.ref))
  const now = c.clock.now()
  switch (request.type) {
    case 'find_successor': {
      const key = c.ring.fromHex(request.key)
      if (key === undefined) throw new ProtocolError(`chord key ${request.key} is not below 2^${c.ring.bits}`)
      const avoid = new Set<bigint>()
      for (const hex of request.avoid ?? []) {
        const id = c.ring.fromHex(hex)
        if (id !== undefined) avoid.add(id)
      }
      const step = c.routing.step(key, avoid)
      return { type: 'step', done: step.done, nodes: refs(step.nodes) }
    }
    case 'get_predecessor': {
      const p = c.routing.predecessor
      return {
        type: 'neighbors',
        predecessor: p ? wireRef(p.ref) : null,
        successors: refs(c.routing.successors),
      }
    }
    case 'notify':
      if (request.node.id !== from.id)
        throw new ProtocolError(`${from.id} notified on behalf of ${request.node.id}`)
      c.network.learn(request.node)
      c.routing.notify(c.routing.node(request.node))
      return OK
    case 'ping':
      return OK
    case 'stabilize':
      c.stabilizeSoon()
      return OK
    case 'store': {
      const foreign = request.records.find((r) => r.provider.id !== from.id)
      if (foreign)
        throw new ProtocolError(`${from.id} tried to store a record of provider ${foreign.provider.id}`)
      const expires = now + Math.min(request.ttl, c.options.recordTtl)
      for (const r of request.records) c.store.put(r, expires)
      return OK
    }
    case 'replicate':
      if (request.ttls.length !== request.records.length) {
        throw new ProtocolError(
          `chord replicate has ${request.records.length} records but ${request.ttls.length} ttls`,
        )
      }
      request.records.forEach((r, i) => {
        c.store.put(r, now + Math.min(request.ttls[i] as number, c.options.recordTtl))
      })
      return OK
    case 'remove':
      for (const h of request.hashes) c.store.remove(h, from.id)
      return OK
    case 'get':
      return { type: 'records', records: c.store.get(request.hash).slice(0, MAX_RECORDS_PER_MESSAGE) }
    case 'search':
      return { type: 'hits', hits: c.store.search(request.query).slice(0, MAX_HITS) }
    case 'leave': {
      const predecessor = request.predecessor ? c.routing.node(request.predecessor) : undefined
      for (const ref of [request.predecessor, ...request.successors]) if (ref) c.network.learn(ref)
      c.routing.leave(
        c.routing.node(from),
        predecessor,
        request.successors.map((ref) => c.routing.node(ref)),
      )
      return OK
    }
  }
}
