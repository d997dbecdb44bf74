import { chunkRange, equalBytes, hashLeafAsync, leafAt } from '@peerkit/content'
import {
  AbortError,
  type CancelOptions,
  type Clock,
  type ContentHash,
  concatBytes,
  type Download,
  type DownloadEvents,
  type DownloadOptions,
  type DownloadProgress,
  type DownloadResult,
  type DownloadState,
  type DownloadStatus,
  every,
  type Network,
  NotFoundError,
  type PeerId,
  type PeerRef,
  PeerUnreachableError,
  ProtocolError,
  type Random,
  type TimerHandle,
} from '@peerkit/core'
import { EventEmitter } from 'eventemitter3'
import type { ByteRate } from './byte-rate.js'
import { ChunkPicker, formatRanges } from './chunk-picker.js'
import { resolve as resolvePath, rm } from './host-files.js'
import { type ExpectedFile, fetchManifest, type Manifest, reasonOf } from './manifest.js'
import { TRANSFER_PROTOCOL } from './messages.js'
import type { ParsedTransferOptions } from './options.js'
import { PartFile } from './part-file.js'
import { RateMeter } from './rate-meter.js'
import { Source } from './source.js'

/** Bytes in flight to one provider are capped here too (2 requests at least): 4 MiB chunks get a window of 2. */
const MAX_IN_FLIGHT_BYTES_PER_PEER = 8 * 1024 * 1024
/** While every provider is gone, providers are asked for again after this long, doubling up to PROVIDER_RETRY_MAX. */
export const PROVIDER_RETRY_MIN = 1000
export const PROVIDER_RETRY_MAX = 60_000
/** Drop reasons of a provider that went away (and may come back), not one that lacks the file or lied. */
const GONE = /^(disconnected|unreachable|stalled)/

export interface DownloadContext {
  network: Network
  clock: Clock
  random: Random
  self: PeerId
  options: ParsedTransferOptions
  /** Start queued: nothing runs until `admit()` (the transfer's queue calls it). */
  queued?: boolean
  /** Called when the download pauses, asks to resume, or settles, so a queue can move on. */
  onChange?: () => void
  /** The byte rate all downloads together may request at (the transfer's `downloadRate`). */
  rate?: ByteRate
}

/**
 * One multi-source download (see the package README for the algorithm):
 * learns the leaf list from a provider and checks it against the hash, then
 * fetches chunks from every usable provider in parallel, verifies each one
 * before writing it to `<to>.part`, and renames the file into place once
 * every chunk is verified.
 */
export class ChunkDownload extends EventEmitter<DownloadEvents> implements Download {
  readonly [Symbol.toStringTag] = '@peerkit/transfer:ChunkDownload'
  readonly done: Promise<DownloadResult>
  readonly path: string
  private state: DownloadState = 'running'
  private readonly sources = new Map<PeerId, Source>()
  private readonly ac = new AbortController()
  private readonly startedAt: number
  private failure: Error | undefined
  private providersEnded = false
  private wakers: Array<() => void> = []
  private manifest: Manifest | undefined
  private picker: ChunkPicker | undefined
  private part: PartFile | undefined
  private finishAll: { resolve: () => void; reject: (err: Error) => void } | undefined
  private readonly writes = new Set<Promise<void>>()
  private inFlight = 0
  private bytes = 0
  private resumedChunks = 0
  private fetchedChunks = 0
  private readonly meter = new RateMeter()
  private lastEmit = Number.NEGATIVE_INFINITY
  private lastEmittedBytes = -1
  /**
   * The pump's wake-up timers. Only `pump()` arms, moves or clears them, from
   * the one clock reading it decided with; their callbacks only forget their
   * handle and run the pump, which decides again. So no decision rests on a
   * second reading of the clock (a millisecond may tick between two readings,
   * and a real timer may fire a millisecond early). `rest`: the earliest end
   * of a rest (a source that refused a request); `noProvider`: the deadline
   * of a download left with no usable source.
   */
  private readonly wakeups: Record<'rest' | 'noProvider', { at: number; handle: TimerHandle } | undefined> = {
    rest: undefined,
    noProvider: undefined,
  }
  /** When the pump first found no usable source, nothing in flight and the providers still open. */
  private noProviderSince: number | undefined
  private nextOrder = 0
  /** Waiting for a slot in the transfer's queue. */
  private queued: boolean
  private paused = false
  /** Set by `cancel()`: the state becomes `cancelled` and the `.part` goes unless kept. */
  private cancelled: CancelOptions | undefined
  /** Asks for providers again while every provider is gone. */
  private readonly findProviders: ((signal: AbortSignal) => DownloadOptions['providers']) | undefined
  /** The next time providers are asked for again, while waiting. */
  private requery: { at: number; handle: TimerHandle } | undefined
  private requeryDelay = PROVIDER_RETRY_MIN
  /** The last progress (start, resume, manifest, a verified chunk): the wait for providers counts from here. */
  private progressAt: number
  /**
   * When every provider was found gone; cleared by progress (the manifest, a
   * verified chunk), pause or resume, not by a provider taken back that has
   * not delivered yet (so the state does not flicker while one is retried).
   */
  private waitingSince: number | undefined
  /** Verified chunks waiting for the disk; past this, no new requests go out (a slow disk slows the download). */
  private readonly maxPendingWrites: number
  /** Requests in flight per provider allowed by the chunk size (see MAX_IN_FLIGHT_BYTES_PER_PEER). */
  private windowCap = Number.POSITIVE_INFINITY
  /** What the caller knows of the file (the search hit's size and chunk size), checked against each manifest. */
  private readonly expected: ExpectedFile

