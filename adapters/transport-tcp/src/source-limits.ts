import { isIPv4 } from 'node:net'
import { type Connection, type ListenerEvents, RateLimitError } from '@peerkit/core'
import type { EventEmitter } from 'eventemitter3'

/** A socket's remote IP as a plain address (`::ffff:1.2.3.4` is `1.2.3.4`). */
export function sourceAddress(ip: string | undefined): string {
  if (ip === undefined) return 'unknown'
  return ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '')
}

/** The network an address belongs to for limits: its IPv4 /24, or its IPv6 /64. */
export function sourceSubnet(ip: string): string {
  if (isIPv4(ip)) return `${ip.split('.').slice(0, 3).join('.')}.0/24`
  const [head = '', tail] = ip.toLowerCase().split('%')[0]?.split('::') ?? ['']
  const left = head === '' ? [] : head.split(':')
  const right = tail === undefined || tail === '' ? [] : tail.split(':')
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g || '0', 16).toString(16))
    .join(':')}::/64`
}

/**
 * Counts what each source address and each source network (IPv4 /24, IPv6
 * /64) holds of one resource (handshakes in progress, established
 * connections), against a maximum for each. Entries are removed at zero, so
 * the maps hold only sources with something open.
 */
export class SourceLimits {
  private readonly byAddress = new Map<string, number>()
  private readonly bySubnet = new Map<string, number>()

  constructor(
    private readonly perAddress: number,
    private readonly perSubnet: number,
    /** What is counted, and the options that bound it (`tcp.maxHandshakesPerAddress`), for messages. */
    private readonly what: string,
    private readonly options: readonly [string, string],
  ) {}

  /** Takes one for `ip`, or returns why not (nothing taken). */
  acquire(ip: string): string | undefined {
    const subnet = sourceSubnet(ip)
    const a = this.byAddress.get(ip) ?? 0
    if (a >= this.perAddress) return `${a} ${this.what} from ${ip} already (${this.options[0]})`
    const s = this.bySubnet.get(subnet) ?? 0
    if (s >= this.perSubnet) return `${s} ${this.what} from ${subnet} already (${this.options[1]})`
    this.byAddress.set(ip, a + 1)
    this.bySubnet.set(subnet, s + 1)
    return undefined
  }

  release(ip: string): void {
    decrement(this.byAddress, ip)
    decrement(this.bySubnet, sourceSubnet(ip))
  }

  /** What `ip` holds now. */
  held(ip: string): number {
    return this.byAddress.get(ip) ?? 0
  }
}

function decrement(map: Map<string, number>, key: string): void {
  const n = (map.get(key) ?? 0) - 1
  if (n > 0) map.set(key, n)
  else map.delete(key)
}

/** The options tcp's and ws's listeners bound inbound sockets with (the same names in both). */
export interface ListenerLimitOptions {
  readonly maxHandshakes: number
  readonly maxHandshakesPerAddress: number
  readonly maxHandshakesPerSubnet: number
  readonly maxConnectionsPerAddress: number
  readonly maxConnectionsPerSubnet: number
}

/**
 * A listener's bounds on what sources hold: handshakes in progress (at most
 * `maxHandshakes` in all, and per source address and network), then
 * established connections per source. `prefix` (`tcp`, `ws`) names the
 * options in the reasons it gives.
 */
export class ListenerLimits {
  private readonly handshakes: SourceLimits
  private readonly established: SourceLimits

  constructor(
    private readonly options: ListenerLimitOptions,
    private readonly prefix: string,
  ) {
    const names = (kind: string) => [`${prefix}.${kind}PerAddress`, `${prefix}.${kind}PerSubnet`] as const
    this.handshakes = new SourceLimits(
      options.maxHandshakesPerAddress,
      options.maxHandshakesPerSubnet,
      'handshakes in progress',
      names('maxHandshakes'),
    )
    this.established = new SourceLimits(
      options.maxConnectionsPerAddress,
      options.maxConnectionsPerSubnet,
      'connections open',
      names('maxConnections'),
    )
  }

  /** Takes a handshake slot for `ip` while `running` handshakes are in progress, or returns why not. */
  startHandshake(ip: string, running: number): string | undefined {
    const { maxHandshakes } = this.options
    if (running >= maxHandshakes) {
      return `${maxHandshakes} handshakes already in progress (${this.prefix}.maxHandshakes)`
    }
    return this.handshakes.acquire(ip)
  }

  /** The handshake from `ip` ended, whichever way. */
  endHandshake(ip: string): void {
    this.handshakes.release(ip)
  }

  /**
   * A connection from `ip` finished its handshake: the listener emits it as
   * 'connection', or, when `ip` or its network holds its share already,
   * closes it and emits a `RateLimitError`. Its slot is freed when it closes.
   */
  admit(listener: EventEmitter<ListenerEvents>, conn: Connection, ip: string): void {
    const full = this.established.acquire(ip)
    if (full !== undefined) {
      void conn.close()
      listener.emit('error', new RateLimitError(`refused a connection from ${ip}: ${full}`))
      return
    }
    conn.once('close', () => this.established.release(ip))
    listener.emit('connection', conn)
  }
}
