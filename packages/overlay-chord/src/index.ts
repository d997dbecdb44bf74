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
import { IDENTITY, OVERLAY, overlays, type Registration } from '@peerkit/core'
import { Lifecycle } from 'tsyringe'
import { ChordOverlay } from './chord-overlay.js'
import { solvePuzzle, solvesPuzzle } from './id-puzzle.js'
import { CHORD_OPTIONS, parseChordOptions } from './options.js'

export { ChordOverlay, PROTECTED_SHARE, pickKeyword } from './chord-overlay.js'
export * from './finger-table.js'
export * from './id-puzzle.js'
export { CHORD_PROTOCOL, type ChordRequest, type ChordResponse } from './messages.js'
export * from './options.js'
export { type PutResult, RecordStore, recordBytes, type StoreLimits } from './record-store.js'
export { MAX_FORWARDS_IN_FLIGHT, STORE_ROUND_KEYS } from './replication.js'
export * from './ring.js'
export { MAX_ROUTE_HINTS, RouteHints } from './route-hints.js'
export {
  type ChordNode,
  ChordRouting,
  CONNECTED_SNAPSHOT_LOOKUPS,
  type LookupOptions,
  type LookupResult,
} from './routing.js'

/**
 * Validates the options, then registers `ChordOverlay` (one per container) and
 * `CHORD_OPTIONS`. When the container's `IDENTITY` does not solve the id puzzle
 * (`idDifficulty`), it is replaced by the identity `solvePuzzle` derives from it
 * (the same one every time; about 2^idDifficulty key generations).
 */
export function chordOverlay(options?: unknown): Registration {
  const opts = parseChordOptions(options ?? {})
  return (c) => {
    if (opts.idDifficulty > 0 && c.isRegistered(IDENTITY, true)) {
      const identity = c.resolve(IDENTITY)
      if (!solvesPuzzle(identity.peerId, opts.idDifficulty))
        c.register(IDENTITY, { useValue: solvePuzzle(identity, opts.idDifficulty) })
    }
    c.register(CHORD_OPTIONS, { useValue: opts })
    c.register(OVERLAY, { useClass: ChordOverlay }, { lifecycle: Lifecycle.ContainerScoped })
  }
}

overlays.register('chord', chordOverlay)
