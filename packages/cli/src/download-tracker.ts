import type { ContentHash, Download, DownloadProgress, DownloadResult, Peer } from '@peerkit/core'
import { EventEmitter } from 'eventemitter3'
import type { ApiErrorBody, DownloadEvent, GetResult } from './api-types.js'

interface Tracked {
  download: Download
  path: string
  last?: DownloadProgress
  final?: DownloadEvent
}

export interface StartOptions {
  providerTimeout?: number
}

/** The downloads a node runs for its API clients, with their last progress and outcome, by hash. */
export class DownloadTracker {
  private readonly byHash = new Map<ContentHash, Tracked>()
  private readonly events = new EventEmitter<{ event: [hash: ContentHash, event: DownloadEvent] }>()
  private readonly aborts = new AbortController()

  constructor(private readonly peer: Peer) {}

  /** Starts a download, or returns the one already running for `hash`. */
  start(hash: ContentHash, path: string, options: StartOptions = {}): { started: boolean } {
    const current = this.byHash.get(hash)
    if (current && !current.final) return { started: false }
    const download = this.peer.download(hash, {
      to: path,
      signal: this.aborts.signal,
      providerTimeout: options.providerTimeout,
    })
    const tracked: Tracked = { download, path }
    this.byHash.set(hash, tracked)
    download.on('progress', (p) => {
      tracked.last = p
      this.events.emit('event', hash, progressEvent(p))
    })
    download.done.then(
      (result) => this.finish(hash, tracked, { type: 'done', result: toGetResult(result) }),
      (err) => this.finish(hash, tracked, { type: 'error', error: toErrorBody(err) }),
    )
    return { started: true }
  }

  has(hash: ContentHash): boolean {
    return this.byHash.has(hash)
  }

  /** Where the download of `hash` stands: its last progress, or how it ended. */
  snapshot(hash: ContentHash): DownloadEvent | undefined {
    const t = this.byHash.get(hash)
    if (!t) return undefined
    if (t.final) return t.final
    const s = t.download.status()
    return t.last
      ? progressEvent(t.last)
      : { type: 'progress', hash, bytes: s.bytes, size: s.size, rate: 0, sources: [] }
  }

  /** Calls `listener` with every event of `hash` from now on; returns the unsubscribe function. */
  subscribe(hash: ContentHash, listener: (event: DownloadEvent) => void): () => void {
    const fn = (h: ContentHash, e: DownloadEvent) => {
      if (h === hash) listener(e)
    }
    this.events.on('event', fn)
    return () => this.events.off('event', fn)
  }

  /** Aborts every running download. */
  close(): void {
    this.aborts.abort()
    this.events.removeAllListeners()
  }

  private finish(hash: ContentHash, tracked: Tracked, event: DownloadEvent): void {
    tracked.final = event
    this.events.emit('event', hash, event)
  }
}

export function toGetResult(r: DownloadResult): GetResult {
  return {
    hash: r.hash,
    path: r.path,
    size: r.size,
    verified: r.verified,
    elapsedMs: r.elapsedMs,
    sources: r.sources.map((s) => ({ id: s.id, bytes: s.bytes })),
  }
}

export function toErrorBody(err: unknown): ApiErrorBody {
  const e = err as Error | undefined
  return { name: e?.name ?? 'Error', message: e?.message ?? String(err) }
}

function progressEvent(p: DownloadProgress): DownloadEvent {
  return {
    type: 'progress',
    hash: p.hash,
    bytes: p.bytes,
    size: p.size,
    rate: p.rate,
    eta: p.eta,
    sources: p.sources.map((s) => ({ id: s.id, bytes: s.bytes })),
  }
}
