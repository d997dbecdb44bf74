import { hashFile } from '@peerkit/content'
import type { Peer } from '@peerkit/core'
import { ChunkServer, TRANSFER_PROTOCOL, type TransferResponse } from '../../src/index.js'

export type Lie = 'chunk' | 'manifest' | 'stall'

/**
 * Turns `peer` into a misbehaving provider of the file at `path`, over the
 * real wire: its `peerkit/transfer/1` handler is replaced by one that serves
 * the file through a real ChunkServer and then corrupts chunk bytes, corrupts
 * the leaf list, or never answers chunk requests.
 */
export async function makeLiar(peer: Peer, path: string, lie: Lie): Promise<void> {
  const server = new ChunkServer()
  server.add(await hashFile(path))
  peer.network.unhandle(TRANSFER_PROTOCOL)
  peer.network.handle(TRANSFER_PROTOCOL, async (req): Promise<TransferResponse> => {
    const res = await server.handle(req)
    if (lie === 'chunk' && res.op === 'chunk' && res.data.length > 0) {
      const data = Uint8Array.from(res.data)
      data[data.length - 1] = (data[data.length - 1] as number) ^ 0x5a
      return { ...res, data }
    }
    if (lie === 'manifest' && res.op === 'manifest') {
      const leaves = Uint8Array.from(res.leaves)
      leaves[0] = (leaves[0] as number) ^ 1
      return { ...res, leaves }
    }
    if (lie === 'stall' && res.op === 'chunk') return new Promise<TransferResponse>(() => {})
    return res
  })
}
