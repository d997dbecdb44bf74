import type { ContentHash, DownloadState, PeerId, PeerRef, SourceBytes } from '@peerkit/core'

/** One search hit as the API streams it (one NDJSON line); a hash may come again with more providers. */
export interface ApiHit {
  hash: ContentHash
  name: string
  size: number
  chunkSize: number
  providers: PeerRef[]
  hops?: number
}

export interface ApiDownloadStatus {
  hash: ContentHash
  bytes: number
  size: number
  state: DownloadState
  path: string
  /** Why it waits (state `waiting`) or failed. */
  reason?: string
}

/** `GET /status`, and `peerkit status --json`. */
export interface ApiStatus {
  id: PeerId
  overlay: string
  role: string
  addresses: string[]
  neighbors: PeerRef[]
  /** The open connections and how each reached its peer (`path`: direct, relayed, pushed, hole-punched; absent where the transport does not say). */
  connections?: { peer: PeerId; direction: 'inbound' | 'outbound'; path?: string }[]
  /** Whether the node is part of its overlay, and why not (absent from nodes before it was added). */
  connectivity?: {
    state: 'connected' | 'bootstrapping' | 'isolated'
    neighbors: number
    reason?: string
    retries?: number
  }
  shares: number
  downloads: ApiDownloadStatus[]
}

/** One page of another peer's shared files: `GET /browse?peer=…`, `peerkit browse PEER --json`. */
export interface ApiBrowsePage {
  peer: PeerRef
  files: { hash: ContentHash; name: string; size: number; chunkSize: number }[]
  /** Files the peer shares in all. */
  total: number
  /** Pass as `after` for the next page; absent on the last. */
  next?: string
}

/** A finished download: `peerkit get --json`. */
export interface GetResult {
  hash: ContentHash
  path: string
  size: number
  verified: boolean
  elapsedMs: number
  sources: SourceBytes[]
}

export interface ApiErrorBody {
  name: string
  message: string
}

/**
 * `POST /downloads` body. `out` is an absolute path on the node's machine:
 * a file in an existing folder, or an existing folder (the file is saved in
 * it under its sanitised name).
 */
export interface StartDownloadRequest {
  hash: ContentHash
  out: string
  /** Replace a file already at `out` (otherwise the request is refused with OutputError). @default false */
  force?: boolean
  /** Milliseconds to keep looking for providers. */
  providerTimeout?: number
}

/** One line of `GET /downloads/:hash/events`. */
export type DownloadEvent =
  | {
      type: 'progress'
      hash: ContentHash
      bytes: number
      size: number
      rate: number
      eta?: number
      sources: SourceBytes[]
    }
  | { type: 'done'; result: GetResult }
  | { type: 'error'; error: ApiErrorBody }
  /** The download's state changed (queued, running, waiting, paused, or a final one); `reason` says why it waits. */
  | { type: 'state'; hash: ContentHash; state: DownloadState; reason?: string }

/** One line of `GET /events`: an event of a download (`path`: the output it is about, for the final events). */
export interface ApiDownloadUpdate {
  hash: ContentHash
  path?: string
  event: DownloadEvent
}

/** `POST /login-links`: a one-time link that signs a browser in to the node's page. */
export interface LoginLink {
  url: string
  /** Milliseconds it stays valid. */
  expiresIn: number
}
