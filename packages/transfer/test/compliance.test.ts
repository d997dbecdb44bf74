import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { transferSuite } from '@peerkit/compliance'
import type { Peer } from '@peerkit/core'
import test from 'ava'
import { refOf, startPeers, tempDir, type Wire } from './helpers/peers.js'

for (const wire of ['memory', 'tcp'] as Wire[]) {
  transferSuite(test, {
    name: wire,
    async peers(t, n) {
      const peers: Peer[] = await startPeers(t, n as 4, { wire })
      const root = await tempDir(t)
      return Promise.all(
        peers.map(async (p, i) => {
          const dir = join(root, `p${i}`)
          await mkdir(dir, { recursive: true })
          return { ref: refOf(p), transfer: p.transfer, dir }
        }),
      )
    },
  })
}
