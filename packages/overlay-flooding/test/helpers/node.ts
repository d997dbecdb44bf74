import { createHash } from 'node:crypto'
import {
  buildPeerContainer,
  type ContentHash,
  type FileRecord,
  keywords,
  LOGGER,
  Network,
  OVERLAY,
  type PeerId,
  type PeerRef,
  silentLogger,
} from '@peerkit/core'
import type { ExecutionContext } from 'ava'
import type { DependencyContainer } from 'tsyringe'
import {
  FLOODING,
  type FloodingMessage,
  type FloodingOptions,
  type FloodingOverlay,
  floodingOverlay,
} from '../../src/index.js'

export interface TestNode {
  network: Network
  overlay: FloodingOverlay
  container: DependencyContainer
  stop(): Promise<void>
}

export interface NodeOptions {
  /** A parent container (a shared MemoryNetwork hub …). */
  parent: DependencyContainer
  transport: 'memory' | 'tcp'
  listen: string[]
  bootstrap?: string[]
  flooding?: FloodingOptions
  transportOptions?: unknown
  seed?: number
}

/**
 * One node: a real Network over a real transport, the memory Index as its
 * shares, and the flooding overlay, in its own child container (the parts
 * createPeer wires, without a Transfer). Stopped at the test's teardown.
 */
export async function startNode(t: ExecutionContext | undefined, o: NodeOptions): Promise<TestNode> {
  const c = baseContainer(o)
  floodingOverlay(o.flooding)(c)
  const network = c.resolve(Network)
  const overlay = c.resolve(OVERLAY) as FloodingOverlay
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    await overlay.stop()
    await network.stop()
    await c.dispose()
  }
  t?.teardown(stop)
  await network.start()
  await overlay.start()
  return { network, overlay, container: c, stop }
}

export interface RawNode {
  network: Network
  /** Every flooding message it received, with the sender. */
  inbox: { from: PeerId; msg: FloodingMessage }[]
  /**
   * Resolves when a message of `kind` is in the inbox (at once if one is); rejects after `ms` of real
   * time: a bounded wait for an event, for the tests over real sockets.
   */
  received(kind: FloodingMessage['kind'], ms: number): Promise<void>
}

/**
 * A peer that speaks `peerkit/flooding/1` by hand through a real Network (no
 * overlay): the test decides every message it sends. It answers pings with an
 * empty, accepting pong.
 */
export async function startRaw(
  t: ExecutionContext,
  o: Omit<NodeOptions, 'flooding' | 'bootstrap'>,
): Promise<RawNode> {
  const c = baseContainer(o)
  const network = c.resolve(Network)
  const inbox: RawNode['inbox'] = []
  const waiting = new Set<() => void>()
  network.handle(FLOODING, (msg, ctx) => {
    inbox.push({ from: ctx.peer.id, msg })
    for (const wake of waiting) wake()
    return msg.kind === 'ping'
      ? { kind: 'pong' as const, accepted: true, addresses: network.addresses(), peers: [] }
      : null
  })
  t.teardown(async () => {
    await network.stop()
    await c.dispose()
  })
  await network.start()
  const received = (kind: FloodingMessage['kind'], ms: number) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!inbox.some((m) => m.msg.kind === kind)) return
        clearTimeout(timer)
        waiting.delete(check)
        resolve()
      }
      const timer = setTimeout(() => {
        waiting.delete(check)
        reject(new Error(`no ${kind} message within ${ms} ms`))
      }, ms)
      waiting.add(check)
      check()
    })
  return { network, inbox, received }
}

function baseContainer(o: NodeOptions): DependencyContainer {
  return buildPeerContainer(
    {
      overlay: 'flooding',
      transport: o.transport,
      listen: o.listen,
      bootstrap: o.bootstrap ?? [],
      seed: o.seed,
      options: { flooding: o.flooding ?? {}, [`transport:${o.transport}`]: o.transportOptions },
      network: { dialTimeout: 3000, requestTimeout: 3000 },
    },
    {
      container: o.parent,
      components: ['transport', 'index'],
      register: (c) => {
        if (!o.parent.isRegistered(LOGGER, true)) c.register(LOGGER, { useValue: silentLogger() })
      },
    },
  )
}

/** A record for a file of this node, with a content hash derived from its name. */
export function recordFor(self: PeerRef, name: string): FileRecord {
  return {
    hash: hashOf(name),
    name,
    size: name.length * 1000,
    chunkSize: 65536,
    keywords: keywords(name),
    provider: self,
  }
}

export function hashOf(name: string): ContentHash {
  return createHash('sha256').update(name).digest('hex')
}

/** Hop distances from `from` over the nodes' current neighbor lists (breadth-first). */
export function distances(
  nodes: readonly { network: { peerId: PeerId }; overlay: { neighbors(): PeerRef[] } }[],
  from: number,
): number[] {
  const byId = new Map(nodes.map((n, i) => [n.network.peerId, i]))
  const dist = nodes.map(() => Number.POSITIVE_INFINITY)
  dist[from] = 0
  const queue = [from]
  while (queue.length > 0) {
    const i = queue.shift() as number
    for (const nb of nodes[i]?.overlay.neighbors() ?? []) {
      const j = byId.get(nb.id)
      if (j !== undefined && dist[j] === Number.POSITIVE_INFINITY) {
        dist[j] = (dist[i] as number) + 1
        queue.push(j)
      }
    }
  }
  return dist
}
