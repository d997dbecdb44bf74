import type {
  ContentHash,
  Download,
  DownloadProgress,
  DownloadResult,
  DownloadState,
  Peer,
} from '@peerkit/core'
import { EventEmitter } from 'eventemitter3'
import type { ApiErrorBody, DownloadEvent, GetResult } from './api-types.js'
import { OutputError } from './errors.js'
import { placeOutput, stagingPath } from './output-path.js'

/** One file a download is saved to. */
interface Output {
  hash: ContentHash
  path: string
  force: boolean
  /** How it ended for this file: done (with this path) or error. */
  final?: DownloadEvent
}

/** One download of a hash, written to a staging file, then to every output asked for. */
interface Running {
  download: Download
  /** Cancels this download alone. */
  abort: AbortController
  staging: string
  outputs: Output[]
  last?: DownloadProgress
  final?: DownloadEvent
}

export interface StartOptions {
  providerTimeout?: number
  /** Replace a file at the output (checked before, and again when the file is put in place). */
  force?: boolean
  /** The file's size and chunk size from a search hit, when known: the download checks the manifest against them. */
  size?: number
  chunkSize?: number
}

export type DownloadListener = (hash: ContentHash, event: DownloadEvent, out: string | undefined) => void

/**
 * The downloads a node runs for its API clients. One download per hash and
 * one download per output path: a path already being written by a download
 * is refused; a second output for a hash that is downloading joins it and
 * gets its own copy when the file is verified. A download goes to
 * `OUT.peerkit` and is put at its output only once verified, never over a
 * file that is there unless asked (`force`).
 */
export class DownloadTracker {
  private readonly byHash = new Map<ContentHash, Running>()
  private readonly byPath = new Map<string, Output>()
  private readonly events = new EventEmitter<{ event: Parameters<DownloadListener> }>()
  private readonly aborts = new AbortController()

  constructor(private readonly peer: Peer) {}

  /**
   * Starts a download of `hash` to `path`, joins the one running for `hash`
   * (another output gets a copy), or returns `started: false` when that
   * exact download runs already. Throws `OutputError` when `path` is the
   * output of a running download of another hash.
   */
  start(hash: ContentHash, path: string, options: StartOptions = {}): { started: boolean } {
    const busy = this.byPath.get(path)
    if (busy && !busy.final) {
      if (busy.hash === hash) return { started: false }
      throw new OutputError(
        `${path} is the output of the running download of ${busy.hash} — wait for it to end (peerkit status), or choose another --out`,
      )
    }
    const output: Output = { hash, path, force: options.force ?? false }
    this.byPath.set(path, output)
    const current = this.byHash.get(hash)
    if (current && !current.final) {
      current.outputs.push(output)
      return { started: true }
    }
    const staging = stagingPath(path)
    const abort = new AbortController()
    const download = this.peer.download(hash, {
      to: staging,
      signal: AbortSignal.any([this.aborts.signal, abort.signal]),
      providerTimeout: options.providerTimeout,
      size: options.size,
      chunkSize: options.chunkSize,
    })
    const running: Running = { download, abort, staging, outputs: [output] }
    this.byHash.set(hash, running)
    download.on('state', (st) => {
      const reason = st.reason === undefined ? {} : { reason: st.reason }
      this.events.emit('event', hash, { type: 'state', hash, state: st.state, ...reason }, undefined)
    })
    download.on('progress', (p) => {
      running.last = p
      this.events.emit('event', hash, progressEvent(p), undefined)
    })
    download.done.then(
      (result) => this.place(running, result),
      (err) => this.fail(running, err),
    )
    return { started: true }
  }

  /** The output path the user asked for, for a path the transfer writes to (its staging file). */
  outputOf(transferPath: string): string | undefined {
    for (const r of this.byHash.values()) if (r.staging === transferPath) return r.outputs[0]?.path
    return undefined
  }

  /**
   * Where the download of `hash` stands: its last progress, or how it ended
   * for `out` (for its first output when `out` is not given).
   */
  snapshot(hash: ContentHash, out?: string): DownloadEvent | undefined {
    const r = this.byHash.get(hash)
    const output = out === undefined ? r?.outputs[0] : this.byPath.get(out)
    if (!r || !output || output.hash !== hash) return undefined
    if (output.final) return output.final
    if (r.final) return r.final.type === 'error' ? r.final : undefined
    const s = r.download.status()
    return r.last
      ? progressEvent(r.last)
      : { type: 'progress', hash, bytes: s.bytes, size: s.size, rate: 0, sources: [] }
  }

