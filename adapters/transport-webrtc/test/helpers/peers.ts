import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import '@peerkit/index-memory'
import '@peerkit/overlay-flooding'
import '@peerkit/transfer'
import '@peerkit/transport-tcp'
import { createPeer, type Peer, type PeerConfigInput } from '@peerkit/core'
import type { ExecutionContext } from 'ava'
import '../../src/index.js'
import { LOOPBACK } from './index.js'

/** A started peer with tcp and webrtc, stopped when the test ends. */
export async function startPeer(t: ExecutionContext, config: Partial<PeerConfigInput>): Promise<Peer> {
  const peer = await createPeer({
    overlay: 'flooding',
    transport: ['tcp', 'webrtc'],
    ...config,
    options: { webrtc: LOOPBACK, ...config.options },
    network: { dialTimeout: 15_000, ...config.network },
  })
  t.teardown(() => peer.stop().catch(() => {})) // teardown: a test that failed may leave the peer half-stopped
  await peer.start()
  return peer
}

/** A folder of its own (removed when the test ends) holding one file of `size` random bytes. */
export async function randomFile(
  t: ExecutionContext,
  size: number,
): Promise<{ dir: string; path: string; data: Buffer }> {
  const dir = await mkdtemp(join(tmpdir(), 'peerkit-webrtc-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const data = randomBytes(size)
  const path = join(dir, 'shared.bin')
  await writeFile(path, data)
  return { dir, path, data }
}
