import {
  type Clock,
  type FileRecord,
  type PeerId,
  RateLimitError,
  recordGrams,
  type SignedFileRecord,
} from '@peerkit/core'
import { MAX_RECORDS_PER_MESSAGE, type RequestOf } from './messages.js'
import type { ParsedChordOptions } from './options.js'
import type { RecordStore } from './record-store.js'
import type { HandOn } from './request-handler.js'
import type { Ring } from './ring.js'
import { RouteHints } from './route-hints.js'
import type { ChordNode, ChordRouting, LookupOptions, LookupResult, Rpc } from './routing.js'

/** What replication needs of its overlay. */
export interface ReplicationContext {
  ring: Ring
  routing: ChordRouting
  store: RecordStore
  options: ParsedChordOptions
  clock: Clock
  call: Rpc
  /** Sends a one-way message (to this node itself it is handled locally). */
  post(node: ChordNode, message: RequestOf<'hand_on'>, signal?: AbortSignal): Promise<void>
  running(): boolean
  /** Aborts when the overlay stops. */
  signal(): AbortSignal
  /** Keys a store round looks up before it sends their stores (`STORE_ROUND_KEYS`; tests set fewer). */
  storeRoundKeys?: number
}

/**
 * Keys one round of a publish looks up before it sends their stores, grouped
 * by holder: the round keeps each key's `replication` holders and their
 * records (about 100 B a holder and key: at most about 1.2 MB at the default
 * `replication` 3). A provider's refresh of 10,000 records (some 220,000
 * keys) runs in rounds of this many keys.
 */
export const STORE_ROUND_KEYS = 4096

/**
 * Forwarded stores of one sender a node hands on at once: one more is refused
 * with `RateLimitError` and nothing of it is handed on. A forwarded store makes
 * this node send up to `replication` copies of each of its records, and a
 * sender that sends its stores one-way waits for no answer: without the bound
 * it would queue that many times what it sends at this node's successor
 * connections. A provider sends one node's stores of a round one after
 * another (`sendStores`), so an honest one has about one in flight at a node.
 */
export const MAX_FORWARDS_IN_FLIGHT = 8

/**
 * Where records go: publishing under every key of a record (content hash,
 * keywords and n-grams) to the key's first `replication` successors, withdrawing them,
 * handing keys over to a node that joins, and seeding new replicas.
 */
export class Replication {
  /** Ids of the successors this node last copied its primary records to. */
  private replicaSet: bigint[] = []
  /**
   * Keys of the records this node publishes, by record object (a publish or
   * refresh signs new ones). Records held for others are not kept here: a
   * maintenance pass over them tests their keys (`someKey`) from the ring's
   * bounded cache of records' keys: an array of some twenty keys (about 750
   * bytes) per record held would cost more than the record.
   */
  private readonly keys = new WeakMap<FileRecord, bigint[]>()
  /** Forwarded stores being handed on, by sender (at most `MAX_FORWARDS_IN_FLIGHT` each); made with the first. */
  private forwarding: Map<PeerId, number> | undefined

  constructor(private readonly c: ReplicationContext) {}

  /**
   * The keys a record is stored under: its content hash, each of its
   * keywords, and up to `maxGramKeys` n-grams of them (computed once per record object).
   */
  keysOf(record: FileRecord): bigint[] {
    let keys = this.keys.get(record)
    if (keys === undefined) {
      const { ring, options } = this.c
      keys = [ring.contentKey(record.hash), ...record.keywords.map((k) => ring.keywordKey(k))]
      for (const g of recordGrams(record.keywords, options.maxGramKeys)) keys.push(ring.gramKey(g))
      this.keys.set(record, keys)
    }
    return keys
  }

  /**
   * Whether `test` holds for some key of `record`, in `keysOf`'s order (a
   * node that receives a record mostly holds it under one of its twenty-odd
   * keys, and a record as it arrives is a new object each time: its keys come
   * from the ring's cache of records' keys, `Ring.recordKeys`).
   */
  someKey(record: FileRecord, test: (key: bigint) => boolean): boolean {
    const keys = this.keysFor(record)
    for (let i = 0; i < keys.length; i++) if (test(keys[i] as bigint)) return true
    return false
  }

