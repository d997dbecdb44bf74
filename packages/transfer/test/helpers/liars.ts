import { hashFile } from '@peerkit/content'
import type { Peer } from '@peerkit/core'
import type { ExecutionContext } from 'ava'
import { ChunkServer, TRANSFER_PROTOCOL, type TransferResponse } from '../../src/index.js'

export type Behaviour = 'chunk' | 'manifest' | 'stall' | { delay: number }

/**
 * Replaces `peer`'s `peerkit/transfer/2` handler, over the real wire, with one
 * that serves the file at `path` through a real ChunkServer and then corrupts
 * chunk bytes (`chunk`), corrupts the leaf list (`manifest`), never answers
 * chunk requests (`stall`), or answers each chunk request after `delay` ms.
 * Returns the number of chunk requests served so far.
 */
export async function misbehave(
  t: ExecutionContext,
  peer: Peer,
  path: string,
  behaviour: Behaviour,
): Promise<{ chunkRequests: () => number }> {
  const server = new ChunkServer()
  t.teardown(() => server.close())
  server.add(await hashFile(path))
  let chunkRequests = 0
  peer.network.unhandle(TRANSFER_PROTOCOL)
  peer.network.handle(TRANSFER_PROTOCOL, async (req): Promise<TransferResponse> => {
    if (req.op === 'chunk') chunkRequests++
    if (behaviour === 'stall' && req.op === 'chunk') return new Promise<TransferResponse>(() => {})
    const res = await server.handle(req)
    if (behaviour === 'chunk' && res.op === 'chunk' && res.data.length > 0) {
      const data = Uint8Array.from(res.data)
      data[data.length - 1] = (data[data.length - 1] as number) ^ 0x5a
      return { ...res, data }
    }
    if (behaviour === 'manifest' && res.op === 'manifest') {
      const leaves = Uint8Array.from(res.leaves)
      leaves[0] = (leaves[0] as number) ^ 1
      return { ...res, leaves }
    }
    if (typeof behaviour === 'object' && res.op === 'chunk')
      await new Promise((r) => setTimeout(r, behaviour.delay))
    return res
  })
  return { chunkRequests: () => chunkRequests }
}
