import { InvalidOptionsError, type Random } from '@peerkit/core'
import type { MemoryListener } from './memory-listener.js'

/**
 * One-way delay in milliseconds: a fixed number, uniform in `[min, max]`,
 * exponential with a `mean` (drawn from the sending peer's injected Random),
 * or a function of the two node names.
 */
export type LatencyModel =
  | number
  | { min: number; max: number }
  | { mean: number }
  | ((from: string, to: string, random: Random) => number)

/** A per-link figure: a number for every link, or a function of the two node names. */
export type LinkRate = number | ((from: string, to: string) => number)

export interface MemoryNetworkOptions {
  /** One-way delay of every frame, in ms. @default 0 */
  latency?: LatencyModel
  /** Bytes per second of each connection direction; `Infinity` for no limit. @default Infinity */
  bandwidth?: LinkRate
  /** Probability in [0, 1] that a message is dropped (control frames never are). @default 0 */
  loss?: LinkRate
}

/** How one frame travels: decided when it is sent. */
export interface Link {
  latency: number
  bandwidth: number
  lost: boolean
}

export interface MemoryNetworkStats {
  /** Messages sent (dropped ones included). */
  messages: number
  /** Bytes of those messages. */
  bytes: number
  /** Messages dropped by loss. */
  lost: number
  /** Frames dropped by a partition. */
  blocked: number
}

const GLOBAL_KEY = Symbol.for('@peerkit/transport-memory:globalNetwork')

/**
 * The hub that memory transports meet in: listeners by name, and the link
 * model (latency, bandwidth, loss, partitions) that every frame between two
 * nodes goes through. A node is named by its first listener (`memory://NAME`);
 * a node that only dials gets an `anon-N` name.
 *
 * Every delay runs on the sending transport's injected `Clock`, and every
 * random draw uses its injected `Random`, so a simulation on a virtual clock
 * with a seed is reproducible.
 */
export class MemoryNetwork {
  readonly [Symbol.toStringTag] = '@peerkit/transport-memory:MemoryNetwork'
  private readonly bound = new Map<string, MemoryListener>()
  private partitions: Array<[ReadonlySet<string>, ReadonlySet<string>]> = []
  private latencyModel: LatencyModel = 0
  private bandwidthModel: LinkRate = Number.POSITIVE_INFINITY
  private lossModel: LinkRate = 0
  private counter = 0
  private readonly counts: MemoryNetworkStats = { messages: 0, bytes: 0, lost: 0, blocked: 0 }
  /**
   * @internal Whether how a frame travels depends on the two nodes' names: a partition, or a model
   * that is a function of them. Without, a connection sending a frame reads no name (the receiving
   * node's transport is one object less to read at every message).
   */
  byName = false

  constructor(options: MemoryNetworkOptions = {}) {
    if (options.latency !== undefined) this.setLatency(options.latency)
    if (options.bandwidth !== undefined) this.setBandwidth(options.bandwidth)
    if (options.loss !== undefined) this.setLoss(options.loss)
  }

  /** The process-wide hub, used by memory transports when no `MEMORY_NETWORK` is registered. */
  static get global(): MemoryNetwork {
    const g = globalThis as unknown as Record<symbol, MemoryNetwork | undefined>
    let network = g[GLOBAL_KEY]
    if (!network) {
      network = new MemoryNetwork()
      g[GLOBAL_KEY] = network
    }
    return network
  }

  setLatency(model: LatencyModel): void {
    if (typeof model === 'number') checkNumber('latency', model, 0)
    else if (typeof model === 'object' && model !== null && 'mean' in model)
      checkNumber('latency.mean', model.mean, 0)
    else if (typeof model === 'object' && model !== null && 'min' in model) {
      checkNumber('latency.min', model.min, 0)
      checkNumber('latency.max', model.max, model.min)
    } else if (typeof model !== 'function') {
      throw new InvalidOptionsError(
        'latency must be ms, { min, max }, { mean } or a function (from, to, random) => ms',
      )
    }
    this.latencyModel = model
    this.named()
  }

  setBandwidth(model: LinkRate): void {
    if (typeof model === 'number') {
      if (!(model > 0))
        throw new InvalidOptionsError(`bandwidth must be > 0 bytes/s or Infinity (got ${model})`)
    } else if (typeof model !== 'function') {
      throw new InvalidOptionsError('bandwidth must be bytes/s or a function (from, to) => bytes/s')
    }
    this.bandwidthModel = model
    this.named()
  }

  setLoss(model: LinkRate): void {
    if (typeof model === 'number') {
      if (!(model >= 0 && model <= 1)) throw new InvalidOptionsError(`loss must be in [0, 1] (got ${model})`)
    } else if (typeof model !== 'function') {
      throw new InvalidOptionsError('loss must be a probability or a function (from, to) => probability')
    }
    this.lossModel = model
    this.named()
  }