  /**
   * A record's keys in `keysOf`'s order, for `someKey` or a caller's own pass (a node testing every
   * record it receives passes its test there, one function at that call site, not one of many here):
   * this provider's own from `keysOf`, another's from the ring's cache. Never change the array.
   */
  keysFor(record: FileRecord): readonly bigint[] {
    return (
      this.keys.get(record) ??
      this.c.ring.recordKeys(record.hash, record.keywords, this.c.options.maxGramKeys)
    )
  }

  /** The nodes that hold a key: the first `replication` of its successor list. */
  holders(nodes: ChordNode[]): ChordNode[] {
    return nodes.slice(0, this.c.options.replication)
  }

  /**
   * Publishes signed records at the successor of each of their keys and its
   * next `replication - 1` successors. The keys are looked up first (at most
   * `STORE_ROUND_KEYS` of them per round), then each holder gets the round's
   * records in one `store` (one with `primary` for the records of the keys it
   * succeeds, one for those it holds only as a replica), each record once
   * however many of its keys the holder holds; a store that would pass
   * `MAX_RECORDS_PER_MESSAGE` records is split.
   */
  async store(records: SignedFileRecord[]): Promise<void> {
    if (records.length === 0 || !this.c.running()) return
    const items = this.byKey(records)
    const hints = this.hints()
    const round = this.c.storeRoundKeys ?? STORE_ROUND_KEYS
    const self = this.c.routing.self
    for (let from = 0; from < items.length && this.c.running(); from += round) {
      const batches = new ForwardBatches()
      // A store goes to the node that answered `done` (`by`): the answers need name no holder, and no
      // fallback but the closest node (a failed one's namer is asked again, told to avoid it); each node
      // asked passes the lookup on over its own connections.
      await this.lookupEach(
        items.slice(from, from + round),
        hints,
        1,
        async ({ by }, recs) => {
          batches.add(by ?? self, recs)
        },
        hints !== undefined, // relayed (`LookupOptions.relay`), but not with `disjointPaths` above 1
      )
      await this.sendStores(batches.requests())
    }
  }

  /**
   * Sends a forwarded store's records on to their holders, one-way (see
   * `HandlerContext.handOn`); refuses with `RateLimitError`, sending nothing,
   * while `MAX_FORWARDS_IN_FLIGHT` of `from`'s are still being sent.
   */
  async handOn(from: PeerId, batches: readonly HandOn[]): Promise<void> {
    if (batches.length === 0) return
    this.forwarding ??= new Map()
    const busy = this.forwarding.get(from) ?? 0
    if (busy >= MAX_FORWARDS_IN_FLIGHT)
      throw new RateLimitError(
        `chord refused a forwarded store from ${from}: ${busy} of its forwarded stores are still being handed on (MAX_FORWARDS_IN_FLIGHT)`,
      )
    this.forwarding.set(from, busy + 1)
    const signal = this.c.signal()
    try {
      await Promise.all(
        batches.map(({ node, records, ttls, primary }) => {
          const message: RequestOf<'hand_on'> = primary
            ? { type: 'hand_on', records, ttls, primary }
            : { type: 'hand_on', records, ttls }
          return this.c.post(node, message, signal).catch(() => {}) // a holder that failed gets them at the provider's next refresh
        }),
      )
    } finally {
      const left = (this.forwarding.get(from) ?? 1) - 1
      if (left > 0) this.forwarding.set(from, left)
      else this.forwarding.delete(from)
    }
  }