  constructor(
    readonly hash: ContentHash,
    options: DownloadOptions,
    private readonly ctx: DownloadContext,
  ) {
    super()
    this.path = resolvePath(options.to)
    this.expected = { size: options.size, chunkSize: options.chunkSize }
    this.startedAt = ctx.clock.now()
    this.maxPendingWrites = Math.max(4, 2 * ctx.options.maxInFlightPerPeer)
    this.queued = ctx.queued === true
    this.progressAt = this.startedAt
    const given = options.providers
    this.findProviders = options.findProviders ?? (Array.isArray(given) ? () => given : undefined)
    const signal = options.signal
    const onAbort = () => this.fail(new AbortError(`download of ${hash} aborted`, { cause: signal?.reason }))
    if (signal?.aborted) onAbort()
    else signal?.addEventListener('abort', onAbort, { once: true })
    this.done = Promise.resolve()
      .then(() => this.run(options.providers))
      .finally(() => signal?.removeEventListener('abort', onAbort))
    this.done.catch(() => {}) // the caller may not listen; never an unhandled rejection
  }

  status(): DownloadStatus {
    const status: DownloadStatus = {
      hash: this.hash,
      path: this.path,
      bytes: this.bytes,
      size: this.manifest?.size ?? 0,
      state: this.state,
    }
    if (this.state === 'running') {
      if (this.queued) status.state = 'queued'
      else if (this.paused) status.state = 'paused'
      else if (this.isWaiting()) {
        status.state = 'waiting'
        status.reason = this.waitingReason()
      }
    } else if (this.state === 'failed' && this.failure) status.reason = this.failure.message
    return status
  }

  /** Stops requesting chunks; in-flight requests are abandoned (their chunks go back to the picker). The `.part` stays. */
  pause(): void {
    // Every chunk is verified: the download is only being put in place, so it is as good as done (no 'paused' at 100 %).
    if (this.state !== 'running' || this.paused || this.picker?.finished) return
    this.paused = true
    for (const s of this.sources.values())
      for (const c of s.requests.values()) c.abort(new AbortError('download paused'))
    this.arm('rest', Number.POSITIVE_INFINITY, 0)
    this.arm('noProvider', Number.POSITIVE_INFINITY, 0)
    this.stopRequery()
    this.noProviderSince = undefined
    this.waitingSince = undefined
    this.part?.checkpoint().catch((err: Error) => this.fail(err))
    this.ctx.onChange?.()
    this.noteState()
  }

