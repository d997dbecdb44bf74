import { chunkCount, chunkingError, commitsTo, equalBytes, HASH_SIZE, merkleRoot } from '@peerkit/content'
import { type ContentHash, type Network, type PeerRef, ProtocolError, VerificationError } from '@peerkit/core'
import { MAX_CHUNKS, MAX_LEAVES_PER_MESSAGE, type ManifestResponse, TRANSFER_PROTOCOL } from './messages.js'

export { MAX_CHUNKS }

/** What a download needs to know about a file before it fetches chunks. */
export interface Manifest {
  size: number
  chunkSize: number
  count: number
  /** The Merkle root over the leaves; with the size and chunk size it gives the content hash. */
  root: Uint8Array
  /** Every leaf hash, checked against the root. */
  leaves: Uint8Array
}

/** What the downloader already knows of the file (from the search hit or record), checked against the manifest. */
export interface ExpectedFile {
  size?: number | undefined
  chunkSize?: number | undefined
}

/**
 * Checks a manifest page's header before anything is allocated for the
 * leaves: the chunking must be the one the size gives, the count the one the
 * chunking gives, the size what the caller expects, and (size, chunk size,
 * root) must give `hash`. Throws `ProtocolError` for an impossible header and
 * `VerificationError` for one that does not match the hash or the expectation.
 */
export function checkManifestHeader(
  hash: ContentHash,
  res: ManifestResponse,
  expected: ExpectedFile = {},
): void {
  const bad = chunkingError(res.size, res.chunkSize)
  if (bad) throw new ProtocolError(`manifest of ${hash} has an impossible chunking: ${bad}`)
  const count = chunkCount(res.size, res.chunkSize)
  if (res.count !== count)
    throw new ProtocolError(
      `manifest of ${hash} claims ${res.count} chunks; a ${res.size}-byte file has ${count}`,
    )
  if (res.count > MAX_CHUNKS)
    throw new ProtocolError(`file of ${res.count} chunks is over the limit (${MAX_CHUNKS})`)
  if (expected.size !== undefined && res.size !== expected.size)
    throw new VerificationError(
      `manifest of ${hash} says ${res.size} bytes; the file is ${expected.size} bytes`,
    )
  if (expected.chunkSize !== undefined && res.chunkSize !== expected.chunkSize) {
    throw new VerificationError(
      `manifest of ${hash} says chunks of ${res.chunkSize} bytes; the file has ${expected.chunkSize}`,
    )
  }
  if (!commitsTo(hash, res))
    throw new VerificationError(`manifest size, chunk size and root do not give the content hash ${hash}`)
}

/**
 * Fetches a file's leaf list from one provider, page by page, and checks it:
 * the first page's header (size, chunk size, count, root) against the content
 * hash and `expected` before the leaf list is allocated (so a provider cannot
 * make this peer allocate for a file it made up), every page's shape and
 * header against the first, and the leaves against the root. Throws
 * `VerificationError` or `ProtocolError` for a provider that lies.
 */
export async function fetchManifest(
  network: Network,
  provider: PeerRef,
  hash: ContentHash,
  options: { signal?: AbortSignal; timeout: number; expected?: ExpectedFile },
): Promise<Manifest> {
  const { expected, ...requestOptions } = options
  let manifest: Manifest | undefined
  for (let from = 0; manifest === undefined || from < manifest.count; ) {
    const res = await network.request(
      provider,
      TRANSFER_PROTOCOL,
      { op: 'manifest', hash, from, count: MAX_LEAVES_PER_MESSAGE },
      requestOptions,
    )
    if (res.op !== 'manifest') throw new ProtocolError(`expected a manifest, got '${res.op}'`)
    if (!manifest) {
      checkManifestHeader(hash, res, expected)
      manifest = {
        size: res.size,
        chunkSize: res.chunkSize,
        count: res.count,
        root: Uint8Array.from(res.root),
        leaves: new Uint8Array(res.count * HASH_SIZE),
      }
    }
    const want = Math.min(MAX_LEAVES_PER_MESSAGE, manifest.count - from) * HASH_SIZE
    if (
      res.from !== from ||
      res.size !== manifest.size ||
      res.chunkSize !== manifest.chunkSize ||
      res.count !== manifest.count ||
      !equalBytes(res.root, manifest.root) ||
      res.leaves.length !== want
    ) {
      throw new ProtocolError(`manifest page at ${from} of ${hash} has the wrong shape`)
    }
    manifest.leaves.set(res.leaves, from * HASH_SIZE)
    from += want / HASH_SIZE
  }
  if (!manifest || !equalBytes(merkleRoot(manifest.leaves), manifest.root)) {
    throw new VerificationError(`leaf list does not match the Merkle root of ${hash}`)
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
