// A third-party overlay, as a plugin author would publish it: plain JavaScript, no decorators, built
// on the published @peerkit/core alone (with tsyringe, zod and eventemitter3). Importing it registers
// the overlay 'one-hop': a peer's neighbors are the peers it is connected to (its bootstrap peers and
// whoever dialed it), and a search asks each neighbor once for the matches among its own shares.
// A host selects it by configuration: { overlay: 'one-hop', plugins: ['./third-party-overlay.mjs'] }.
import 'reflect-metadata' // a plugin must not need its host to have loaded the polyfill first
import {
  defineProtocol,
  hitSchema,
  InvalidOptionsError,
  LOCAL_INDEX,
  NETWORK,
  NotStartedError,
  OVERLAY,
  overlays,
  PEER_CONFIG,
  querySchema,
} from '@peerkit/core'
import { EventEmitter } from 'eventemitter3'
import { instanceCachingFactory } from 'tsyringe'
import { z } from 'zod'

const optionsSchema = z
  .object({
    /** Hits one neighbor returns for one search, at most. @default 100 */
    maxHits: z.number().int().min(1).max(1000).default(100),
  })
  .strict()

const ASK = defineProtocol('acme/one-hop/1', querySchema, z.object({ hits: z.array(hitSchema).max(1000) }))

class OneHopOverlay extends EventEmitter {
  name = 'one-hop'
  #started = false
  #counts = { asks: 0, asked: 0, answers: 0, failed: 0, unreachable: 0 }

  constructor(network, shares, config, options) {
    super()
    this.network = network
    this.shares = shares
    this.config = config
    this.options = options
    this.onConnect = (peer) => this.emit('neighbor:add', peer)
    this.onDisconnect = (peer) => this.emit('neighbor:remove', peer)
  }

  async start() {
    if (this.#started) return
    this.#started = true
    this.network.handle(ASK, async (query) => {
      this.#counts.asked++
      const limit = Math.min(query.limit ?? this.options.maxHits, this.options.maxHits)
      return { hits: await this.shares.search({ ...query, limit }) }
    })
    this.network.on('peer:connect', this.onConnect)
    this.network.on('peer:disconnect', this.onDisconnect)
    await Promise.all(
      this.config.bootstrap.map((address) =>
        this.network.dialAddress(address).catch(() => {
          this.#counts.unreachable++ // reported by stats().unreachable; searches ask whoever is connected
        }),
      ),
    )
  }

  async stop() {
    if (!this.#started) return
    this.#started = false
    this.network.unhandle(ASK)
    this.network.off('peer:connect', this.onConnect)
    this.network.off('peer:disconnect', this.onDisconnect)
  }

  async publish(records) {
    const self = this.network.self()
    // The Index is asynchronous and applies calls in order: issued together, awaited together.
    await Promise.all(
      records.map((r) => this.shares.put({ ...r, provider: { id: self.id, addresses: r.provider.addresses } })),
    )
  }

  async unpublish(hashes) {
    await Promise.all(hashes.map((hash) => this.shares.remove(hash, this.network.peerId)))
  }

  async *search(query, options = {}) {
    if (!this.#started) throw new NotStartedError('one-hop: search before start (or after stop)')
    const deadline = Date.now() + (options.timeout ?? Number.POSITIVE_INFINITY)
    const limit = query.limit ?? Number.POSITIVE_INFINITY
    // A hash comes again when a later neighbor adds providers; at most `limit` distinct hashes.
    const found = new Map()
    const fresh = (hits) => {
      const out = []
      for (const hit of hits) {
        const known = found.get(hit.hash) ?? (found.size < limit ? new Map() : undefined)
        if (!known) continue
        const before = known.size
        for (const p of hit.providers) if (!known.has(p.id)) known.set(p.id, p)
        found.set(hit.hash, known)
        if (known.size > before) out.push({ ...hit, providers: [...known.values()] })
      }
      return out
    }
    yield* fresh(await this.shares.search(query))
    for (const peer of this.network.peers()) {
      const left = deadline - Date.now()
      if (left <= 0) return
      let answer
      try {
        this.#counts.asks++
        const timeout = Number.isFinite(left) ? left : undefined
        answer = await this.network.request(peer, ASK, query, { signal: options.signal, timeout })
      } catch (err) {
        if (options.signal?.aborted) throw err
        this.#counts.failed++ // this neighbor is skipped; stats().failed counts it
        continue
      }
      this.#counts.answers++
      for (const hit of fresh(answer.hits)) yield { ...hit, hops: 1 }
    }
  }

  async *providers(hash, options = {}) {
    const seen = new Set()
    for await (const hit of this.search({ hash }, options)) {
      for (const p of hit.providers) if (!seen.has(p.id) && seen.add(p.id)) yield p
    }
  }

  neighbors() {
    return this.network.peers()
  }

  role() {
    return 'peer'
  }

  stats() {
    const { asks, asked, answers, failed, unreachable } = this.#counts
    return { sent: { ask: asks }, received: { ask: asked, answer: answers }, failed, unreachable }
  }
}

/** The registration factory: validates the options first, as every peerkit factory does. */
export function oneHopOverlay(options) {
  const parsed = optionsSchema.safeParse(options ?? {})
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new InvalidOptionsError(`one-hop.${issue?.path.join('.') || '(options)'}: ${issue?.message}`)
  }
  const opts = Object.freeze(parsed.data)
  return (c) =>
    c.register(OVERLAY, {
      useFactory: instanceCachingFactory(
        (cc) =>
          new OneHopOverlay(cc.resolve(NETWORK), cc.resolve(LOCAL_INDEX), cc.resolve(PEER_CONFIG), opts),
      ),
    })
}

overlays.register('one-hop', oneHopOverlay)