  /** Continues a paused download (queued first when the transfer has no free slot). */
  resume(): void {
    if (this.state !== 'running' || !this.paused) return
    this.paused = false
    this.queued = true
    if (this.ctx.onChange) this.ctx.onChange()
    else this.admit()
    this.noteState()
  }

  /** Lets a queued download run (called by the transfer's queue). */
  admit(): void {
    if (this.state !== 'running' || !this.queued) return
    this.queued = false
    this.progressAt = this.ctx.clock.now()
    this.waitingSince = undefined
    this.requeryDelay = PROVIDER_RETRY_MIN
    this.wake()
    this.pump()
    this.noteState()
  }

  /** The state last told through the `state` event. */
  private toldState: DownloadStatus['state'] | undefined

  /** Emits `state` when the state differs from the one last emitted. */
  private noteState(): void {
    const status = this.status()
    if (status.state === this.toldState) return
    this.toldState = status.state
    this.emit('state', status)
  }

  /** True while the download takes a slot in the transfer's queue. */
  get active(): boolean {
    return this.state === 'running' && !this.queued && !this.paused
  }

  /** Ends the download: `done` rejects with `AbortError`, state `cancelled`; the `.part` is removed unless `keepPart`. */
  cancel(options: CancelOptions = {}): void {
    if (this.failure || this.state !== 'running') return
    this.cancelled = options
    this.fail(new AbortError(`download of ${this.hash} cancelled`))
  }

  /** Stops the download (as an abort); the `.part` file stays for a resume. */
  stop(reason = 'download stopped'): void {
    this.fail(new AbortError(reason))
  }

  /** Waits while the download is queued or paused (or until it fails). */
  private async held(): Promise<void> {
    while ((this.queued || this.paused) && !this.failure) await new Promise<void>((r) => this.wakers.push(r))
  }

  private async run(providers: DownloadOptions['providers']): Promise<DownloadResult> {
    const { clock, options } = this.ctx
    const timers: Array<{ stop(): void }> = []
    try {
      await this.held()
      if (this.failure) throw this.failure
      this.noteState()
      void this.intake(providers)
      const manifest = await this.fetchManifest()
      this.manifest = manifest
      this.progressAt = clock.now()
      this.waitingSince = undefined
      await this.held()
      this.windowCap = Math.max(2, Math.floor(MAX_IN_FLIGHT_BYTES_PER_PEER / manifest.chunkSize))
      this.part = await PartFile.open({ path: this.path, hash: this.hash, ...manifest })
      if (this.failure) throw this.failure
      const part = this.part
      this.resumedChunks = part.resumed.length
      for (const i of part.resumed) this.bytes += chunkRange(i, manifest.size, manifest.chunkSize).length
      this.picker = new ChunkPicker(manifest.count, part.resumed, {
        endgameDuplicates: options.endgame ? options.endgameDuplicates : 0,
      })
      timers.push(every(clock, options.progressInterval, () => this.progressTick()))
      timers.push(every(clock, options.checkpointInterval, () => part.checkpoint()))
      if (options.providerSearchInterval > 0)
        timers.push(every(clock, options.providerSearchInterval, () => this.discover()))
      await new Promise<void>((resolve, reject) => {
        this.finishAll = { resolve, reject }
        this.pump()
      })
      if (this.failure) throw this.failure
      await part.finish()
      this.state = 'done'
      this.emitProgress()
      return {
        hash: this.hash,
        path: this.path,
        size: manifest.size,
        verified: true,
        elapsedMs: clock.now() - this.startedAt,
        sources: [...this.sources.values()]
          .filter((s) => s.bytes > 0)
          .map((s) => ({ id: s.id, bytes: s.bytes })),
        resumedChunks: this.resumedChunks,
        fetchedChunks: this.fetchedChunks,
      }
    } catch (err) {
      const error = this.failure ?? (err as Error)
      this.state = this.cancelled ? 'cancelled' : error.name === 'AbortError' ? 'aborted' : 'failed'
      this.failure = error
      await Promise.allSettled([...this.writes])
      await this.part?.close()
      if (this.part && this.cancelled && !this.cancelled.keepPart) {
        await rm(this.part.partPath, { force: true })
        await rm(this.part.sidecarPath, { force: true })
      }
      throw error
    } finally {
      this.stopRequery()
      for (const t of timers) t.stop()
      this.arm('rest', Number.POSITIVE_INFINITY, 0)
      this.arm('noProvider', Number.POSITIVE_INFINITY, 0)
      if (!this.ac.signal.aborted) this.ac.abort(new AbortError('download finished'))
      this.wake()
      this.ctx.onChange?.()
      this.noteState()
    }
  }

