import type { Hit, OverlayStats } from '@peerkit/core'
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

/** Every live node's overlay counters (and the directory's). */
export function snapshot(net: SimNetwork): Snapshot {
  const nodes: Snapshot['nodes'] = new Map()
  const byKind: Record<string, number> = {}
  const add = (key: SimPeer | 'directory', stats: OverlayStats, shares: number) => {
    nodes.set(key, { received: messageTotals(stats).received, records: recordsHeld(stats, shares) })
    addByKind(byKind, stats)
  }
  for (const p of net.livePeers()) add(p, p.peer.overlay.stats(), p.files.length) // the files it shares, as published
  const dir = net.directoryStats()
  if (dir) add('directory', dir, 0)
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
