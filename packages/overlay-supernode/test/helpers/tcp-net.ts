import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPeer, type Peer } from '@peerkit/core'
import '@peerkit/index-memory'
import '@peerkit/transfer'
import '@peerkit/transport-tcp'
import '../../src/index.js'
import type { SupernodeOptions, SupernodeOverlay } from '../../src/index.js'

/**
 * Options that make a small test network settle and recover fast. Heartbeats
 * are slow (5 s): a machine starved of CPU cannot make a leaf fail over a live
 * supernode; a dead one is noticed at once by its closed connections.
 */
export const FAST: SupernodeOptions = {
  leavesPerSupernode: 8,
  hopTimeout: 300,
  heartbeatInterval: 5000,
  failoverTimeout: 2000,
  electionDelay: 300,
  maintenanceInterval: 200,
  refreshInterval: 1000,
  demoteAfter: 0,
}

export const overlayOf = (peer: Peer) => peer.overlay as SupernodeOverlay

export interface TcpNet {
  peers: Peer[]
  /** A scratch folder, removed at teardown. */
  dir: string
  supernodes(): Peer[]
  /** The peers attached to `sn`. */
  leavesOf(sn: Peer): Peer[]
  /** Writes `bytes` as `name` into a fresh share folder of `peer` and shares it. */
  share(peer: Peer, name: string, bytes: Uint8Array): Promise<void>
}

/**
 * `n` peers over TCP on 127.0.0.1 (port 0), each bootstrapping from the one
 * before it, started in order; waits (bounded) until every peer is a
 * supernode or attached to one. All stopped at teardown.
 */
export async function tcpNet(
  t: { teardown(fn: () => unknown): void },
  n: number,
  options: SupernodeOptions = FAST,
): Promise<TcpNet> {
  const dir = await mkdtemp(join(tmpdir(), 'peerkit-supernode-'))
  const peers: Peer[] = []
  t.teardown(async () => {
    await Promise.allSettled(peers.map((p) => p.stop()))
    await rm(dir, { recursive: true, force: true })
  })
  for (let i = 0; i < n; i++) {
    const before = peers[i - 1]
    const peer = await createPeer({
      overlay: 'supernode',
      transport: 'tcp',
      listen: ['tcp://127.0.0.1:0'],
      bootstrap: before ? before.addresses() : [],
      dataDir: join(dir, `p${i}`, 'data'),
      options: { supernode: options },
      // A safety bound for a starved machine: a dial that takes longer fails the test.
      network: { dialTimeout: 30_000 },
    })
    peers.push(peer)
    await peer.start()
  }
  const settled = await until(40_000, () =>
    peers.every((p) => overlayOf(p).role() === 'supernode' || overlayOf(p).supernode() !== undefined),
  )
  if (!settled) throw new Error('the test network did not settle within 40 s')
  let shares = 0
  return {
    peers,
    dir,
    supernodes: () => peers.filter((p) => p.started && overlayOf(p).role() === 'supernode'),
    leavesOf: (sn) => peers.filter((p) => p.started && overlayOf(p).supernode()?.id === sn.id),
    async share(peer, name, bytes) {
      const folder = join(dir, `share${++shares}`)
      await mkdir(folder, { recursive: true })
      await writeFile(join(folder, name), bytes)
      await peer.share(folder)
    },
  }
}

/** Waits (bounded) until `probe` is true, polling every 25 ms. */
export async function until(ms: number, probe: () => boolean | Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + ms
  for (;;) {
    try {
      if (await probe()) return true
    } catch {
      // not yet
    }
    if (Date.now() >= deadline) return false
    await new Promise((r) => setTimeout(r, 25))
  }
}
