import { EventEmitter } from 'eventemitter3'
import { inject, injectable, Lifecycle } from 'tsyringe'
import {
  type Connection,
  type ContentHash,
  type DialOptions,
  type Download,
  type FileRecord,
  type Hit,
  IDENTITY,
  type Identity,
  INDEX_FACTORY,
  type Index,
  indexes,
  type Listener,
  type ListenerEvents,
  LOCAL_INDEX,
  matches,
  Network,
  OVERLAY,
  type Overlay,
  type OverlayEvents,
  overlays,
  PeerUnreachableError,
  type Query,
  type Registration,
  TRANSFER,
  TRANSPORT,
  type Transfer,
  type Transport,
  toHits,
  transfers,
  transports,
} from '../../src/index.js'
import { connectionPair } from './pair.js'

/** Stub contracts for core's own composition tests: the smallest honest implementations. */

const stubListeners = new Map<string, { id: string; listener: StubListener }>()

class StubListener extends EventEmitter<ListenerEvents> implements Listener {
  constructor(private readonly address: string) {
    super()
  }
  addresses() {
    return [this.address]
  }
  async close() {
    stubListeners.delete(this.address)
    this.emit('close')
  }
}

@injectable()
export class StubTransport implements Transport {
  readonly name = 'stub'
  constructor(@inject(IDENTITY) private readonly identity: Identity) {}
  handles(address: string) {
    return address.startsWith('stub://')
  }
  async listen(address: string): Promise<Listener> {
    const listener = new StubListener(address)
    stubListeners.set(address, { id: this.identity.peerId, listener })
    return listener
  }
  async dial(address: string, options?: DialOptions): Promise<Connection> {
    const target = stubListeners.get(address)
    if (!target) throw new PeerUnreachableError(`nothing at ${address}`)
    if (options?.peer && options.peer !== target.id) throw new PeerUnreachableError('wrong peer')
    const [mine, theirs] = connectionPair(this.identity.peerId, target.id)
    target.listener.emit('connection', theirs)
    return mine
  }
  async close() {}
}

export class ArrayIndex implements Index {
  readonly durable = false
  private items: FileRecord[] = []
  async open() {}
  async close() {}
  async put(r: FileRecord) {
    await this.remove(r.hash, r.provider.id)
    this.items.push(r)
  }
  async remove(hash: ContentHash, provider?: string) {
    const before = this.items.length
    this.items = this.items.filter(
      (r) => !(r.hash === hash && (provider === undefined || r.provider.id === provider)),
    )
    return before - this.items.length
  }
  async removeProvider(provider: string) {
    const before = this.items.length
    this.items = this.items.filter((r) => r.provider.id !== provider)
    return before - this.items.length
  }
  async get(hash: ContentHash) {
    return this.items.filter((r) => r.hash === hash)
  }
  async search(q: Query): Promise<Hit[]> {
    return toHits(this.items.filter((r) => matches(r, q))).slice(0, q.limit)
  }
  async *records() {
    yield* [...this.items]
  }
  async count() {
    return this.items.length
  }
  async clear() {
    this.items = []
  }
  async expire() {
    return 0
  }
}

/** A transfer that "shares" a name given as the path, with a made-up hash: enough to drive the facade. */
@injectable()
export class StubTransfer implements Transfer {
  constructor(
    @inject(LOCAL_INDEX) private readonly shares: Index,
    @inject(Network) private readonly network: Network,
  ) {}
  async start() {}
  async stop() {}
  async share(path: string): Promise<FileRecord[]> {
    const hash = Buffer.from(path.padEnd(32, '.').slice(0, 32)).toString('hex')
    const record: FileRecord = {
      hash,
      name: path,
      size: 1,
      chunkSize: 65536,
      keywords: path.toLowerCase().split(/[^a-z0-9]+/),
      provider: this.network.self(),
    }
    await this.shares.put(record)
    return [record]
  }
  async unshare(hashes: ContentHash[]) {
    for (const h of hashes) await this.shares.remove(h)
  }
  download(): Download {
    throw new Error('not used in these tests')
  }
  downloads() {
    return []
  }
}

/** A throw-away overlay from outside core: it answers searches from the local shares only. */
@injectable()
export class SoloOverlay extends EventEmitter<OverlayEvents> implements Overlay {
  readonly name = 'solo'
  published: FileRecord[] = []
  running = false
  constructor(@inject(LOCAL_INDEX) private readonly shares: Index) {
    super()
  }
  async start() {
    this.running = true
  }
  async stop() {
    this.running = false
  }
  async publish(records: FileRecord[]) {
    this.published.push(...records)
  }
  async unpublish(hashes: ContentHash[]) {
    this.published = this.published.filter((r) => !hashes.includes(r.hash))
  }
  async *search(query: Query) {
    yield* await this.shares.search(query)
  }
  async *providers(hash: ContentHash) {
    for (const r of await this.shares.get(hash)) yield r.provider
  }
  neighbors() {
    return []
  }
  role() {
    return 'solo'
  }
  stats() {
    return { sent: {}, received: {} }
  }
}

export const stubTransport = (): Registration => (c) =>
  c.register(TRANSPORT, { useClass: StubTransport }, { lifecycle: Lifecycle.ContainerScoped })
export const arrayIndex = (): Registration => (c) =>
  c.register(INDEX_FACTORY, { useValue: () => new ArrayIndex() })
export const stubTransfer = (): Registration => (c) =>
  c.register(TRANSFER, { useClass: StubTransfer }, { lifecycle: Lifecycle.ContainerScoped })

/** A configuration naming the stubs registered by `registerStubs` (add `listen`). */
export const STUB_PEER = { overlay: 'solo', transport: 'stub', index: 'array', transfer: 'stub' } as const

/** Registers the stubs by name: transport `stub`, index `array`, transfer `stub`, overlay `solo`. */
export function registerStubs(): void {
  transports.register('stub', () => stubTransport())
  indexes.register('array', () => arrayIndex())
  transfers.register('stub', () => stubTransfer())
  overlays.register(
    'solo',
    () => (c) => c.register(OVERLAY, { useClass: SoloOverlay }, { lifecycle: Lifecycle.ContainerScoped }),
  )
}
