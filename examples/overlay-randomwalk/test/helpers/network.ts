import '@peerkit/index-memory'
import '@peerkit/transfer'
import '@peerkit/transport-memory'
import '../../src/index.js'
import { createHash } from 'node:crypto'
import { TestClock } from '@peerkit/compliance'
import { CLOCK, createPeer, type FileRecord, keywords, type Peer, SeededRandom } from '@peerkit/core'
import { MemoryNetwork, memoryContainer } from '@peerkit/transport-memory'
import type { ExecutionContext } from 'ava'
import type { RandomWalkOptions } from '../../src/index.js'

export interface WalkNet {
  clock: TestClock
  hub: MemoryNetwork
  peers: Peer[]
  names: string[]
  /** Adds a started peer that joins through `via` (peer indexes). */
  add(via: number[], options?: RandomWalkOptions): Promise<Peer>
  /** Sums one stats() counter over every peer still running. */
  total(kind: 'sent' | 'received', message: string): number
}

let nets = 0

/**
 * `n` randomwalk peers on a memory hub in virtual time: peer i joins through
 * one earlier peer chosen from `seed`, so the graph is a random tree that
 * neighbor maintenance then thickens.
 */
export async function walkNet(
  t: ExecutionContext,
  n: number,
  options: RandomWalkOptions = {},
  seed = 1,
): Promise<WalkNet> {
  const clock = new TestClock()
  const hub = new MemoryNetwork()
  const parent = memoryContainer(hub)
  parent.register(CLOCK, { useValue: clock })
  const id = ++nets
  const peers: Peer[] = []
  const names: string[] = []
  t.teardown(() => Promise.allSettled(peers.map((p) => clock.settle(p.stop()))).then(() => {}))
  const add = async (via: number[], extra: RandomWalkOptions = options) => {
    const name = `walk${id}-${peers.length}`
    const peer = await createPeer(
      {
        overlay: 'randomwalk',
        transport: 'memory',
        listen: [`memory://${name}`],
        bootstrap: via.map((i) => `memory://${names[i]}`),
        seed: seed * 1000 + peers.length,
        options: { randomwalk: extra },
      },
      { container: parent },
    )
    peers.push(peer)
    names.push(name)
    await clock.settle(peer.start())
    return peer
  }
  const random = new SeededRandom(seed)
  for (let i = 0; i < n; i++) await add(i === 0 ? [] : [random.int(i)])
  const total = (kind: 'sent' | 'received', message: string) =>
    peers.filter((p) => p.started).reduce((sum, p) => sum + (p.overlay.stats()[kind][message] ?? 0), 0)
  return { clock, hub, peers, names, add, total }
}

export function recordOf(peer: Peer, name: string): FileRecord {
  return {
    hash: createHash('sha256').update(name).digest('hex'),
    name,
    size: 1000,
    chunkSize: 65_536,
    keywords: keywords(name),
    provider: { id: peer.id, addresses: peer.addresses() },
  }
}
