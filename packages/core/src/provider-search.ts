import { type Clock, sleep } from './clock.js'
import type { PeerRef } from './records.js'

/** Milliseconds before a search for providers that ended empty is made again (doubling each time). */
export const PROVIDER_SEARCH_RETRY_MIN = 1000
/** The longest wait between two searches for providers. */
export const PROVIDER_SEARCH_RETRY_MAX = 8000

/**
 * Providers of one content hash, looked for until one is found or `timeout`
 * ms have passed on `clock`. `search(left, signal)` runs one search with what
 * is left of the time. Some overlays end a search early (a supernode or a
 * directory answers within a second); one that ended empty may have missed a
 * provider for a moment (an answer late under load, a provider between two
 * supernodes), so it is made again after PROVIDER_SEARCH_RETRY_MIN ms,
 * doubling up to PROVIDER_SEARCH_RETRY_MAX, never past the timeout. Once a
 * search yields a provider, nothing more is asked: the download asks again
 * itself when every provider it has is gone. A search that throws ends the
 * whole stream with its error. Ends at once when `signal` aborts.
 */
export async function* keepLookingForProviders(
  clock: Clock,
  search: (left: number, signal: AbortSignal | undefined) => AsyncIterable<PeerRef>,
  timeout: number,
  signal?: AbortSignal,
): AsyncGenerator<PeerRef> {
  const end = clock.now() + timeout
  let delay = PROVIDER_SEARCH_RETRY_MIN
  for (;;) {
    let found = false
    for await (const ref of search(end - clock.now(), signal)) {
      found = true
      yield ref
    }
    const left = end - clock.now()
    if (found || left <= 0 || signal?.aborted) return
    try {
      await sleep(clock, Math.min(delay, left), signal)
    } catch {
      return // aborted while waiting: the caller's signal ended the search, there is nothing to report
    }
    if (end - clock.now() <= 0) return
    delay = Math.min(PROVIDER_SEARCH_RETRY_MAX, delay * 2)
  }
}
