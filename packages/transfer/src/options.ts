import { InvalidOptionsError } from '@peerkit/core'

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

/** Merges defaults, checks every field, and freezes the result. */
export function parseTransferOptions(input: unknown = {}): ParsedTransferOptions {
  if (input === undefined || input === null) input = {}
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new InvalidOptionsError(`transfer options must be an object (got ${JSON.stringify(input)})`)
  }
  const o = input as Record<string, unknown>
  const known = new Set([
    'requestTimeout',
    'maxInFlightPerPeer',
    'maxPeers',
    'maxServingPerPeer',
    'endgame',
    'endgameDuplicates',
    'maxFailures',
    'progressInterval',
    'checkpointInterval',
    'blockSize',
    'noProviderTimeout',
    'providerWait',
    'providerSearchInterval',
    'maxActiveDownloads',
    'downloadRate',
    'uploadRate',
    'maxUploadPeers',
    'hashWorkers',
  ])
  for (const key of Object.keys(o)) {
    if (!known.has(key))
      throw new InvalidOptionsError(`transfer.${key} is not an option (accepted: ${[...known].join(', ')})`)
  }
  const int = (key: string, def: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const v = o[key] ?? def
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new InvalidOptionsError(
        `transfer.${key} must be an integer in [${min}, ${max}] (got ${JSON.stringify(v)})`,
      )
    }
    return v
  }
  const endgame = o.endgame ?? true
  if (typeof endgame !== 'boolean')
    throw new InvalidOptionsError(`transfer.endgame must be a boolean (got ${JSON.stringify(endgame)})`)
  const blockSize = int('blockSize', DEFAULT_BLOCK_SIZE, 1024, MAX_BLOCK_SIZE)
  if ((blockSize & (blockSize - 1)) !== 0) {
    throw new InvalidOptionsError(`transfer.blockSize must be a power of two (got ${blockSize})`)
  }
  const parsed: ParsedTransferOptions = {
    requestTimeout: int('requestTimeout', DEFAULT_REQUEST_TIMEOUT, 1),
    maxInFlightPerPeer: int('maxInFlightPerPeer', DEFAULT_MAX_IN_FLIGHT_PER_PEER, 1, 64),
    maxPeers: int('maxPeers', DEFAULT_MAX_PEERS, 1, 1024),
    maxServingPerPeer: int('maxServingPerPeer', DEFAULT_MAX_SERVING_PER_PEER, 1, 100_000),
    endgame,
    endgameDuplicates: int('endgameDuplicates', DEFAULT_ENDGAME_DUPLICATES, 0, 8),
    maxFailures: int('maxFailures', DEFAULT_MAX_FAILURES, 1, 100),
    progressInterval: int('progressInterval', DEFAULT_PROGRESS_INTERVAL, 10),
    checkpointInterval: int('checkpointInterval', DEFAULT_CHECKPOINT_INTERVAL, 10),
    blockSize,
    noProviderTimeout: int('noProviderTimeout', DEFAULT_NO_PROVIDER_TIMEOUT, 1),
    providerWait: int('providerWait', DEFAULT_PROVIDER_WAIT, 0),
    providerSearchInterval: int('providerSearchInterval', DEFAULT_PROVIDER_SEARCH_INTERVAL, 0),
    maxActiveDownloads: int('maxActiveDownloads', DEFAULT_MAX_ACTIVE_DOWNLOADS, 0, 100_000),
    downloadRate: int('downloadRate', 0, 0),
    uploadRate: int('uploadRate', 0, 0),
    maxUploadPeers: int('maxUploadPeers', 0, 0, 100_000),
    hashWorkers: o.hashWorkers === undefined ? undefined : int('hashWorkers', 0, 0, 64),
  }
  // Peers built with the same options share one frozen copy.
  const last = lastParsed
  if (last && (Object.keys(parsed) as (keyof ParsedTransferOptions)[]).every((k) => last[k] === parsed[k]))
    return last
  lastParsed = Object.freeze(parsed)
  return lastParsed
}

/** The last options parsed (see `parseTransferOptions`). */
let lastParsed: ParsedTransferOptions | undefined
