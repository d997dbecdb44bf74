// src/index.ts
// A plugin must not need its host to have loaded the polyfill first (it may be preloaded alone).
import 'reflect-metadata'
/**
 * @packageDocumentation
 * `randomwalk`: search by k random walkers. Importing the package registers
 * it; a peer names it with `overlay: 'randomwalk'` (and
 * `plugins: ['@peerkit/example-overlay-randomwalk']` to load it by name).
 */
import { OVERLAY, overlays, type Registration } from '@peerkit/core'
import { Lifecycle } from 'tsyringe'
import { parseRandomWalkOptions } from './options.js'
import { RandomWalkOverlay } from './random-walk-overlay.js'
import { RANDOM_WALK_OPTIONS } from './tokens.js'

export { CHECK, JOIN, LEAVE, REPORT, WALK } from './messages.js'
export { Neighbors } from './neighbors.js'
export {
  PROTOCOL_MAX_TTL,
  parseRandomWalkOptions,
  type RandomWalkOptions,
  type ResolvedRandomWalkOptions,
} from './options.js'
export { RandomWalkOverlay, type RandomWalkSearchOptions } from './random-walk-overlay.js'
export { SearchSession } from './search-session.js'
export { RANDOM_WALK_OPTIONS } from './tokens.js'

/** Validates the options (before any container exists), then registers the overlay into a peer's container. */
export function randomWalkOverlay(options?: unknown): Registration {
  const opts = parseRandomWalkOptions(options)
  return (c) => {
    c.register(RANDOM_WALK_OPTIONS, { useValue: opts })
    c.register(OVERLAY, { useClass: RandomWalkOverlay }, { lifecycle: Lifecycle.ContainerScoped })
  }
}

overlays.register('randomwalk', randomWalkOverlay)