  /**
   * Calls `listener` with every progress event of `hash` from now on, and
   * with the final event of output `out` (of the first output when not given).
   */
  subscribe(
    hash: ContentHash,
    out: string | undefined,
    listener: (event: DownloadEvent) => void,
  ): () => void {
    const first = this.byHash.get(hash)?.outputs[0]?.path
    const fn: DownloadListener = (h, e, o) => {
      if (h !== hash) return
      if (o === undefined || o === (out ?? first)) listener(e)
    }
    this.events.on('event', fn)
    return () => this.events.off('event', fn)
  }

  /**
   * Every event of every download from now on: progress (with no output), and
   * how it ended for each output. Returns the function that unsubscribes.
   */
  subscribeAll(listener: DownloadListener): () => void {
    this.events.on('event', listener)
    return () => this.events.off('event', listener)
  }

  /** Pauses the running download of `hash` (its `.part` stays); false when no download of `hash` runs. */
  pause(hash: ContentHash): boolean {
    const r = this.running(hash)
    r?.download.pause()
    return r !== undefined
  }

  /** Resumes the paused download of `hash`; false when no download of `hash` runs. */
  resume(hash: ContentHash): boolean {
    const r = this.running(hash)
    r?.download.resume()
    return r !== undefined
  }

  /**
   * Cancels the running download of `hash` (every output of it ends with an
   * error named AbortError; its `.part` is removed unless `keepPart`); false
   * when no download of `hash` runs.
   */
  cancel(hash: ContentHash, keepPart = false): boolean {
    const r = this.running(hash)
    if (!r) return false
    r.download.cancel({ keepPart })
    return true
  }

  /** Forgets every finished download (done, failed, cancelled): here and in the transfer. Answers how many. */
  clearFinished(): number {
    let cleared = 0
    for (const [hash, r] of this.byHash) {
      if (!r.final || r.outputs.some((o) => !o.final)) continue
      this.byHash.delete(hash)
      for (const o of r.outputs) if (this.byPath.get(o.path) === o) this.byPath.delete(o.path)
      cleared++
    }
    // Only ChunkTransfer keeps finished downloads; another Transfer may not have the method.
    const transfer = this.peer.transfer as { clearFinished?: () => unknown }
    transfer.clearFinished?.()
    return cleared
  }

  /** The state of the download of `hash` as the transfer has it. */
  state(hash: ContentHash): DownloadState | undefined {
    return this.byHash.get(hash)?.download.status().state
  }

  private running(hash: ContentHash): Running | undefined {
    const r = this.byHash.get(hash)
    return r && !r.final && !r.abort.signal.aborted ? r : undefined
  }

  /** Aborts every running download. */
  close(): void {
    this.aborts.abort()
    this.events.removeAllListeners()
  }

  /**
   * Copies the verified file to every output but the first, moves it to the
   * first, then copies it to any output that joined meanwhile; the download
   * ends (no more joining) once every output has its outcome.
   */
  private async place(running: Running, result: DownloadResult): Promise<void> {
    const [first] = running.outputs as [Output]
    const put = async (output: Output, from: string, keep: boolean) => {
      try {
        await placeOutput(from, output.path, output.force, keep)
        this.settle(output, { type: 'done', result: { ...toGetResult(result), path: output.path } })
      } catch (err) {
        this.settle(output, { type: 'error', error: toErrorBody(err) })
      }
    }
    const waiting = () => running.outputs.find((o) => o !== first && !o.final)
    for (let o = waiting(); o; o = waiting()) await put(o, running.staging, true)
    await put(first, running.staging, false)
    const from = first.final?.type === 'done' ? first.path : running.staging
    for (let o = waiting(); o; o = waiting()) await put(o, from, true)
    running.final = first.final
  }

  private fail(running: Running, err: unknown): void {
    running.final = { type: 'error', error: toErrorBody(err) }
    for (const output of running.outputs) this.settle(output, running.final)
  }

  private settle(output: Output, event: DownloadEvent): void {
    output.final = event
    this.events.emit('event', output.hash, event, output.path)
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