  /**
   * Cuts every link between a node named in `a` and one named in `b`, until
   * `heal()`: dials across fail with `PeerUnreachableError`, and frames across
   * (messages and closes) are dropped, so open connections go silent, as
   * over a real partition; the overlays find out through their timeouts.
   */
  partition(a: readonly string[], b: readonly string[]): void {
    this.partitions.push([new Set(a), new Set(b)])
    this.named()
  }

  /** Removes every partition. */
  heal(): void {
    this.partitions = []
    this.named()
  }

  /** Sets `byName` after a change of the models or partitions. */
  private named(): void {
    this.byName =
      this.partitions.length > 0 ||
      typeof this.latencyModel === 'function' ||
      typeof this.bandwidthModel === 'function' ||
      typeof this.lossModel === 'function'
  }

  isPartitioned(from: string, to: string): boolean {
    for (const [a, b] of this.partitions) {
      if ((a.has(from) && b.has(to)) || (b.has(from) && a.has(to))) return true
    }
    return false
  }

  /**
   * The node listening at `name` vanishes without a goodbye: its listeners
   * go, its own connections close at once (with `PeerUnreachableError`), and
   * the other ends close when the reset reaches them, one latency later.
   * Returns false when nothing listens at `name`.
   */
  kill(name: string): boolean {
    const listener = this.bound.get(name)
    if (!listener) return false
    listener.endpoint.kill()
    return true
  }

  /** Names listened on now. */
  names(): string[] {
    return [...this.bound.keys()]
  }

  has(name: string): boolean {
    return this.bound.has(name)
  }

  /** Totals since the hub was made. */
  stats(): MemoryNetworkStats {
    return { ...this.counts }
  }

  /** A name nothing listens on yet: `node-1`, `node-2` … */
  uniqueName(prefix = 'node'): string {
    for (;;) {
      const name = `${prefix}-${++this.counter}`
      if (!this.bound.has(name)) return name
    }
  }

  /** A fresh connection id. */
  nextId(): string {
    return `m${++this.counter}`
  }

  /** @internal */
  bind(name: string, listener: MemoryListener): void {
    if (this.bound.has(name)) throw new InvalidOptionsError(`memory://${name} is already in use`)
    this.bound.set(name, listener)
  }

  /** @internal */
  unbind(name: string, listener: MemoryListener): void {
    if (this.bound.get(name) === listener) this.bound.delete(name)
  }

  /** @internal */
  lookup(name: string): MemoryListener | undefined {
    return this.bound.get(name)
  }

  /** One-way delay from `from` to `to`, in ms. */
  latency(from: string, to: string, random: Random): number {
    const m = this.latencyModel
    let ms: number
    if (typeof m === 'number') ms = m
    else if (typeof m === 'function') ms = m(from, to, random)
    else if ('mean' in m) ms = m.mean === 0 ? 0 : -m.mean * Math.log(1 - random.next())
    else ms = m.min + (m.max - m.min) * random.next()
    return Number.isFinite(ms) && ms > 0 ? ms : 0
  }

  bandwidth(from: string, to: string): number {
    const m = this.bandwidthModel
    const b = typeof m === 'number' ? m : m(from, to)
    return b > 0 ? b : Number.POSITIVE_INFINITY
  }

  /** How a frame of `size` bytes from `from` to `to` travels; control frames are never lost, except to a partition. */
  link(from: string, to: string, random: Random, size: number, control: boolean): Link {
    const latency = this.latency(from, to, random)
    const bandwidth = this.bandwidth(from, to)
    return { latency, bandwidth, lost: this.lose(from, to, random, size, control) }
  }

  /**
   * @internal The part of `link` after the latency and bandwidth: whether the
   * frame is dropped (by a partition, or by loss when it is a message, which
   * draws from `random`), counted in the stats.
   */
  lose(from: string, to: string, random: Random, size: number, control: boolean): boolean {
    let lost = false
    if (this.partitions.length > 0 && this.isPartitioned(from, to)) {
      lost = true
      this.counts.blocked++
    } else if (!control) {
      const m = this.lossModel
      const p = typeof m === 'number' ? m : m(from, to)
      if (p > 0 && random.next() < p) {
        lost = true
        this.counts.lost++
      }
    }
    if (!control) {
      this.counts.messages++
      this.counts.bytes += size
    }
    return lost
  }
}

function checkNumber(field: string, value: unknown, min: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new InvalidOptionsError(`${field} must be a finite number >= ${min} (got ${JSON.stringify(value)})`)
  }
}