  /**
   * Sends the stores of one round, to `concurrency` × `replication` nodes at a
   * time; one node's stores (`ForwardBatches` splits one past
   * `MAX_RECORDS_PER_MESSAGE` records, and gives them in a row) one after
   * another, within the forwarded stores it hands on at once for one sender
   * (`MAX_FORWARDS_IN_FLIGHT`).
   */
  private async sendStores(requests: { node: ChordNode; request: RequestOf<'store'> }[]): Promise<void> {
    const { concurrency, replication } = this.c.options
    let next = 0
    const worker = async () => {
      while (next < requests.length && this.c.running()) {
        const from = next
        const { node } = requests[next++] as (typeof requests)[0]
        while (next < requests.length && (requests[next] as (typeof requests)[0]).node.id === node.id) next++
        const end = next
        for (let i = from; i < end && this.c.running(); i++) {
          const { request } = requests[i] as (typeof requests)[0]
          await this.c.call(node, request, this.c.signal()).catch(() => {}) // a store lost here is made again at the next refresh
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency * replication, requests.length) }, worker))
  }

  /** Withdraws this provider's records from every key they were published under. */
  async remove(records: FileRecord[]): Promise<void> {
    await this.forEachKey(records, async ({ nodes }, recs) => {
      const request: RequestOf<'remove'> = { type: 'remove', hashes: [...new Set(recs.map((r) => r.hash))] }
      await Promise.allSettled(this.holders(nodes).map((n) => this.c.call(n, request)))
    })
  }

  /** Copies held records (with their providers' signatures) to another node with the lifetime they have left here. */
  async push(node: ChordNode, held: FileRecord[]): Promise<void> {
    const now = this.c.clock.now()
    const records = held
      .map((r) => this.c.store.signed(r))
      .filter((r): r is SignedFileRecord => r !== undefined && r.expires > now)
    for (let i = 0; i < records.length; i += MAX_RECORDS_PER_MESSAGE) {
      const batch = records.slice(i, i + MAX_RECORDS_PER_MESSAGE)
      const ttls = batch.map((r) => this.c.store.remaining(r, now))
      await this.c.call(node, { type: 'replicate', records: batch, ttls })
    }
  }

  /** Gives new members of the replica set (the next `replication - 1` successors) this node's primary records. */
  maintain(): void {
    const { routing, options } = this.c
    if (!routing.predecessor || options.replication < 2) return
    const want = routing.successors.slice(0, options.replication - 1)
    const fresh = want.filter((n) => !this.replicaSet.includes(n.id))
    this.replicaSet = want.map((n) => n.id)
    if (fresh.length === 0) return
    const records = this.primaryRecords()
    if (records.length === 0) return
    for (const n of fresh) this.push(n, records).catch(() => {}) // providers' refreshes reach replicas anyway
  }

  /**
   * A node joined just before us: it takes over the keys in (old predecessor,
   * new]. A node that was alone hands over every key outside (new, n]. After
   * the old predecessor failed, the new one owns nothing of ours: no hand-over.
   */
  predecessorChanged(previous: ChordNode | undefined, next: ChordNode | undefined): void {
    const { ring, routing, store, options } = this.c
    this.replicaSet = [] // the primary range changed: re-seed the replicas at the next stabilize
    if (!next || !this.c.running()) return
    if (!previous && routing.successors.length > 0) return
    const from = previous?.id ?? routing.id
    const theirs = store.records().filter((r) => this.someKey(r, (k) => ring.within(k, from, next.id, '(]')))
    if (theirs.length === 0) return
    this.push(next, theirs)
      .then(() => {
        if (options.replication > 1) return // we stay a replica of what we handed over
        const owns = routing.ownsTest()
        for (const r of theirs) if (!this.someKey(r, owns)) store.remove(r.hash, r.provider.id)
      })
      .catch(() => {}) // kept here: the records stay until their provider's refresh reaches the newcomer
  }

  /**
   * Records stored here as their key's successor of which this node owns no
   * key (a newcomer took the range over while the store was on its way; the
   * store's handler found them as it kept the rest): passed on to the
   * predecessor, the newcomer, instead of waiting for the provider's next
   * refresh. Only the ones held here go (`push`).
   */
  passOn(strays: FileRecord[]): void {
    const p = this.c.routing.predecessor
    if (!p || !this.c.running()) return
    this.push(p, strays).catch(() => {}) // the provider's next refresh finds the owner
  }

  reset(): void {
    this.replicaSet = []
  }

  /** Records this node is the first holder of: some key in (predecessor, n]. */
  private primaryRecords(): FileRecord[] {
    const owns = this.c.routing.ownsTest()
    return this.c.store.records().filter((r) => this.someKey(r, owns))
  }

  /**
   * Looks up every key of the records (`concurrency` at a time) and runs `fn`
   * with the key's holders (the first `replication` nodes of its successor
   * list) and its records.
   */
  private async forEachKey<R extends FileRecord>(
    records: R[],
    fn: (found: LookupResult, records: R[]) => Promise<void>,
  ): Promise<void> {
    await this.lookupEach(this.byKey(records), this.hints(), this.c.options.replication, fn)
  }

  /** The records by key, keys in the order the records give them. */
  private byKey<R extends FileRecord>(records: R[]): [bigint, R[]][] {
    const byKey = new Map<bigint, R[]>()
    for (const r of records) {
      for (const key of this.keysOf(r)) {
        const list = byKey.get(key)
        if (list) list.push(r)
        else byKey.set(key, [r])
      }
    }
    return [...byKey]
  }

  /**
   * The `RouteHints` the lookups of one batch share: each starts from the
   * nodes that answered the ones before it, closest to its key. None with
   * `disjointPaths` above 1: a node that answered one lookup, or one it named
   * that answered, could otherwise be asked about the others.
   */
  private hints(): RouteHints<ChordNode> | undefined {
    return this.c.options.disjointPaths > 1 ? undefined : new RouteHints<ChordNode>()
  }

  /**
   * Looks up the keys of `items` (`concurrency` at a time) and runs `fn` with
   * what each found; each answer names at most `answers` nodes
   * (`LookupOptions.answers`): the key's first holders when it is done, the
   * closest preceding nodes otherwise; with `relay`, each node asked passes
   * the lookup on itself (`LookupOptions.relay`).
   */
  private async lookupEach<R extends FileRecord>(
    items: [bigint, R[]][],
    hints: RouteHints<ChordNode> | undefined,
    answers: number,
    fn: (found: LookupResult, records: R[]) => Promise<void>,
    relay = false,
  ): Promise<void> {
    let next = 0
    // One options object for the batch's lookups (a lookup reads it, never changes it).
    const options: LookupOptions = { signal: this.c.signal(), hints, answers, relay }
    const worker = async () => {
      while (next < items.length && this.c.running()) {
        const [key, recs] = items[next++] as [bigint, R[]]
        await this.c.routing
          .lookup(key, options)
          .then((found) => fn(found, recs))
          .catch(() => {}) // one key's lookup or store failed: the next refresh tries it again
      }
    }
    await Promise.all(Array.from({ length: Math.min(this.c.options.concurrency, items.length) }, worker))
  }
}

