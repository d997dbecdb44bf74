import type { Connection, Listener, ListenerEvents } from '@peerkit/core'
import type { TcpListener } from '@peerkit/transport-tcp/parts'
import { EventEmitter } from 'eventemitter3'
import { withPath } from './secure.js'

/** What the listener asks its transport. */
export interface NatListenerOwner {
  /** True when the transport takes this inbound connection itself (a push it waits for, a dial-back). */
  intercept(conn: Connection): boolean
  /** The addresses to advertise, from the TCP listener's own. */
  advertise(tcp: string[]): string[]
  /** The listener closed. */
  listenerClosed(listener: NatListener): void
}

/**
 * The TCP listener, seen through the NAT transport: its inbound connections
 * (path `direct`), plus the relayed, pushed and hole-punched connections the
 * transport makes for it; its addresses are the ones that work from outside
 * (a dial-back proved them), else this peer's relayed addresses.
 */
export class NatListener extends EventEmitter<ListenerEvents> implements Listener {
  readonly [Symbol.toStringTag] = '@peerkit/nat:NatListener'

  constructor(
    readonly tcp: TcpListener,
    private readonly owner: NatListenerOwner,
  ) {
    super()
    tcp.on('connection', (conn) => {
      if (!owner.intercept(conn)) this.emit('connection', withPath(conn, 'direct'))
    })
    tcp.on('error', (err) => this.emit('error', err))
    tcp.once('close', () => {
      owner.listenerClosed(this)
      this.emit('close')
    })
  }

  /** A connection the transport made for this listener (relayed, pushed, hole-punched). */
  deliver(conn: Connection): void {
    this.emit('connection', conn)
  }

  /** The TCP listener's own addresses (as bound). */
  boundAddresses(): string[] {
    return this.tcp.addresses()
  }

  addresses(): string[] {
    return this.owner.advertise(this.tcp.addresses())
  }

  close(): Promise<void> {
    return this.tcp.close()
  }
}