  /** Ends the download with `err` (the first failure wins). */
  private fail(err: Error): void {
    if (this.failure || this.state !== 'running') return
    this.failure = err
    this.ac.abort(err)
    this.finishAll?.reject(err)
    this.wake()
  }

  // --- providers -----------------------------------------------------------

  private async intake(providers: DownloadOptions['providers'], again = false): Promise<void> {
    try {
      for await (const ref of providers) {
        if (this.ac.signal.aborted) break
        this.addSource(ref, again)
      }
    } catch {
      // A failing provider source ends like an exhausted one.
    } finally {
      this.providersEnded = true
      this.wake()
      if (this.picker) this.pump()
    }
  }

  /** `again`: found by asking for providers again, so a provider that had gone (not one that lied) is taken back. */
  private addSource(ref: PeerRef, again = false): void {
    if (!ref || typeof ref.id !== 'string' || ref.id === this.ctx.self) return
    const known = this.sources.get(ref.id)
    const back = again && known?.dropped !== undefined && !known.dropped.startsWith('sent bad data')
    if (known && !back) {
      if (!known.dropped && ref.addresses.length > 0) this.ctx.network.learn(ref)
      return
    }
    if (ref.addresses.length > 0) this.ctx.network.learn(ref)
    // Random order among providers not yet measured, so load spreads.
    const source = new Source(
      ref,
      this.nextOrder++ + this.ctx.random.next(),
      this.ctx.options.maxInFlightPerPeer,
    )
    if (known) source.bytes = known.bytes
    this.sources.set(ref.id, source)
    // Dial now, while the manifest is fetched elsewhere: the first chunk request finds the connection open.
    this.ctx.network.connect(ref, { signal: this.ac.signal }).catch(() => {}) // a failed dial shows in the first request, which drops the source with its reason
    this.emit('source:added', ref)
    this.wake()
    if (this.picker) this.pump()
  }

  private drop(source: Source, reason: string): void {
    if (source.dropped) return
    source.dropped = reason
    for (const c of source.requests.values()) c.abort(new AbortError(`source dropped: ${reason}`))
    this.emit('source:dropped', { peer: source.id, reason })
  }

  /**
   * Waiting for providers is allowed: a provider went away (it may come back,
   * or others may appear) and providers can be asked for again. Providers that
   * all said they lack the file, or lied, end the download at once.
   */
  private canWait(): boolean {
    if (this.ctx.options.providerWait === 0 || this.findProviders === undefined) return false
    for (const s of this.sources.values()) if (s.dropped === undefined || GONE.test(s.dropped)) return true
    return false
  }

  private isWaiting(): boolean {
    return this.waitingSince !== undefined
  }

  private waitingReason(): string {
    const now = this.ctx.clock.now()
    const all = [...this.sources.values()]
    const gone = all.map((s) => `${s.id.slice(0, 8)}…: ${s.dropped ?? 'no answer yet'}`).join('; ')
    const next = this.requery ? `next in ${Math.ceil((this.requery.at - now) / 1000)} s` : 'now'
    const left = Math.max(0, Math.ceil((this.progressAt + this.ctx.options.providerWait - now) / 1000))
    return `every provider is gone (${all.length}: ${gone}); looking for providers again (${next}), giving up in ${left} s (transfer.providerWait)`
  }

  /** While waiting, and once the last search for providers has ended, asks again after the backoff delay. */
  private scheduleRequery(now: number): void {
    if (this.requery || !this.providersEnded || !this.findProviders || this.failure || this.paused) return
    const find = this.findProviders
    const at = now + this.requeryDelay
    this.requeryDelay = Math.min(PROVIDER_RETRY_MAX, this.requeryDelay * 2)
    const handle = this.ctx.clock.setTimeout(() => {
      this.requery = undefined
      if (this.failure || this.paused || this.state !== 'running') return
      this.providersEnded = false
      let found: DownloadOptions['providers']
      try {
        found = find(this.ac.signal)
      } catch {
        found = [] // a failing search counts as one that found nobody; the next comes after the backoff
      }
      void this.intake(found, true)
    }, at - now)
    this.requery = { at, handle }
  }

