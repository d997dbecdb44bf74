import type { Listener, ListenerEvents } from '@peerkit/core'
import { EventEmitter } from 'eventemitter3'
import { memoryAddress } from './address.js'
import type { Endpoint } from './memory-connection.js'
import type { MemoryNetwork } from './memory-network.js'

/** A name bound on the hub; emits `connection` once the dialer has proven its PeerId. */
export class MemoryListener extends EventEmitter<ListenerEvents> implements Listener {
  readonly [Symbol.toStringTag] = '@peerkit/transport-memory:MemoryListener'
  private isClosed = false
  /** `memory://name`, made with the first `addresses()` (asked at every identify and `self()`), then kept. */
  private address: string | undefined

  constructor(
    readonly name: string,
    /** The transport that listens. */
    readonly endpoint: Endpoint,
    private readonly network: MemoryNetwork,
  ) {
    super()
  }

  get closed(): boolean {
    return this.isClosed
  }

  addresses(): string[] {
    if (this.isClosed) return []
    this.address ??= memoryAddress(this.name)
    return [this.address]
  }

  /** Frees the name; open connections stay open. */
  async close(): Promise<void> {
    if (this.isClosed) return
    this.isClosed = true
    this.network.unbind(this.name, this)
    this.endpoint.forget(this)
    this.emit('close')
  }
}
