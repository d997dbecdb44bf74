/**
 * The flooding benchmark's workload (packages/overlay-flooding/bench/flooding.ts),
 * as functions: files of Zipf popularity (rank k held by max(1, round(replicas / k))
 * random peers, named `file rK.bin`) and Zipf-distributed queries for them.
 */
import { createHash } from 'node:crypto'
import { type FileRecord, keywords, type PeerRef, type Random } from '@peerkit/core'

export interface Workload {
  /** Peer index → the records it publishes. */
  holdings: Map<number, string[]>
  /** The queries in order: who asks, for which rank. */
  plan: { origin: number; rank: number }[]
  copies: number
}

/** Zipf(s = 1) over ranks 1..n, drawn with `random`. */
export function zipf(random: Random, n: number): () => number {
  const cumulative: number[] = []
  let sum = 0
  for (let k = 1; k <= n; k++) {
    sum += 1 / k
    cumulative.push(sum)
  }
  return () => {
    const x = random.next() * sum
    const i = cumulative.findIndex((c) => x <= c)
    return i < 0 ? n : i + 1
  }
}

/** Draws holdings then queries, in the flooding benchmark's order. */
export function workload(
  random: Random,
  peers: number,
  files: number,
  replicas: number,
  queries: number,
): Workload {
  const holdings = new Map<number, string[]>()
  let copies = 0
  for (let rank = 1; rank <= files; rank++) {
    const n = Math.max(1, Math.round(replicas / rank))
    const holders = new Set<number>()
    while (holders.size < n) holders.add(random.int(peers))
    for (const h of holders) {
      holdings.set(h, [...(holdings.get(h) ?? []), `file r${rank}.bin`])
      copies++
    }
  }
  const draw = zipf(random, files)
  const plan = Array.from({ length: queries }, () => ({ origin: random.int(peers), rank: draw() }))
  return { holdings, plan, copies }
}

/** The record a peer publishes for a file name. */
export function recordFor(provider: PeerRef, name: string): FileRecord {
  return {
    hash: createHash('sha256').update(`bench:${name}`).digest('hex'),
    name,
    size: 1_000_000,
    chunkSize: 262_144,
    keywords: keywords(name),
    provider,
  }
}
