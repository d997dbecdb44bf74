import type { Hit } from '@peerkit/core'
import { addByKind, messageTotals, recordsHeld } from './metrics.js'
import type { SimNetwork, SimPeer } from './sim-network.js'
import type { Catalog, SimQuery } from './workload.js'

/** What one search found, judged against global knowledge. */
export interface QueryOutcome {
  answerable: boolean
  succeeded: boolean
  targetFound: boolean
  falseHits: number
  hits: number
  error: boolean
  firstHitMs?: number
  hops?: number
}

export interface Snapshot {
  nodes: Map<SimPeer | 'directory', { received: number; records: number }>
  byKind: Record<string, number>
}

/**
 * Every live node's overlay counters (and the directory's); the messages by kind of every node ever
 * built, the dead included (their counters stay as they were when they died), so that a window's
 * difference counts what peers that died or joined inside it sent.
 */
export function snapshot(net: SimNetwork): Snapshot {
  const nodes: Snapshot['nodes'] = new Map()
  const byKind: Record<string, number> = {}
  for (const p of net.peers) {
    const stats = p.peer.overlay.stats()
    addByKind(byKind, stats)
    // the files it shares, as published
    if (p.alive)
      nodes.set(p, { received: messageTotals(stats).received, records: recordsHeld(stats, p.files.length) })
  }
  const dir = net.directoryStats()
  if (dir) {
    nodes.set('directory', { received: messageTotals(dir).received, records: recordsHeld(dir, 0) })
    addByKind(byKind, dir)
  }
  return { nodes, byKind }
}

/** Runs one keyword search from `asker` and judges its hits against the catalog. */
export async function runQuery(
  net: SimNetwork,
  asker: SimPeer,
  q: SimQuery,
  isAnswerable: boolean,
  timeout: number,
  catalog: Catalog,
): Promise<QueryOutcome> {
  const { clock } = net
  const start = clock.now()
  const truth = new Set(catalog.matching(q.keywords).map((rank) => catalog.files[rank]?.hash))
  const out: QueryOutcome = {
    answerable: isAnswerable,
    succeeded: false,
    targetFound: false,
    falseHits: 0,
    hits: 0,
    error: false,
  }
  const seen = new Set<string>()
  try {
    for await (const hit of asker.peer.overlay.search(
      { keywords: [...q.keywords] },
      { timeout },
    ) as AsyncIterable<Hit>) {
      if (!truth.has(hit.hash)) {
        out.falseHits++
        continue
      }
      if (out.firstHitMs === undefined) {
        out.firstHitMs = clock.now() - start
        if (hit.hops !== undefined) out.hops = hit.hops
      }
      out.succeeded = true
      if (hit.hash === q.target.hash) out.targetFound = true
      if (!seen.has(hit.hash)) {
        seen.add(hit.hash)
        out.hits++
      }
    }
  } catch {
    out.error = true
  }
  return out
}
