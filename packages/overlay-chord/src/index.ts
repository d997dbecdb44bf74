/**
 * @packageDocumentation
 * The `chord` overlay: a Chord distributed hash table (Stoica et al., SIGCOMM
 * 2001; IEEE/ACM ToN 2003). Records live at the successor of their keys (the
 * content hash and each keyword) and on the next successors; lookups are
 * iterative and take about ½·log2 N hops. Importing the package registers
 * `chord` in `overlays`.
 *
 * ```ts
 * import '@peerkit/transport-tcp'
 * import '@peerkit/index-memory'
 * import '@peerkit/transfer'
 * import '@peerkit/overlay-chord'
 * import { createPeer } from '@peerkit/core'
 *
 * const peer = await createPeer({
 *   overlay: 'chord',
 *   transport: 'tcp',
 *   listen: ['tcp://127.0.0.1:0'],
 *   bootstrap: ['tcp://127.0.0.1:4001'],
 *   options: { chord: { successors: 8, replication: 3 } },
 * })
 * await peer.start()
 * await peer.share('./videos')
 * for await (const hit of peer.search('harry potter')) console.log(hit.name, hit.hops)
 * await peer.stop()
 * ```
 */
import { OVERLAY, overlays, type Registration } from '@peerkit/core'
import { Lifecycle } from 'tsyringe'
import { ChordOverlay } from './chord-overlay.js'
import { CHORD_OPTIONS, parseChordOptions } from './options.js'

export { ChordOverlay, pickKeyword } from './chord-overlay.js'
export * from './finger-table.js'
export { CHORD_PROTOCOL, type ChordRequest, type ChordResponse } from './messages.js'
export * from './options.js'
export { RecordStore } from './record-store.js'
export * from './ring.js'
export { type ChordNode, ChordRouting, type LookupResult } from './routing.js'

/** Validates the options, then registers `ChordOverlay` (one per container) and `CHORD_OPTIONS`. */
export function chordOverlay(options?: unknown): Registration {
  const opts = parseChordOptions(options ?? {})
  return (c) => {
    c.register(CHORD_OPTIONS, { useValue: opts })
    c.register(OVERLAY, { useClass: ChordOverlay }, { lifecycle: Lifecycle.ContainerScoped })
  }
}

overlays.register('chord', chordOverlay)
