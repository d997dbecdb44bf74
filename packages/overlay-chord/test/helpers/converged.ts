import { PeerUnreachableError } from '@peerkit/core'
import {
  type ChordNode,
  ChordRouting,
  fingersFromRing,
  predecessorFromRing,
  Ring,
  sortById,
  successorsFromRing,
} from '../../src/index.js'
import { type RequestOf, wireRef } from '../../src/messages.js'
import { answerRequest, type HandlerContext } from '../../src/request-handler.js'
import type { Rpc } from '../../src/routing.js'

export const ring = Ring.of(64)
export const node = (name: string): ChordNode => ({ id: ring.nodeId(name), ref: { id: name, addresses: [] } })

/**
 * 24 nodes with their tables from global knowledge, answering find_successor,
 * get_predecessor and notify straight from their routing (no network); `dead` nodes
 * fail, every request is counted (`asked`, and `types` its kind), and each
 * find_successor's answer's length kept (`named`). A find_successor with
 * `relay` is answered by the overlay's handler (`answerRequest`), which passes
 * it on through this same `rpc`.
 */
export function converged() {
  const nodes = sortById(Array.from({ length: 24 }, (_, i) => node(`p${i}`)))
  const routings = new Map<bigint, ChordRouting>()
  const dead = new Set<bigint>()
  const asked: bigint[] = []
  const types: string[] = []
  const keys: bigint[] = [] // the key of each find_successor, in order
  const named: number[] = [] // the nodes each find_successor's answer named, in order
  const requests: RequestOf<'find_successor'>[] = [] // each find_successor as sent
  const rpc: Rpc = async (to, request) => {
    asked.push(to.id)
    types.push(request.type)
    if (request.type === 'find_successor') {
      keys.push(ring.fromHex((request as RequestOf<'find_successor'>).key) as bigint)
      requests.push(request as RequestOf<'find_successor'>)
    }
    const routing = routings.get(to.id)
    if (dead.has(to.id) || !routing) throw new PeerUnreachableError(`${to.ref.id} is down`)
    if (request.type === 'get_predecessor') {
      const p = routing.predecessor
      return {
        type: 'neighbors',
        predecessor: p ? wireRef(p.ref) : null,
        successors: routing.successors.map((n) => wireRef(n.ref)),
      } as never
    }
    if (request.type === 'notify') {
      routing.notify(routing.node((request as RequestOf<'notify'>).node))
      return { type: 'ok' } as never
    }
    if (request.type !== 'find_successor') throw new Error(`unexpected ${request.type}`)
    if ((request as RequestOf<'find_successor'>).relay !== undefined) {
      const context = { ring, routing, relay: rpc, clock: { now: () => 0 } } as unknown as HandlerContext
      const answer = (await answerRequest(context, request as RequestOf<'find_successor'>, to.ref)) as {
        nodes: unknown[]
      }
      named.push(answer.nodes.length)
      return answer as never
    }
    const { key, avoid, max } = request as RequestOf<'find_successor'>
    const avoided = new Set((avoid ?? []).map((hex) => ring.fromHex(hex) as bigint))
    const step = routing.step(ring.fromHex(key) as bigint, avoided, max)
    named.push(step.nodes.length)
    return { type: 'step', done: step.done, nodes: step.nodes.map((n) => wireRef(n.ref)) } as never
  }
  for (const n of nodes) {
    const routing = new ChordRouting(ring, () => n, 4, rpc, {
      predecessorChanged: () => {},
      neighborsChanged: () => {},
    })
    const table = fingersFromRing(ring, n.id, nodes)
    routing.adopt({
      predecessor: predecessorFromRing(n.id, nodes),
      successors: successorsFromRing(n.id, nodes, 4),
      fingers: Array.from({ length: ring.bits }, (_, i) => table.get(i)),
    })
    routings.set(n.id, routing)
  }
  return { nodes, routings, dead, asked, types, keys, named, requests, rpc }
}
