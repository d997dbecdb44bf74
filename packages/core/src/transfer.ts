import type { EventEmitter } from 'eventemitter3'
import type { PeerId } from './peer-id.js'
import type { ContentHash, FileRecord, PeerRef } from './records.js'
import type { AbortOptions } from './transport.js'

export interface SourceBytes {
  id: PeerId
  bytes: number
}

export interface DownloadProgress {
  hash: ContentHash
  /** Verified bytes on disk. */
  bytes: number
  size: number
  /** Bytes per second, recent. */
  rate: number
  /** Seconds left at the current rate, or undefined when unknown. */
  eta?: number
  sources: SourceBytes[]
}

/**
 * `queued`: waiting for a free slot (the transfer's `maxActiveDownloads`);
 * `running`: fetching; `waiting`: every provider is gone and the download
 * asks for providers again, with backoff, until one appears or the deadline
 * passes (`reason` says why); `paused`: no requests, the `.part` kept;
 * `done`, `failed`, `aborted` (stopped, the `.part` kept for a resume) and
 * `cancelled` (`cancel()`: the `.part` removed unless asked to keep it) are final.
 */
export type DownloadState =
  | 'queued'
  | 'running'
  | 'waiting'
  | 'paused'
  | 'done'
  | 'failed'
  | 'aborted'
  | 'cancelled'

export interface DownloadStatus {
  hash: ContentHash
  path: string
  bytes: number
  size: number
  state: DownloadState
  /** Why the download is waiting (state `waiting`), or why it failed. */
  reason?: string
}

export interface CancelOptions {
  /** Keep the `.part` file and its sidecar for a later download of the same file. @default false */
  keepPart?: boolean
}

export interface DownloadResult {
  hash: ContentHash
  /** Absolute path of the verified file. */
  path: string
  size: number
  verified: true
  elapsedMs: number
  sources: SourceBytes[]
  /** Chunks already verified on disk from an earlier attempt, not fetched again. */
  resumedChunks: number
  /** Chunks fetched over the network in this attempt. */
  fetchedChunks: number
}

export interface DownloadEvents {
  progress: [progress: DownloadProgress]
  /** A provider was dropped from this download (disconnected, stalled, sent bad data). */
  'source:dropped': [info: { peer: PeerId; reason: string }]
  'source:added': [peer: PeerRef]
  /** The state changed (`queued`, `running`, `waiting`, `paused`, and the final one); `status.reason` says why it waits or failed. */
  state: [status: DownloadStatus]
}

/** A download under way. `done` settles once; listeners may be added at any time. */
export interface Download extends EventEmitter<DownloadEvents> {
  readonly hash: ContentHash
  readonly done: Promise<DownloadResult>
  status(): DownloadStatus
  /** Stops requesting chunks (in-flight ones are abandoned, back to the picker); the `.part` stays. No-op once settled, or once every chunk is verified. */
  pause(): void
  /** Continues a paused download from its `.part` (queued first when no slot is free). */
  resume(): void
  /** Ends the download: `done` rejects with `AbortError`, state `cancelled`, the `.part` removed unless `keepPart`. */
  cancel(options?: CancelOptions): void
}

export interface DownloadOptions extends AbortOptions {
  /** Destination file. Resumes from verified chunks already there (the `.part` file). */
  to: string
  /** Where to fetch from; an async iterable may keep yielding providers while the download runs. */
  providers: Iterable<PeerRef> | AsyncIterable<PeerRef>
  /** The file size the search hit or record gave, when known: a provider whose manifest says otherwise is dropped before its leaf list is read. */
  size?: number
  /** The chunk size the search hit or record gave, when known; checked like `size`. */
  chunkSize?: number
  /**
   * Asks for providers again (e.g. the overlay's `providers(hash)`), called
   * with backoff while every provider is gone (see the transfer's
   * `providerWait`). Without it, an array `providers` is asked again.
   */
  findProviders?: (signal: AbortSignal) => Iterable<PeerRef> | AsyncIterable<PeerRef>
}

export interface ShareOptions extends AbortOptions {
  /** Called per file hashed, with its absolute path. */
  onFile?: (record: FileRecord, path: string) => void
  /** Also share hidden files and folders (names starting with `.`) below a shared folder. @default false */
  hidden?: boolean
  /** Called per entry below a shared folder that is not shared: `hidden`, `symlink`, `special`, `unreadable` or `ignored`. */
  onSkip?: (skipped: { path: string; reason: string }) => void
  /** Entries below a shared folder to leave out (reason `ignored`), e.g. partial downloads. */
  ignore?: (path: string) => boolean
}

/**
 * Moves a file's bytes: serves chunk requests for shared files and downloads
 * verified chunks from several providers at once. Implementations are
 * registered by name in `transfers` (`default` is @peerkit/transfer).
 */
export interface Transfer {
  start(): Promise<void>
  stop(): Promise<void>
  /** Hashes a file or every file below a folder, adds them to the local Index, and serves them. */
  share(path: string, options?: ShareOptions): Promise<FileRecord[]>
  /** Stops serving these hashes and removes them from the local Index. */
  unshare(hashes: ContentHash[]): Promise<void>
  download(hash: ContentHash, options: DownloadOptions): Download
  downloads(): DownloadStatus[]
}