/**
 * The records one store round sends to each node that answered the lookups of
 * their keys (a `store` with `forward`, which that node hands on to the keys'
 * holders): by node, each record once. The requests go in the reverse order
 * the nodes were found: the connections to the last ones are the likeliest to
 * be open still.
 */
export class ForwardBatches {
  private readonly byNode = new Map<bigint, { node: ChordNode; records: Set<SignedFileRecord> }>()

  /** `node` answered the lookup of a key of `records`. */
  add(node: ChordNode, records: readonly SignedFileRecord[]): void {
    let batch = this.byNode.get(node.id)
    if (batch === undefined) {
      batch = { node, records: new Set() }
      this.byNode.set(node.id, batch)
    }
    for (const r of records) batch.records.add(r)
  }

  /** Nodes added. */
  get size(): number {
    return this.byNode.size
  }

  /** The store requests, latest node first, each cut at `MAX_RECORDS_PER_MESSAGE`. */
  requests(): { node: ChordNode; request: RequestOf<'store'> }[] {
    const out: { node: ChordNode; request: RequestOf<'store'> }[] = []
    const batches = [...this.byNode.values()]
    for (let b = batches.length - 1; b >= 0; b--) {
      const { node, records } = batches[b] as (typeof batches)[0]
      const list = [...records]
      for (let i = 0; i < list.length; i += MAX_RECORDS_PER_MESSAGE) {
        const part =
          list.length <= MAX_RECORDS_PER_MESSAGE ? list : list.slice(i, i + MAX_RECORDS_PER_MESSAGE)
        out.push({ node, request: { type: 'store', records: part, forward: true } })
      }
    }
    return out
  }
}