  /**
   * While the download runs with fewer than `maxPeers` usable providers, asks
   * for providers again (every `providerSearchInterval`, one search at a
   * time); those found join at once. Waiting for providers has its own
   * backoff (`scheduleRequery`).
   */
  private discover(): void {
    const find = this.findProviders
    if (!find || this.failure || this.state !== 'running' || this.queued || this.paused) return
    if (!this.providersEnded || this.waitingSince !== undefined || this.requery) return
    if (this.usable().length >= this.ctx.options.maxPeers) return
    this.providersEnded = false
    let found: DownloadOptions['providers']
    try {
      found = find(this.ac.signal)
    } catch {
      found = [] // a failing search found nobody; the next one comes after the interval
    }
    void this.intake(found, true)
  }

  private stopRequery(): void {
    if (this.requery) this.ctx.clock.clearTimeout(this.requery.handle)
    this.requery = undefined
  }

  private usable(): Source[] {
    return [...this.sources.values()].filter((s) => !s.dropped)
  }

  private wake(): void {
    const wakers = this.wakers
    this.wakers = []
    for (const w of wakers) w()
  }

  /** Waits until a source is added, the providers end, or the download fails; rejects after `ms`. */
  private waitForSources(ms = this.ctx.options.noProviderTimeout): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = this.ctx.clock.setTimeout(() => {
        this.wakers = this.wakers.filter((w) => w !== waker)
        reject(this.noProviderError('the file'))
      }, ms)
      const waker = () => {
        this.ctx.clock.clearTimeout(timer)
        resolve()
      }
      this.wakers.push(waker)
    })
  }

  private noProviderError(what: string): Error {
    const all = [...this.sources.values()]
    if (all.length === 0) return new NotFoundError(`no provider was found for ${this.hash}`)
    const reasons = all.map((s) => `${s.id.slice(0, 8)}…: ${s.dropped ?? 'no answer'}`).join('; ')
    const message = `no provider could supply ${what} of ${this.hash} (${all.length} tried: ${reasons})`
    const unreachable = all.some((s) => GONE.test(s.dropped ?? 'stalled'))
    return unreachable ? new PeerUnreachableError(message) : new NotFoundError(message)
  }

  // --- manifest ------------------------------------------------------------

  private async fetchManifest(): Promise<Manifest> {
    // By object: a provider taken back after it had gone is asked again.
    const tried = new Set<Source>()
    for (;;) {
      await this.held()
      if (this.failure) throw this.failure
      const source = this.usable().find((s) => !tried.has(s))
      if (source) {
        tried.add(source)
        try {
          return await this.manifestFrom(source)
        } catch (err) {
          if (this.failure) throw this.failure
          this.drop(source, reasonOf(err as Error, 'the manifest'))
          continue
        }
      }
      if (this.canWait()) {
        const now = this.ctx.clock.now()
        this.noProviderSince ??= now
        const deadline = this.progressAt + this.ctx.options.providerWait
        if (now >= deadline) throw this.noProviderError('the file')
        this.waitingSince ??= now
        this.scheduleRequery(now)
        this.noteState()
        try {
          await this.waitForSources(deadline - now)
        } finally {
          this.noProviderSince = undefined
        }
        continue
      }
      if (this.providersEnded) throw this.noProviderError('the file')
      await this.waitForSources()
    }
  }

  private manifestFrom(source: Source): Promise<Manifest> {
    return fetchManifest(this.ctx.network, source.ref, this.hash, {
      signal: this.ac.signal,
      timeout: this.ctx.options.requestTimeout,
      expected: this.expected,
    })
  }

  // --- chunks --------------------------------------------------------------

  /**
   * Hands chunks to sources with free slots, fastest first, one each per
   * round, and schedules the next wake-up: the earliest end of a rest among
   * the sources it skipped for resting, and the deadline for a download left
   * with no usable source. Everything is decided from one clock reading.
   */
  private pump(): void {
    this.fill()
    this.noteState()
  }

  /** The pump's work (see `pump`). */
  private fill(): void {
    const picker = this.picker
    if (!picker || this.failure || this.state !== 'running' || this.queued || this.paused) return
    if (picker.finished) {
      if (this.writes.size === 0) this.finishAll?.resolve()
      return
    }
    const { clock, options } = this.ctx
    const now = clock.now()
    const used = this.usable()
      .sort((a, b) => b.rate(now) - a.rate(now) || a.order - b.order)
      .slice(0, options.maxPeers)
    let wakeAt = Number.POSITIVE_INFINITY
    const rate = this.ctx.rate
    for (let progress = true; progress; ) {
      progress = false
      for (const s of used) {
        if (s.pausedUntil > now) {
          wakeAt = Math.min(wakeAt, s.pausedUntil)
          continue
        }
        if (s.inFlight >= Math.min(s.window, this.windowCap) || this.writes.size >= this.maxPendingWrites)
          continue
        // The download rate: a chunk is requested only once the bytes before it are paid for.
        const wait = rate?.wait(now) ?? 0
        if (wait > 0) {
          wakeAt = Math.min(wakeAt, now + wait)
          break
        }
        const index = picker.next(s.id)
        if (index === undefined) continue
        progress = true
        rate?.take(now, chunkRange(index, this.manifest?.size ?? 0, this.manifest?.chunkSize ?? 1).length)
        void this.fetchChunk(s, index)
      }
    }
    this.arm('rest', wakeAt, now)
    if (used.length > 0) {
      this.noProviderSince = undefined
      this.arm('noProvider', Number.POSITIVE_INFINITY, now)
      return
    }
    this.noProviderSince ??= now
    if (this.canWait()) {
      // Every provider is gone: once nothing is in flight, ask for providers again (with backoff) until the deadline.
      const deadline = this.progressAt + options.providerWait
      if (now >= deadline) {
        this.fail(this.noProviderError(`chunks ${formatRanges(picker.missing(64))}`))
        return
      }
      this.arm('noProvider', deadline, now)
      if (this.inFlight === 0 && this.writes.size === 0) {
        this.waitingSince ??= now
        this.scheduleRequery(now)
      }
      return
    }
    // No usable source: fail once nothing is left to settle and no provider can come, or at the deadline.
    const deadline = this.noProviderSince + options.noProviderTimeout
    const idle = this.inFlight === 0 && this.writes.size === 0
    if ((idle && this.providersEnded) || now >= deadline)
      this.fail(this.noProviderError(`chunks ${formatRanges(picker.missing(64))}`))
    else this.arm('noProvider', deadline, now)
  }

  /**
   * Keeps the `kind` wake-up set for time `at` (none when `at` is infinite),
   * `now` being the pump's reading. Its callback forgets it and runs the pump.
   */
  private arm(kind: 'rest' | 'noProvider', at: number, now: number): void {
    const current = this.wakeups[kind]
    if (current?.at === at) return
    if (current !== undefined) this.ctx.clock.clearTimeout(current.handle)
    this.wakeups[kind] = undefined
    if (!Number.isFinite(at)) return
    const handle = this.ctx.clock.setTimeout(() => {
      this.wakeups[kind] = undefined
      this.pump()
    }, at - now)
    this.wakeups[kind] = { at, handle }
  }

  private async fetchChunk(source: Source, index: number): Promise<void> {
    const picker = this.picker as ChunkPicker
    const manifest = this.manifest as Manifest
    const cancel = new AbortController()
    source.requests.set(index, cancel)
    source.inFlight++
    this.inFlight++
    const sentAt = this.ctx.clock.now()
    let released = false
    // The source's slot is free as soon as its answer is in: the disk write does not hold it.
    const release = () => {
      if (released) return
      released = true
      source.requests.delete(index)
      source.inFlight--
      this.inFlight--
      this.pump()
    }
    try {
      let data: Uint8Array
      try {
        data = await this.requestChunk(source, index, AbortSignal.any([this.ac.signal, cancel.signal]))
      } catch (err) {
        picker.release(index, source.id)
        if (!this.failure && !source.dropped && !cancel.signal.aborted) {
          this.onRequestError(source, err as Error, index, sentAt)
        }
        return
      }
      if (!equalBytes(await hashLeafAsync(data), leafAt(manifest.leaves, index))) {
        picker.release(index, source.id)
        this.drop(source, `sent bad data: chunk ${index} failed verification`)
        return
      }
      const { first, others } = picker.complete(index, source.id)
      for (const other of others) this.sources.get(other)?.requests.get(index)?.abort()
      if (!first || this.failure) return
      source.record(this.ctx.clock.now(), data.length)
      const write = (this.part as PartFile).write(index, data)
      this.writes.add(write)
      release()
      try {
        await write
      } catch (err) {
        this.fail(err as Error)
        return
      } finally {
        this.writes.delete(write)
      }
      this.bytes += data.length
      this.fetchedChunks++
      this.progressAt = this.ctx.clock.now()
      this.waitingSince = undefined
      this.requeryDelay = PROVIDER_RETRY_MIN
      if (this.lastEmittedBytes < 0) this.emitProgress()
      this.pump()
    } finally {
      release()
    }
  }

  /** One chunk from one source: one message, or several blocks for chunks larger than `blockSize`. */
  private async requestChunk(source: Source, index: number, signal: AbortSignal): Promise<Uint8Array> {
    const { network, options } = this.ctx
    const manifest = this.manifest as Manifest
    const { length } = chunkRange(index, manifest.size, manifest.chunkSize)
    const blocks: Promise<Uint8Array>[] = []
    for (let offset = 0; offset < length || blocks.length === 0; offset += options.blockSize) {
      const want = Math.min(options.blockSize, length - offset)
      blocks.push(
        network
          .request(
            source.ref,
            TRANSFER_PROTOCOL,
            { op: 'chunk', hash: this.hash, index, offset, length: want },
            {
              signal,
              timeout: options.requestTimeout,
            },
          )
          .then((res) => {
            if (res.op !== 'chunk' || res.data.length !== want) {
              throw new ProtocolError(
                `sent ${res.op === 'chunk' ? res.data.length : res.op} for ${want} bytes of chunk ${index}`,
              )
            }
            return res.data
          }),
      )
    }
    const parts = await Promise.all(blocks)
    return parts.length === 1 ? (parts[0] as Uint8Array) : concatBytes(...parts)
  }

  private onRequestError(source: Source, err: Error, index: number, sentAt: number): void {
    const reason = reasonOf(err, `chunk ${index}`)
    if (err.name === 'RateLimitError') {
      // The source rests; the pump (run when this request's slot is released) sets the wake-up.
      source.refused(this.ctx.clock.now())
      return
    }
    if (err.name === 'TimeoutError') {
      if (source.timedOut(sentAt) >= this.ctx.options.maxFailures) this.drop(source, reason)
      return
    }
    this.drop(source, reason)
  }

  // --- progress ------------------------------------------------------------

  private progressTick(): void {
    const now = this.ctx.clock.now()
    this.meter.sample(now, this.bytes)
    // The first progress event comes with the first verified chunk (or the chunks resumed from disk), never with 0 bytes.
    if (
      this.bytes > 0 &&
      this.bytes !== this.lastEmittedBytes &&
      now - this.lastEmit >= this.ctx.options.progressInterval * 0.9
    ) {
      this.emitProgress()
    }
  }

  private emitProgress(): void {
    const now = this.ctx.clock.now()
    const size = this.manifest?.size ?? 0
    const rate = this.meter.rate()
    const progress: DownloadProgress = {
      hash: this.hash,
      bytes: this.bytes,
      size,
      rate,
      sources: [...this.sources.values()].map((s) => ({ id: s.id, bytes: s.bytes })),
    }
    if (rate > 0) progress.eta = (size - this.bytes) / rate
    this.lastEmit = now
    this.lastEmittedBytes = this.bytes
    this.emit('progress', progress)
  }
}
