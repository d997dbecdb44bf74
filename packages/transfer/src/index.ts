/**
 * @packageDocumentation
 * The default Transfer of peerkit: serves chunks of shared files over
 * `peerkit/transfer/2` and downloads verified chunks from many providers at
 * once, with resume. Importing it registers the name `default` in `transfers`.
 *
 * ```ts
 * import '@peerkit/transfer'
 * import { createPeer } from '@peerkit/core'
 *
 * const peer = await createPeer({ overlay: 'flooding', transport: 'tcp', listen: ['tcp://127.0.0.1:0'],
 *   options: { default: { maxInFlightPerPeer: 8 } } })
 * await peer.start()
 * await peer.share('./videos')
 * const dl = peer.download(hash, { to: './hp.mkv' })
 * dl.on('progress', (p) => console.log(p.bytes, '/', p.size))
 * await dl.done
 * ```
 */
import { type Registration, TRANSFER, transfers } from '@peerkit/core'
import { Lifecycle } from 'tsyringe'
import { ChunkTransfer } from './chunk-transfer.js'
import { parseTransferOptions } from './options.js'
import { TRANSFER_OPTIONS } from './tokens.js'

export { ByteRate } from './byte-rate.js'
export { ChunkDownload, PROVIDER_RETRY_MAX, PROVIDER_RETRY_MIN } from './chunk-download.js'
export { ChunkPicker, type ChunkPickerOptions, formatRanges } from './chunk-picker.js'
export { ChunkServer, type SharedFile } from './chunk-server.js'
export { ChunkTransfer } from './chunk-transfer.js'
export {
  checkManifestHeader,
  type ExpectedFile,
  fetchManifest,
  MAX_CHUNKS,
  type Manifest,
} from './manifest.js'
export * from './messages.js'
export * from './options.js'
export { PartFile, type PartFileSpec } from './part-file.js'
export { RateMeter } from './rate-meter.js'
export { TRANSFER_OPTIONS } from './tokens.js'

/** Registers the default transfer (and its validated options) into a peer's container. */
export function defaultTransfer(options?: unknown): Registration {
  const opts = parseTransferOptions(options)
  return (c) => {
    c.register(TRANSFER_OPTIONS, { useValue: opts })
    c.register(TRANSFER, { useClass: ChunkTransfer }, { lifecycle: Lifecycle.ContainerScoped })
  }
}

transfers.register('default', defaultTransfer)
