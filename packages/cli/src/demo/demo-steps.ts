import type { DownloadResult, Hit, Peer, PeerRef } from '@peerkit/core'
import { CommandError } from '../errors.js'
import type { ProgressRow } from '../progress-board.js'

/** Milliseconds each search of the demo runs. */
export const SEARCH_TIMEOUT = 3000
/** Searches tried while the network settles. */
export const SEARCH_ATTEMPTS = 5
/** Milliseconds to wait for every peer to have a neighbor. */
export const SETTLE_TIMEOUT = 5000

/** Waits (bounded) until each peer has a neighbor: the overlay has joined. */
export async function settle(peers: Peer[]): Promise<void> {
  const until = Date.now() + SETTLE_TIMEOUT
  while (Date.now() < until && peers.some((p) => p.overlay.neighbors().length === 0)) {
    await new Promise((r) => setTimeout(r, 50))
  }
}

export interface SearchOutcome {
  hits: Hit[]
  firstHitMs: number
  totalMs: number
}

/** Searches until `enough` holds for the merged hits, a few times at most (the overlay may still be settling). */
export async function searchUntil(
  peer: Peer,
  query: string,
  enough: (hits: Hit[]) => boolean,
  say: (line: string) => void,
  signal: AbortSignal | undefined,
): Promise<SearchOutcome> {
  let outcome: SearchOutcome = { hits: [], firstHitMs: 0, totalMs: 0 }
  for (let attempt = 1; attempt <= SEARCH_ATTEMPTS; attempt++) {
    if (signal?.aborted) throw new CommandError('the demo was interrupted')
    const t0 = Date.now()
    const byHash = new Map<string, Hit>()
    let firstHitMs = 0
    for await (const hit of peer.search(query, { timeout: SEARCH_TIMEOUT, signal })) {
      if (byHash.size === 0) firstHitMs = Date.now() - t0
      const known = byHash.get(hit.hash)
      if (!known) byHash.set(hit.hash, { ...hit, providers: [...hit.providers] })
      else
        for (const p of hit.providers)
          if (!known.providers.some((k) => k.id === p.id)) known.providers.push(p)
    }
    outcome = { hits: [...byHash.values()], firstHitMs, totalMs: Date.now() - t0 }
    if (enough(outcome.hits)) return outcome
    say(`   (nothing yet: the network is still settling; searching again, ${attempt}/${SEARCH_ATTEMPTS})`)
    await new Promise((r) => setTimeout(r, 300 * attempt))
  }
  return outcome
}

/** Downloads a hit from its providers, drawing progress on `row`. */
export async function downloadHit(
  peer: Peer,
  hit: Hit,
  to: string,
  row: ProgressRow,
  signal: AbortSignal | undefined,
): Promise<DownloadResult> {
  const providers: PeerRef[] = hit.providers
  const dl = peer.download(hit.hash, { to, providers, signal })
  dl.on('progress', (p) =>
    row.update({ bytes: p.bytes, size: p.size, rate: p.rate, sources: p.sources.length }),
  )
  const result = await dl.done
  const rate = (result.size * 1000) / Math.max(1, result.elapsedMs)
  row.update({ bytes: result.size, size: result.size, rate, sources: result.sources.length })
  row.done()
  return result
}
