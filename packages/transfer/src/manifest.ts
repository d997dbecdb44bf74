import { chunkCount, chunkSizeFor, HASH_SIZE, merkleRoot, toHex } from '@peerkit/content'
import { type ContentHash, type Network, type PeerRef, ProtocolError, VerificationError } from '@peerkit/core'
import { MAX_LEAVES_PER_MESSAGE, TRANSFER_PROTOCOL } from './messages.js'

/** Files with more chunks than this are refused (their leaf list alone would be 128 MiB). */
export const MAX_CHUNKS = 1 << 22

/** What a download needs to know about a file before it fetches chunks. */
export interface Manifest {
  size: number
  chunkSize: number
  count: number
  /** Every leaf hash, checked against the content hash. */
  leaves: Uint8Array
}

/**
 * Fetches a file's leaf list from one provider, page by page, and checks it:
 * the size must give the announced chunk size and count, every page must have
 * the right shape, and the leaves must give `hash` as their Merkle root.
 * Throws `VerificationError` or `ProtocolError` for a provider that lies.
 */
export async function fetchManifest(
  network: Network,
  provider: PeerRef,
  hash: ContentHash,
  options: { signal?: AbortSignal; timeout: number },
): Promise<Manifest> {
  let manifest: Manifest | undefined
  for (let from = 0; manifest === undefined || from < manifest.count; ) {
    const res = await network.request(
      provider,
      TRANSFER_PROTOCOL,
      { op: 'manifest', hash, from, count: MAX_LEAVES_PER_MESSAGE },
      options,
    )
    if (res.op !== 'manifest') throw new ProtocolError(`expected a manifest, got '${res.op}'`)
    if (!manifest) {
      if (res.chunkSize !== chunkSizeFor(res.size) || res.count !== chunkCount(res.size, res.chunkSize)) {
        throw new VerificationError(`manifest of ${hash} has an impossible size/chunking`)
      }
      if (res.count > MAX_CHUNKS) throw new ProtocolError(`file of ${res.count} chunks is over the limit`)
      manifest = {
        size: res.size,
        chunkSize: res.chunkSize,
        count: res.count,
        leaves: new Uint8Array(res.count * HASH_SIZE),
      }
    }
    const expected = Math.min(MAX_LEAVES_PER_MESSAGE, manifest.count - from) * HASH_SIZE
    if (res.from !== from || res.size !== manifest.size || res.leaves.length !== expected) {
      throw new ProtocolError(`manifest page at ${from} of ${hash} has the wrong shape`)
    }
    manifest.leaves.set(res.leaves, from * HASH_SIZE)
    from += expected / HASH_SIZE
  }
  if (!manifest || toHex(merkleRoot(manifest.leaves)) !== hash) {
    throw new VerificationError(`leaf list does not match the content hash ${hash}`)
  }
  return manifest
}

/** Why a provider is dropped, from the error its request failed with (the `source:dropped` reason). */
export function reasonOf(err: Error, what: string): string {
  switch (err.name) {
    case 'NotFoundError':
    case 'InvalidOptionsError':
      return `not found: does not serve ${what} (${err.message})`
    case 'VerificationError':
    case 'ProtocolError':
      return `sent bad data: ${what}: ${err.message}`
    case 'TimeoutError':
      return `stalled: ${what}: ${err.message}`
    case 'PeerUnreachableError':
      return `disconnected: ${err.message}`
    default:
      return `unreachable: ${what}: ${err.name}: ${err.message}`
  }
}
