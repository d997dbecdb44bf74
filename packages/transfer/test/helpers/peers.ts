import '@peerkit/index-memory'
import '@peerkit/transport-memory'
import '@peerkit/transport-tcp'
import '../../src/index.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type ContentHash,
  createPeer,
  type Hit,
  OVERLAY,
  type Overlay,
  type OverlayEvents,
  type OverlayStats,
  overlays,
  type Peer,
  type PeerRef,
} from '@peerkit/core'
import { MemoryNetwork, memoryContainer } from '@peerkit/transport-memory'
import type { ExecutionContext } from 'ava'
import { EventEmitter } from 'eventemitter3'
import { Lifecycle } from 'tsyringe'

/**
 * A test-only overlay that finds nothing: these tests hand the providers to
 * `download()` themselves, so the transfer is exercised on its own.
 */
export class NoOverlay extends EventEmitter<OverlayEvents> implements Overlay {
  readonly name = 'test-none'
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async publish(): Promise<void> {}
  async unpublish(): Promise<void> {}
  async *search(): AsyncIterable<Hit> {}
  async *providers(_hash: ContentHash): AsyncIterable<PeerRef> {}
  neighbors(): PeerRef[] {
    return []
  }
  role(): string {
    return 'peer'
  }
  stats(): OverlayStats {
    return { sent: {}, received: {} }
  }
}

if (!overlays.has('test-none')) {
  overlays.register('test-none', () => (c) => {
    c.register(OVERLAY, { useClass: NoOverlay }, { lifecycle: Lifecycle.ContainerScoped })
  })
}

export type Wire = 'memory' | 'tcp'

export interface PeersOptions {
  wire: Wire
  /** Options of the default transfer. */
  transfer?: Record<string, unknown>
  /** For the memory wire: the hub (with its latency and bandwidth). */
  network?: MemoryNetwork
  /** The overlay (default `test-none`, which finds nothing). */
  overlay?: string
}

let counter = 0

/** A temporary folder removed after the test. */
export async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'peerkit-transfer-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** A tuple of `N` peers, so tests destructure without non-null assertions. */
export type Peers<N extends 1 | 2 | 3 | 4> = N extends 1
  ? [Peer]
  : N extends 2
    ? [Peer, Peer]
    : N extends 3
      ? [Peer, Peer, Peer]
      : [Peer, Peer, Peer, Peer]

/** `n` started peers on the chosen wire, each with its own data folder; stopped after the test. */
export async function startPeers<N extends 1 | 2 | 3 | 4>(
  t: ExecutionContext,
  n: N,
  options: PeersOptions,
): Promise<Peers<N>> {
  const dir = await tempDir(t)
  const container =
    options.wire === 'memory' ? memoryContainer(options.network ?? new MemoryNetwork()) : undefined
  const peers: Peer[] = []
  for (let i = 0; i < n; i++) {
    const name = `p${process.pid}-${++counter}`
    const peer = await createPeer(
      {
        overlay: options.overlay ?? 'test-none',
        transport: options.wire,
        listen: [options.wire === 'memory' ? `memory://${name}` : 'tcp://127.0.0.1:0'],
        dataDir: join(dir, `peer-${i}`),
        seed: 1000 + i,
        options: { default: { noProviderTimeout: 5000, ...options.transfer } },
      },
      { container },
    )
    t.teardown(() => peer.stop())
    await peer.start()
    peers.push(peer)
  }
  return peers as Peers<N>
}

/** How other peers reach `peer`. */
export function refOf(peer: Peer): PeerRef {
  return peer.network.self()
}

/** The memory node name of a peer (`memory://NAME` → `NAME`). */
export function nodeName(peer: Peer): string {
  const address = peer.network.addresses()[0] ?? ''
  return address.replace(/^memory:\/\//, '')
}

/** Resolves on the first event for which `test` holds, or rejects after `ms`. */
export function until<T>(
  subscribe: (fn: (value: T) => void) => () => void,
  test: (value: T) => boolean,
  ms: number,
  what: string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off()
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`))
    }, ms)
    const off = subscribe((value) => {
      if (!test(value)) return
      clearTimeout(timer)
      off()
      resolve(value)
    })
  })
}
