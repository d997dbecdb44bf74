import { parseOptions } from '@peerkit/core'
import { z } from 'zod'

export interface TransferOptions {
  /** Milliseconds one chunk (or manifest) request may take before its chunk goes to another provider. @default 10000 */
  requestTimeout?: number
  /** Chunk requests in flight to one provider at once (memory held: up to this × chunk size per provider). @default 8 */
  maxInFlightPerPeer?: number
  /** Providers used at once by one download. @default 16 */
  maxPeers?: number
  /**
   * Requests one peer may have this peer serve at once (chunks and manifests,
   * all its downloads together); beyond it the request is refused with
   * `RateLimitError`, which a downloader answers by halving its window.
   * Bounds the memory one greedy or hostile peer can take (about this × the
   * block size). @default 64
   */
  maxServingPerPeer?: number
  /** Near the end, ask a second provider for chunks still in flight, so one slow provider cannot hold up the finish. @default true */
  endgame?: boolean
  /** Extra copies of one chunk that may be in flight during the endgame. @default 1 */
  endgameDuplicates?: number
  /** Consecutive failed requests (timeouts, lost connections) after which a provider is dropped. @default 2 */
  maxFailures?: number
  /** Milliseconds between progress events (the first one comes with the first verified chunk). @default 250 */
  progressInterval?: number
  /** Milliseconds between saves of the resume sidecar (`<to>.part.json`). @default 1000 */
  checkpointInterval?: number
  /** Largest piece of a chunk carried by one message (bigger chunks travel in several). @default 1048576 */
  blockSize?: number
  /** Milliseconds to wait for a usable provider while the provider source is still open. @default 30000 */
  noProviderTimeout?: number
  /**
   * Milliseconds a download whose providers are all gone keeps asking for
   * providers again (backoff 1 s doubling to 60 s) before it fails, counted
   * from its last verified chunk; 0: fail at once. A hash no provider was
   * ever found for fails as before (see `noProviderTimeout`). @default 300000
   */
  providerWait?: number
  /**
   * Milliseconds between searches for more providers while a download runs
   * with fewer than `maxPeers` usable ones (one search at a time, through the
   * download's `findProviders`); a provider found is used at once. 0: never. @default 30000
   */
  providerSearchInterval?: number
  /** Downloads fetching at once; the others are `queued` (paused ones do not count). 0: no limit. @default 4 */
  maxActiveDownloads?: number
  /** Bytes per second all downloads together may request (0: no limit). @default 0 */
  downloadRate?: number
  /** Bytes per second this peer may serve to all peers together (0: no limit). @default 0 */
  uploadRate?: number
  /** Peers served at once (upload slots); a request of another peer is refused with `RateLimitError` (0: no limit). @default 0 */
  maxUploadPeers?: number
  /** Worker threads for hashing shares (0 or 1: hash in the main thread). @default content's defaultHashWorkers() */
  hashWorkers?: number
}

export const DEFAULT_REQUEST_TIMEOUT = 10_000
export const DEFAULT_MAX_IN_FLIGHT_PER_PEER = 8
export const DEFAULT_MAX_PEERS = 16
export const DEFAULT_MAX_SERVING_PER_PEER = 64
export const DEFAULT_ENDGAME_DUPLICATES = 1
export const DEFAULT_MAX_FAILURES = 2
export const DEFAULT_PROGRESS_INTERVAL = 250
export const DEFAULT_CHECKPOINT_INTERVAL = 1000
export const DEFAULT_BLOCK_SIZE = 1024 * 1024
/** A block must leave room for the envelope under the 4 MiB transport limit. */
export const MAX_BLOCK_SIZE = 2 * 1024 * 1024
export const DEFAULT_NO_PROVIDER_TIMEOUT = 30_000
export const DEFAULT_PROVIDER_WAIT = 300_000
export const DEFAULT_PROVIDER_SEARCH_INTERVAL = 30_000
export const DEFAULT_MAX_ACTIVE_DOWNLOADS = 4

export type ParsedTransferOptions = Readonly<Required<Omit<TransferOptions, 'hashWorkers'>>> & {
  readonly hashWorkers: number | undefined
}

const int = (min: number, max: number, def: number) => z.number().int().min(min).max(max).default(def)
const MAX = Number.MAX_SAFE_INTEGER

/** The transfer's options (`options.default` in the peer config), with their defaults; see `TransferOptions`. */
export const transferOptionsSchema = z
  .object({
    requestTimeout: int(1, MAX, DEFAULT_REQUEST_TIMEOUT),
    maxInFlightPerPeer: int(1, 64, DEFAULT_MAX_IN_FLIGHT_PER_PEER),
    maxPeers: int(1, 1024, DEFAULT_MAX_PEERS),
    maxServingPerPeer: int(1, 100_000, DEFAULT_MAX_SERVING_PER_PEER),
    endgame: z.boolean().default(true),
    endgameDuplicates: int(0, 8, DEFAULT_ENDGAME_DUPLICATES),
    maxFailures: int(1, 100, DEFAULT_MAX_FAILURES),
    progressInterval: int(10, MAX, DEFAULT_PROGRESS_INTERVAL),
    checkpointInterval: int(10, MAX, DEFAULT_CHECKPOINT_INTERVAL),
    blockSize: int(1024, MAX_BLOCK_SIZE, DEFAULT_BLOCK_SIZE).refine(
      (n) => (n & (n - 1)) === 0,
      'a power of two',
    ),
    noProviderTimeout: int(1, MAX, DEFAULT_NO_PROVIDER_TIMEOUT),
    providerWait: int(0, MAX, DEFAULT_PROVIDER_WAIT),
    providerSearchInterval: int(0, MAX, DEFAULT_PROVIDER_SEARCH_INTERVAL),
    maxActiveDownloads: int(0, 100_000, DEFAULT_MAX_ACTIVE_DOWNLOADS),
    downloadRate: int(0, MAX, 0),
    uploadRate: int(0, MAX, 0),
    maxUploadPeers: int(0, 100_000, 0),
    hashWorkers: z.number().int().min(0).max(64).optional(),
  })
  .strict()

/**
 * Fills in the defaults, checks every field and freezes the result (core's
 * `parseOptions`: errors name the field, `transfer.maxPeers must be …`, and a
 * misspelt name gets the nearest one, `transfer.maxPeer is not an option; did
 * you mean maxPeers?`).
 */
export function parseTransferOptions(input: unknown = {}): ParsedTransferOptions {
  return parseOptions(transferOptionsSchema, input ?? {}, 'transfer') as ParsedTransferOptions
}
