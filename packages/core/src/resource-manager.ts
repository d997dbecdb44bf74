import { RateLimitError } from './errors.js'
import type { Connection } from './transport.js'

/**
 * What a transport's connection may offer beyond the `Connection` contract:
 * reading that can be paused (backpressure on the read side), and a report of
 * the bytes it holds, into a `MemoryScope`. The Network uses whichever a
 * connection has.
 */
export interface ManagedConnection {
  /** Stops delivering messages (and reading the socket) until `resumeReading`. */
  pauseReading?(): void
  resumeReading?(): void
  /** Where to report the bytes the connection holds (buffers, a partly received message). */
  useMemoryScope?(scope: MemoryScope): void
}

/** The connection's optional flow-control and accounting methods. */
export function managed(connection: Connection): ManagedConnection {
  return connection as unknown as ManagedConnection
}

/**
 * The memory one connection holds, in two parts: what its transport buffers
 * (set whole by the transport) and what its Mux queues (added and taken).
 */
export class MemoryScope {
  private transportBytes = 0
  private muxBytes = 0
  private released = false

  constructor(
    private readonly manager: ResourceManager,
    /** Who it is, in messages: `peer … (address)`. */
    readonly name: string,
    private readonly onExceeded: (err: RateLimitError) => void,
  ) {}

  get bytes(): number {
    return this.transportBytes + this.muxBytes
  }

  get closed(): boolean {
    return this.released
  }

  /** The transport holds `bytes` now. */
  setTransport(bytes: number): void {
    if (this.released) return
    const delta = bytes - this.transportBytes
    this.transportBytes = bytes
    this.manager.adjust(delta)
  }

  /** The Mux queued (`delta` > 0) or let go of (`delta` < 0) bytes. */
  addMux(delta: number): void {
    if (this.released) return
    this.muxBytes += delta
    this.manager.adjust(delta)
  }

  /** The connection closed: its bytes no longer count. */
  release(): void {
    if (this.released) return
    this.released = true
    this.manager.remove(this)
  }

  /** @internal Released for going over the budget; the owner closes the connection. */
  exceed(err: RateLimitError): void {
    this.release()
    this.onExceeded(err)
  }
}

/**
 * A node-wide memory budget over every connection, modelled on go-libp2p's
 * resource manager (a system scope over connection scopes, each reserving the
 * memory it holds): connections report what they hold, and when the total
 * passes the budget the connection holding the most is closed, never the
 * process. Reporting is O(1); closing scans the connections once.
 */
export class ResourceManager {
  private readonly scopes = new Set<MemoryScope>()
  private total = 0
  private shedding = false

  constructor(
    /** Bytes all connections together may hold (`network.memoryBudget`). */
    readonly budget: number,
  ) {}

  /** Bytes held by every open connection now. */
  get used(): number {
    return this.total
  }

  /** Connections accounted for. */
  get size(): number {
    return this.scopes.size
  }

  /** A scope for one connection; `onExceeded` closes it when it is the one that must go. */
  open(name: string, onExceeded: (err: RateLimitError) => void): MemoryScope {
    const scope = new MemoryScope(this, name, onExceeded)
    this.scopes.add(scope)
    return scope
  }

  /** @internal */
  adjust(delta: number): void {
    this.total += delta
    if (delta > 0 && this.total > this.budget && !this.shedding) this.shed()
  }

  /** @internal */
  remove(scope: MemoryScope): void {
    if (this.scopes.delete(scope)) this.total -= scope.bytes
  }

  /** Closes the costliest connections until the total is within the budget again. */
  private shed(): void {
    this.shedding = true
    try {
      while (this.total > this.budget) {
        let worst: MemoryScope | undefined
        for (const s of this.scopes) if (!worst || s.bytes > worst.bytes) worst = s
        if (!worst || worst.bytes === 0) return
        const held = worst.bytes
        worst.exceed(
          new RateLimitError(
            `closed the connection of ${worst.name}: it held ${held} bytes, the most of any, when all connections held ${this.total} bytes, more than network.memoryBudget (${this.budget})`,
          ),
        )
      }
    } finally {
      this.shedding = false
    }
  }
}
